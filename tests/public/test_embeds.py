"""The embeddable cards and oEmbed: what a newsroom pastes into its own pages."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from commitments.services.assessments import assessment_record
from commitments.services.commitments import (
    agreement_update,
    commitment_change_status,
    commitment_update,
)
from tests import factories

pytestmark = pytest.mark.django_db

SITE = settings.SITE_URL.rstrip("/")


def embed(kind: str, key: str, lang: str = "en") -> str:
    return reverse(f"public:embed_{kind}", kwargs={"lang": lang, "key": key})


def page(kind: str, key: str, lang: str = "en") -> str:
    return SITE + reverse(f"public:{kind}", kwargs={"lang": lang, "key": key})


def oembed(client, **params):
    return client.get(reverse("public:oembed", kwargs={"lang": "en"}), params)


def text_of(response) -> str:
    """Return the page's text without tags or repeated spaces, unescaped."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(body).split())


# The commitment card --------------------------------------------------------------------


def test_commitment_card_shows_title_obligor_status_ratings_dates_and_link(client, commitment):
    response = client.get(embed("commitment", commitment.key))

    assert response.status_code == 200
    text = text_of(response)
    assert "Open a consulate" in text
    assert "Obligor Japan" in text
    assert "Status Not started" in text
    # Each obligor's current rating with the scale's words; an unrated one says so.
    assert "Japan In the works" in text
    assert "United States Not yet rated" in text
    assert 'value="0"' in response.content.decode()  # the meter of "in the works"
    assert "Due April 26, 2026" in text  # 180 days after the agreement of 28 October 2025
    link = f'href="{page("commitment", commitment.key)}" target="_blank" rel="noopener"'
    assert link in response.content.decode()
    assert "Commitment Tracker" in text
    assert "<script" not in response.content.decode()


def test_commitment_card_in_french_shows_the_french_title_and_words(client, commitment):
    response = client.get(embed("commitment", commitment.key, "fr"))

    text = text_of(response)
    assert response["Content-Language"] == "fr"
    assert "Ouvrir un consulat" in text
    assert "26 avril 2026" in text
    assert page("commitment", commitment.key, "fr") in response.content.decode()


def test_commitment_card_shows_fulfilment_and_the_kept_rating(client, commitment, japan, source):
    citation = factories.citation_make(source=source, commitment=commitment)
    commitment_update(commitment=commitment, effective_from=dt.date(2025, 11, 1))
    commitment_change_status(
        commitment=commitment,
        status="fulfilled",
        occurred_on=dt.date(2025, 11, 30),
        evidence=citation,
    )
    assessment_record(
        commitment=commitment,
        party=japan,
        rating="kept",
        justification="Opened.",
        assessed_on=dt.date(2025, 12, 1),
        evidence=citation,
    )

    text = text_of(client.get(embed("commitment", commitment.key)))

    assert "Status Fulfilled" in text
    assert "Japan Kept" in text
    assert "In effect from Nov. 1, 2025" in text
    assert "Fulfilled on Nov. 30, 2025" in text


def test_commitment_card_escapes_the_titles(client, commitment, published):
    commitment_update(commitment=commitment, title='<script>alert("x")</script> & co')
    agreement_update(agreement=published, title="<img src=x onerror=alert(1)>")

    body = client.get(embed("commitment", commitment.key)).content.decode()

    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


# The agreement card ---------------------------------------------------------------------


def test_agreement_card_shows_counts_compliance_and_next_deadline(
    client, published, commitment, make_commitment, japan, source, time_machine
):
    time_machine.move_to(dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC))
    later = make_commitment(title="Hold a meeting", offset_amount=400)
    citation = factories.citation_make(source=source, commitment=later)
    assessment_record(
        commitment=later,
        party=japan,
        rating="kept",
        justification="Held.",
        assessed_on=dt.date(2026, 1, 5),
        evidence=citation,
    )

    response = client.get(embed("agreement", published.key))

    text = text_of(response)
    assert "Japan–US summit" in text
    assert "2 commitments" in text
    # Ratings: kept (+1) and in the works (0) average +0.5: 75 % on the G7 scale.
    assert "Compliance score 75%" in text
    assert "Kept: 1" in text
    assert "In the works: 1" in text
    assert "Not yet rated: 1" in text  # the United States on the first commitment
    assert "Not started" in text
    # The next deadline still ahead: the first commitment's, 26 April 2026.
    assert "Next deadline Open a consulate — April 26, 2026" in text
    assert page("commitment", commitment.key) in response.content.decode()
    assert page("agreement", published.key) in response.content.decode()


