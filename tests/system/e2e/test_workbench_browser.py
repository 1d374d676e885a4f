"""The EU–US joint statement of 21 August 2025 entered through the workbench, as an analyst
would: paste the text, select four passages, check the proposals, save once.

Issue 14 measured 33 page loads and 132 typed fields for this in the admin; the workbench
must do it in at most 8 page loads and 40 typed fields, with the due dates right.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from commitments.models import Agreement, Citation, Commitment
from tests.support import eu_us_statement as eu_us

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SELECT = """([passage]) => {
  const items = [...document.querySelectorAll('#source-text li')];
  const item = items.find((li) => li.textContent.includes(passage));
  const node = item.firstChild;
  const start = node.textContent.indexOf(passage);
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, start + passage.length);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}"""


class Typist:
    """Fills fields and counts them: the measure of what the analyst types."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def fill(self, selector: str, value: str) -> None:
        self.page.fill(selector, value)
        self.count += 1


def _overflow(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _cite(page: Page, passage: str, index: int) -> None:
    page.evaluate(SELECT, [passage])
    page.click("#cite-selection")
    expect(page.locator(f"#draft-c-{index}")).to_be_visible()


def test_the_eu_us_statement_through_the_workbench(live_server, editor_login, page, shoot):
    loads: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )
    typist = Typist(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/accounts/login/")
    typist.fill("#id_username", editor_login.username)
    typist.fill("#id_password", PASSWORD)
    page.locator("form.login button").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="Workbench").click()
    typist.fill("#id_title", "EU–US framework on reciprocal trade")
    page.select_option("#id_kind", "joint_statement")
    typist.fill("#id_date", "2025-08-21")
    typist.fill("#id_place", "Washington")
    page.select_option("#id_parties", label="United States")
    typist.fill("#id_new_parties", "European Union")
    page.select_option("#id_new_party_kind", "organisation")
    typist.fill("#id_text", eu_us.TEXT)
    typist.fill("#id_source_title", eu_us.TITLE)
    typist.fill("#id_publisher", "European Commission")
    typist.fill("#id_published_on", "2025-08-21")
    page.get_by_role("button", name="Open the workbench").click()
    page.wait_for_url(re.compile(r"/workbench/\d+/\?"))
    expect(page.locator("#source-text li")).to_have_count(7)

    _cite(page, eu_us.TARIFF, 0)
    _cite(page, eu_us.ENERGY, 1)
    _cite(page, eu_us.INVESTMENT, 2)
    _cite(page, eu_us.REVIEW, 3)
    drafts = [page.locator(f"#draft-c-{n}") for n in range(4)]
    # The parser's proposals, pre-filled and marked.
    expect(drafts[0].locator('[name="c-0-target_amount"]')).to_have_value("15")
    expect(drafts[0].locator('[name="c-0-effective_from"]')).to_have_value("2025-08-01")
    expect(drafts[1].locator('[name="c-1-target_amount"]')).to_have_value("750000000000")
    expect(drafts[1]).to_contain_text("proposed from «through 2028»")
    expect(drafts[1].locator("output.preview")).to_contain_text("Due 2028")
    expect(drafts[1].locator("output.preview")).to_contain_text("known to the year")
    expect(drafts[3].locator("output.preview")).to_contain_text("Due Nov. 19, 2025")
    expect(drafts[3].locator('[name="c-3-locator"]')).to_have_value("¶ 6")
    # Only the chosen rule's fields are shown.
    expect(drafts[3].locator('[name="c-3-offset_amount"]')).to_be_visible()
    expect(drafts[3].locator('[name="c-3-period_year"]')).to_be_hidden()
    # The due date follows the rule as it is typed (htmx preview).
    typist.fill('[name="c-3-offset_amount"]', "60")
    expect(drafts[3].locator("output.preview")).to_contain_text("Due Oct. 20, 2025")
    typist.fill('[name="c-3-offset_amount"]', "90")
    expect(drafts[3].locator("output.preview")).to_contain_text("Due Nov. 19, 2025")

    for index, (category, obligor) in enumerate(
        [("tariff", "United States"), ("purchase", "European Union"),
         ("investment", "European Union"), ("meeting", "United States")]
    ):
        page.select_option(f'[name="c-{index}-category"]', category)
        page.select_option(f'[name="c-{index}-obligor"]', label=obligor)
    drafts[3].get_by_label("European Union").check()
    typist.fill('[name="c-0-title"]', "Tariff ceiling of 15 % on EU goods")
    typist.fill('[name="c-1-title"]', "EU purchases of US energy")
    typist.fill('[name="c-2-title"]', "EU companies' investment in the US")
    typist.fill('[name="c-3-title"]', "Review of the framework")

    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "en-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    assert _overflow(page) <= 0
    shoot(page, "en-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Save all").click()
    page.wait_for_url(re.compile(r"/agreements/\d+/$"))
    expect(page.locator("body")).to_contain_text("4 commitments saved")

    assert len(loads) <= 8, loads
    assert typist.count <= 40
    print(f"workbench entry: {len(loads)} page loads, {typist.count} typed fields")

    agreement = Agreement.objects.get(title="EU–US framework on reciprocal trade")
    assert agreement.time_zone == "America/New_York"
    due = {c.title: (c.due_date, c.due_precision) for c in agreement.commitments.all()}
    assert due == {
        "Tariff ceiling of 15 % on EU goods": (None, ""),
        "EU purchases of US energy": (dt.date(2028, 12, 31), "year"),
        "EU companies' investment in the US": (dt.date(2028, 12, 31), "year"),
        "Review of the framework": (dt.date(2025, 11, 19), "day"),
    }
    energy = agreement.commitments.get(title="EU purchases of US energy")
    assert energy.target_amount == 750_000_000_000 and energy.target_unit == "USD"
    for citation in Citation.objects.filter(commitment__agreement=agreement):
        assert citation.quote == citation.source.text[citation.start : citation.end]
    assert Commitment.objects.filter(agreement=agreement).count() == 4

    # The same workbench in French, for the screenshots: the saved agreement, one passage.
    page.select_option("#language", "fr")
    page.locator("form.lang button").click()
    source = Citation.objects.filter(commitment__agreement=agreement).first().source
    page.goto(f"{live_server.url}/workbench/{source.pk}/?agreement={agreement.pk}")
    _cite(page, eu_us.REVIEW, 0)
    expect(page.locator("#draft-c-0 output.preview")).to_contain_text("19 novembre 2025")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "fr-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    assert _overflow(page) <= 0
    shoot(page, "fr-390")


