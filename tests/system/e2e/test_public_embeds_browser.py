"""The embeddable cards in Chromium: framed by a page of another site, readable, accessible.

A second HTTP server on another port (another origin) serves a newsroom's page that frames a
commitment's and an agreement's card, as the "Embed this" snippet says; Chromium must show
them (our ``frame-ancestors *`` on the cards), and must refuse to frame any other page of
ours. axe-core checks each card, in English and in French: no serious or critical violation.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page

from commitments.models import Agreement, Commitment
from commitments.translations import localized_text
from publicsite.embeds import default_size, iframe_html
from tests.system.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)

DEFENCE = "japan-defence-spending-2-percent-gdp"
WIDTHS = (1280, 390)


@pytest.fixture
def newsroom(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve ``tmp_path`` from another origin (127.0.0.1 on another port): a newsroom's site."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def _snippet_code(obj: Agreement | Commitment, lang: str, site: str) -> str:
    """Return the ``<iframe>`` code the public page's "Embed this" block offers to copy."""
    width, height = default_size(obj)
    with translation.override(lang):
        code = str(iframe_html(obj, lang, width, height))
    # The site address in settings is the production one; the test's server is elsewhere.
    return code.replace(settings.SITE_URL.rstrip("/"), site)


def _serious(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_newsroom_page_frames_the_cards(
    seeded, live_server, newsroom, page, shoot, request, lang
):
    origin, folder = newsroom
    commitment = Commitment.objects.select_related("agreement").get(key=DEFENCE)
    agreement = commitment.agreement
    (folder / "story.html").write_text(
        Template(
            '<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">'
            "<title>Story</title></head><body><h1>A newsroom's story</h1>"
            "<p>What was promised:</p>{{ commitment_code|safe }}"
            "<p>The whole summit:</p>{{ agreement_code|safe }}"
            '<h2>Not embeddable</h2><iframe id="login" src="{{ login }}" title="login">'
            "</iframe></body></html>"
        ).render(
            Context(
                {
                    "lang": lang,
                    "commitment_code": _snippet_code(commitment, lang, live_server.url),
                    "agreement_code": _snippet_code(agreement, lang, live_server.url),
                    "login": f"{live_server.url}/accounts/login/",
                }
            )
        ),
        encoding="utf-8",
    )
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1400})
        page.goto(f"{origin}/story.html")
        commitment_card = page.frame_locator("iframe").nth(0)
        agreement_card = page.frame_locator("iframe").nth(1)
        heading = commitment_card.locator("h1")
        heading.wait_for()
        assert localized_text(commitment, "title", lang) in heading.inner_text()
        assert localized_text(agreement, "title", lang) in agreement_card.locator("h1").inner_text()
        assert agreement_card.locator("meter").first.is_visible()
        link = commitment_card.locator("h1 a")
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener"
        shoot(page, f"{lang}-{width}")
        for number, name in enumerate(("commitment", "agreement")):
            page.locator("iframe").nth(number).screenshot(
                path=str(ARTIFACTS / f"{request.node.name}-{width}-{name}-card.png")
            )

    # Our other pages refuse to be framed: Chromium never loads the login form in the frame.
    login_frame = page.frame(url=f"{live_server.url}/accounts/login/")
    assert login_frame is None or login_frame.locator("form").count() == 0


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_cards_have_no_serious_accessibility_violation(seeded, live_server, page, lang):
    commitment = Commitment.objects.select_related("agreement").get(key=DEFENCE)
    for path in (
        f"/public/{lang}/embed/commitments/{commitment.key}/",
        f"/public/{lang}/embed/agreements/{commitment.agreement.key}/",
    ):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            assert page.locator("h1").is_visible()
            assert _serious(page) == [], path
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow} px wider than {width} px"


def test_the_embed_snippet_opens_and_holds_the_code(seeded, live_server, page, shoot):
    commitment = Commitment.objects.get(key=DEFENCE)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/public/fr/commitments/{commitment.key}/")
        code = page.locator(".embed-snippet textarea")
        assert not code.is_visible()
        page.locator(".embed-snippet summary").click()
        assert code.is_visible()
        assert code.get_attribute("readonly") is not None
        assert code.input_value().startswith(
            f'<iframe src="{settings.SITE_URL.rstrip("/")}/public/fr/embed/commitments/{DEFENCE}/"'
        )
        # Its label names it: the snippet is found by the words a reader sees.
        # (The page is French: the label in French, as the catalogue gives it.)
        with translation.override("fr"):
            label = gettext("Copy this code into your page to show this card:")
        assert label != "Copy this code into your page to show this card:"
        assert page.get_by_label(label).is_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        assert _serious(page) == []
        code.scroll_into_view_if_needed()
        page.locator(".embed-snippet").screenshot(
            path=str(ARTIFACTS / f"test_embed_snippet-{width}.png")
        )
        shoot(page, f"snippet-{width}")