def test_agreement_card_without_ratings_or_deadlines_says_so(client, published):
    text = text_of(client.get(embed("agreement", published.key)))

    assert "0 commitments" in text
    assert "No obligor has been rated yet." in text
    assert "No deadline ahead." in text


def test_agreement_card_reads_a_fixed_number_of_queries(
    client, published, make_commitment, django_assert_max_num_queries
):
    for _ in range(30):
        make_commitment()

    with django_assert_max_num_queries(8):
        response = client.get(embed("agreement", published.key))

    assert "30 commitments" in text_of(response)


# What is not public ---------------------------------------------------------------------


def test_draft_and_unknown_keys_are_not_found(client, draft):
    assert client.get(embed("agreement", "secret-agreement")).status_code == 404
    assert client.get(embed("commitment", "secret-commitment")).status_code == 404
    assert client.get(embed("agreement", "no-such-thing")).status_code == 404
    assert client.get(embed("commitment", "no-such-thing")).status_code == 404


def test_an_old_key_redirects_to_the_current_card(client, commitment, published):
    commitment_update(commitment=commitment, key="open-a-consulate")
    agreement_update(agreement=published, key="tokyo-summit")

    response = client.get(embed("commitment", "open-consulate", "fr"))
    assert response.status_code == 301
    assert response["Location"] == embed("commitment", "open-a-consulate", "fr")
    response = client.get(embed("agreement", "summit-2025-10-28"))
    assert response.status_code == 301
    assert response["Location"] == embed("agreement", "tokyo-summit")


def test_a_card_accepts_only_reads(client, commitment):
    assert client.post(embed("commitment", commitment.key)).status_code == 405


# Headers: the cards may be framed by any site, nothing else may ---------------------------


def test_cards_may_be_framed_by_any_site(client, commitment, published):
    for url in (embed("commitment", commitment.key), embed("agreement", published.key)):
        response = client.get(url)
        assert "X-Frame-Options" not in response.headers
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors *" in policy
        # The rest of the policy stands: no script from anywhere, our styles only.
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "default-src 'self'" in policy


def test_other_pages_stay_unframeable(client, commitment, admin_client):
    others = [
        (client, reverse("public:oembed", kwargs={"lang": "en"}) + "?url=x"),
        (client, embed("commitment", "no-such-thing")),
        (client, page("commitment", commitment.key).removeprefix(SITE)),
        (client, "/accounts/login/"),
        (admin_client, "/"),
    ]
    for who, url in others:
        response = who.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


# oEmbed -----------------------------------------------------------------------------------


