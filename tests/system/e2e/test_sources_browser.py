"""Issue 14 in a browser: the admin's agreement page fits 1,280 px with errors showing, the
commitment form shows only the chosen rule's fields, and the source pages read on any screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commitments.models import Agreement, Citation, Commitment
from commitments.services import sources as svc
from tests.commitments.test_sources import STATEMENT

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP, PHONE = 1280, 390


def _width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def staff_editor(logged_in, editor_login):
    editor_login.is_staff = True
    editor_login.save(update_fields=["is_staff"])
    return logged_in


def test_the_agreement_page_fits_1280_px_with_inline_errors_on_screen(
    staff_editor, live_server, shoot
):
    page = staff_editor
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    agreement = Agreement.objects.filter(commitments__isnull=False).distinct().first()
    page.goto(f"{live_server.url}/admin/commitments/agreement/{agreement.pk}/change/")
    assert _width(page) <= DESKTOP
    title = page.locator("input[name='commitments-0-title']")
    title.fill("")
    page.locator("input[name='_continue']").click()
    expect(page.locator(".errornote")).to_be_visible()
    shoot(page, "agreement-errors-1280")
    assert _width(page) <= DESKTOP
    error = page.locator(".inline-related .errorlist").first
    error.scroll_into_view_if_needed()
    box = error.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP


def test_the_commitment_form_shows_only_the_chosen_rules_fields(staff_editor, live_server, shoot):
    page = staff_editor
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    commitment = Commitment.objects.filter(deadline_kind="relative").first()
    page.goto(f"{live_server.url}/admin/commitments/commitment/{commitment.pk}/change/")
    kind = page.locator("select[name='deadline_kind']")
    expect(page.locator("input[name='offset_amount']")).to_be_visible()
    expect(page.locator("input[name='deadline_date']")).to_be_hidden()
    expect(page.locator("select[name='period_unit']")).to_be_hidden()
    kind.select_option("fixed")
    expect(page.locator("input[name='deadline_date']")).to_be_visible()
    expect(page.locator("input[name='offset_amount']")).to_be_hidden()
    kind.select_option("period_end")
    expect(page.locator("select[name='period_unit']")).to_be_visible()
    expect(page.locator("input[name='deadline_date']")).to_be_hidden()
    kind.select_option("none")
    expect(page.locator("select[name='period_unit']")).to_be_hidden()
    expect(page.locator("input[name='deadline_phrase']")).to_be_visible()
    shoot(page, "rule-none")
    # The agreement's blocks toggle their own rows the same way.
    page.goto(f"{live_server.url}/admin/commitments/agreement/{commitment.agreement_id}/change/")
    id_name = page.locator(
        f"input[name^='commitments-'][name$='-id'][value='{commitment.pk}']"
    ).get_attribute("name")
    prefix = id_name.removesuffix("id")
    expect(page.locator(f"input[name='{prefix}offset_amount']")).to_be_visible()
    page.locator(f"select[name='{prefix}deadline_kind']").select_option("fixed")
    expect(page.locator(f"input[name='{prefix}offset_amount']")).to_be_hidden()
    expect(page.locator(f"input[name='{prefix}deadline_date']")).to_be_visible()


def test_the_source_pages_read_on_a_desktop_and_a_phone_in_both_languages(
    logged_in, live_server, editor_login, shoot
):
    page = logged_in
    source = svc.source_create(
        user=editor_login, text=STATEMENT, title="Joint Statement on a United States–European "
        "Union framework on an agreement on reciprocal, fair and balanced trade",
        publisher="European Commission", language="en", published_on="2025-08-21",
        kind="official", url="https://ec.europa.eu/commission/presscorner/detail/en/statement_25_1974",
    )
    commitment = Commitment.objects.first()
    cite = Citation(source=source, commitment=commitment, quote="$750 billion through 2028")
    svc.citation_place(cite, required=True)
    cite.save()
    for language in ("en", "fr"):
        page.goto(f"{live_server.url}/")
        page.select_option("#language", language)
        page.locator("form.lang button").click()
        for width in (DESKTOP, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in [("source", f"/sources/{source.pk}/"), ("add", "/sources/add/"),
                               ("list", "/sources/")]:
                page.goto(f"{live_server.url}{path}")
                assert page.locator("html").get_attribute("lang") == language
                shoot(page, f"{name}-{language}-{width}")
                assert _width(page) <= width, (name, language, width)
        mark = page.locator(f"#cite-{cite.pk}")
        page.goto(f"{live_server.url}/sources/{source.pk}/")
        expect(mark).to_have_text("$750 billion through 2028")