def test_a_selection_after_an_emoji_cites_the_words_selected(logged_in, editor_login):
    """The browser counts UTF-16 code units (🇪🇺 is four), the server code points (two): the
    span sent must be the server's, so the quote is the words the editor selected."""
    from commitments.services.sources import source_create
    from tests import factories

    text = "Preamble 🇪🇺.\n\nThe EU 🇪🇺 will buy energy within 90 days."
    source = source_create(
        user=editor_login, text=text, title="Emoji statement", publisher="Test",
        language="en", published_on=dt.date(2025, 8, 21), kind="official",
    )
    eu, us = factories.party_make(name="EU emoji"), factories.party_make(name="US emoji")
    agreement = factories.agreement_make(parties=[eu, us], date=dt.date(2025, 8, 21))
    page = logged_in
    page.goto(f"{page.url}workbench/{source.pk}/?agreement={agreement.pk}")
    _cite(page, "within 90 days", 0)
    draft = page.locator("#draft-c-0")
    start = text.index("within 90 days")
    expect(draft.locator('[name="c-0-quote"]')).to_have_value("within 90 days")
    expect(draft.locator('[name="c-0-start"]')).to_have_value(str(start))
    expect(draft.locator('[name="c-0-end"]')).to_have_value(str(start + len("within 90 days")))
    expect(draft.locator('[name="c-0-locator"]')).to_have_value("¶ 2")
    expect(draft.locator("output.preview")).to_contain_text("Due Nov. 19, 2025")