def test_oembed_answers_a_commitment_permalink(client, commitment):
    url = page("commitment", commitment.key, "fr")

    response = oembed(client, url=url, format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    answer = json.loads(response.content)
    assert answer["version"] == "1.0"
    assert answer["type"] == "rich"
    assert answer["title"] == "Ouvrir un consulat"
    assert answer["provider_name"] == "Commitment Tracker"
    assert answer["provider_url"] == SITE + "/"
    assert answer["cache_age"] > 0
    assert (answer["width"], answer["height"]) == (480, 440)
    src = SITE + embed("commitment", commitment.key, "fr")
    assert f'<iframe src="{src}" width="480" height="440"' in answer["html"]
    assert 'title="Ouvrir un consulat"' in answer["html"]


def test_oembed_answers_an_agreement_and_keeps_within_the_maximum_size(client, published):
    response = oembed(client, url=page("agreement", published.key), maxwidth="320", maxheight="900")

    answer = json.loads(response.content)
    assert (answer["width"], answer["height"]) == (320, 520)
    assert 'width="320" height="520"' in answer["html"]
    assert answer["title"] == "Japan–US summit"


def test_oembed_escapes_the_title_in_its_html(client, commitment):
    commitment_update(commitment=commitment, title='"><script>alert(1)</script>')

    answer = json.loads(oembed(client, url=page("commitment", commitment.key)).content)

    assert answer["title"] == '"><script>alert(1)</script>'
    assert "<script>" not in answer["html"]
    assert 'title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in answer["html"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, "url is required"),
        ({"url": "  "}, 400, "url is required"),
        ({"url": "{commitment}", "maxwidth": "wide"}, 400, "maxwidth must be a whole number"),
        ({"url": "{commitment}", "maxheight": "-3"}, 400, "maxheight must be a whole number"),
        ({"url": "{commitment}", "maxwidth": "0"}, 400, "maxwidth must be a whole number"),
        ({"url": "{commitment}", "format": "xml"}, 501, "only json"),
        ({"url": "https://evil.example/public/en/commitments/open-consulate/"}, 404, "not a"),
        ({"url": "{site}/public/en/commitments/no-such-thing/"}, 404, "not a published"),
        ({"url": "{site}/public/en/commitments/secret-commitment/"}, 404, "not a published"),
        ({"url": "{site}/public/en/agreements/secret-agreement/"}, 404, "not a published"),
        ({"url": "{site}/public/en/embed/commitments/open-consulate/"}, 404, "not a published"),
        ({"url": "{site}/admin/"}, 404, "not a published"),
        ({"url": "not a url"}, 404, "not a published"),
    ],
)
def test_oembed_refuses_with_a_clear_answer(client, commitment, draft, params, status, message):
    values = {
        name: value.format(site=SITE, commitment=page("commitment", commitment.key))
        for name, value in params.items()
    }

    response = oembed(client, **values)

    assert response.status_code == status
    assert message in response.content.decode()


# The template tags h2's pages use ---------------------------------------------------------


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.S)
    assert match is not None, pattern
    return match[1]


def render(source: str, **context) -> str:
    return Template("{% load embeds %}" + source).render(Context(context))


def test_oembed_link_points_at_the_oembed_answer_for_the_page(client, commitment):
    with translation.override("fr"):
        link = render("{% oembed_link c %}", c=commitment)

    assert link.startswith('<link rel="alternate" type="application/json+oembed" href="')
    assert 'title="Ouvrir un consulat"' in link
    href = html.unescape(found(r'href="([^"]+)"', link))
    parts = urlsplit(href)
    assert SITE + parts.path == SITE + reverse("public:oembed", kwargs={"lang": "fr"})
    assert parse_qs(parts.query) == {
        "url": [page("commitment", commitment.key, "fr")],
        "format": ["json"],
    }
    # The link leads to a working answer.
    assert client.get(parts.path, parse_qs(parts.query)).status_code == 200


def test_embed_snippet_holds_the_iframe_code_to_copy(commitment, published):
    commitment_update(commitment=commitment, title="Open <b>two</b> consulates")
    with translation.override("en"):
        snippet = render("{% embed_snippet c %}", c=commitment)
        agreement_snippet = render("{% embed_snippet a %}", a=published)

    assert snippet.startswith('<details class="embed-snippet"><summary>Embed this</summary>')
    field = found(r'<label for="([^"]+)">', snippet)
    assert f'<textarea id="{field}" readonly' in snippet
    code = html.unescape(found(r"<textarea[^>]*>(.*)</textarea>", snippet))
    src = SITE + embed("commitment", commitment.key)
    assert code.startswith(f'<iframe src="{src}" width="480" height="440"')
    assert 'title="Open &lt;b&gt;two&lt;/b&gt; consulates"' in code
    assert "<b>" not in snippet
    assert SITE + embed("agreement", published.key) in html.unescape(agreement_snippet)
    assert field not in agreement_snippet


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_public_pages_offer_discovery_and_the_snippet(client, commitment, published, lang):
    for kind, obj in (("commitment", commitment), ("agreement", published)):
        body = client.get(page(kind, obj.key, lang).removeprefix(SITE)).content.decode()

        href = html.unescape(found(r'type="application/json\+oembed" href="([^"]+)"', body))
        parts = urlsplit(href)
        answer = client.get(parts.path, parse_qs(parts.query))
        assert answer.status_code == 200, kind
        src = SITE + embed(kind, obj.key, lang)
        assert f'<iframe src="{src}"' in json.loads(answer.content)["html"]
        snippet = r'<details class="embed-snippet">.*?<textarea[^>]*>(.*?)<'
        code = html.unescape(found(snippet, body))
        assert code.startswith(f'<iframe src="{src}"'), kind
