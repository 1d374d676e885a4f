"""The workbench: commitments entered from a source's text, cited, with computed deadlines.

The EU–US joint statement of 21 August 2025 (``tests/support/eu_us_statement.py``) is the
running example: four passages, four commitments, one save.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from commitments.models import Agreement, Citation, Commitment, Party, Source
from commitments.services.sources import source_create
from core.roles import EDITORS, VIEWERS
from tests import factories
from tests.support import eu_us_statement as eu_us

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(db):
    return factories.user_make(username="ed", role=EDITORS)


@pytest.fixture
def writer_client(client, writer):
    client.force_login(writer)
    return client


@pytest.fixture
def eu(db):
    return factories.party_make(key="eu", name="European Union", kind="organisation")


@pytest.fixture
def us(db):
    return factories.party_make(key="us", name="United States", country_code="US")


@pytest.fixture
def statement(writer):
    return source_create(
        user=writer,
        text=eu_us.TEXT,
        key="eu-us-2025-08-21",
        title=eu_us.TITLE,
        publisher="European Commission",
        language="en",
        published_on=dt.date(2025, 8, 21),
        kind="official",
    )


def carried(eu, us, **overrides):
    data = {
        "a-title": "EU–US framework on reciprocal trade",
        "a-kind": "joint_statement",
        "a-date": "2025-08-21",
        "a-place": "Washington",
        "a-time_zone": "America/New_York",
        "a-parties": [str(eu.pk), str(us.pk)],
    }
    data.update(overrides)
    return data


def span(passage):
    start = eu_us.TEXT.index(passage)
    return start, start + len(passage)


def draft(index, passage, *, title, obligor, category, **fields):
    start, end = span(passage) if passage in eu_us.TEXT else ("", "")
    values = {
        "quote": passage,
        "start": str(start),
        "end": str(end),
        "locator": "",
        "title": title,
        "key": "",
        "category": category,
        "obligor": str(obligor.pk),
        "deadline_kind": "none",
        "effective_from_precision": "day",
        **fields,
    }
    return {f"c-{index}-{name}": value for name, value in values.items()}


def four_drafts(eu, us):
    data = {"c-TOTAL_FORMS": "4", "c-INITIAL_FORMS": "0"}
    data.update(
        draft(0, eu_us.TARIFF, title="Tariff ceiling of 15 %", obligor=us, category="tariff",
              target_amount="15", target_unit="percent", effective_from="2025-08-01")
    )
    data.update(
        draft(1, eu_us.ENERGY, title="US energy purchases", obligor=eu, category="purchase",
              target_amount="750000000000", target_unit="USD", deadline_kind="period_end",
              deadline_phrase="through 2028", period_unit="year", period_year="2028")
    )
    data.update(
        draft(2, eu_us.INVESTMENT, title="Investment in the US", obligor=eu,
              category="investment", target_amount="600000000000", target_unit="USD",
              deadline_kind="period_end", period_unit="year", period_year="2028")
    )
    data.update(
        draft(3, eu_us.REVIEW, title="Review of the framework", obligor=us, category="meeting",
              deadline_kind="relative", deadline_phrase="within 90 days", offset_amount="90",
              offset_unit="days", **{"co_obligors": [str(eu.pk)]})
    )
    return data


def url(source):
    return reverse("dashboard:workbench", args=[source.pk])


def test_save_writes_the_agreement_its_commitments_and_their_cited_spans(
    writer_client, statement, eu, us
):
    """One save: the new agreement, four commitments with due dates, four citations whose
    spans are the source's own text; then the agreement's page."""
    data = {**carried(eu, us), **four_drafts(eu, us), "action": "save"}
    response = writer_client.post(url(statement), data)
    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:agreement", args=[agreement.pk])
    assert agreement.key == "eu-us-framework-on-reciprocal-trade"
    assert agreement.time_zone == "America/New_York"
    assert set(agreement.parties.all()) == {eu, us}
    commitments = {c.title: c for c in Commitment.objects.filter(agreement=agreement)}
    assert len(commitments) == 4
    review = commitments["Review of the framework"]
    assert review.due_date == dt.date(2025, 11, 19) and review.due_precision == "day"
    assert list(review.co_obligors.all()) == [eu]
    energy = commitments["US energy purchases"]
    assert energy.due_date == dt.date(2028, 12, 31) and energy.due_precision == "year"
    assert energy.target_amount == Decimal("750000000000") and energy.target_unit == "USD"
    assert energy.deadline_phrase == "through 2028"
    tariff = commitments["Tariff ceiling of 15 %"]
    assert tariff.due_date is None and tariff.effective_from == dt.date(2025, 8, 1)
    assert {c.key for c in commitments.values()} >= {"review-of-the-framework"}
    citations = Citation.objects.filter(commitment__agreement=agreement, source=statement)
    assert citations.count() == 4
    for citation in citations:
        assert citation.quote == statement.text[citation.start : citation.end]
    assert review.history.first().history_user.username == "ed"


def test_a_bad_draft_writes_nothing_and_every_error_shows_at_its_field(
    writer_client, statement, eu, us
):
    """A tampered span, a duplicate key and a missing rule part: nothing is written, the
    page comes back with every draft and each error beside its field."""
    factories.commitment_make(
        agreement=factories.agreement_make(parties=[us]), obligor=us, key="taken-key"
    )
    before = (Agreement.objects.count(), Commitment.objects.count(), Citation.objects.count())
    data = {**carried(eu, us), **four_drafts(eu, us), "action": "save"}
    data["c-0-start"], data["c-0-end"] = "5", str(len(eu_us.TEXT) + 50)  # outside the text
    data["c-1-key"] = "taken-key"
    data["c-3-offset_amount"] = ""
    response = writer_client.post(url(statement), data)
    assert response.status_code == 400
    assert (Agreement.objects.count(), Commitment.objects.count(),
            Citation.objects.count()) == before
    html = response.content.decode()
    drafts = re.split(r'<fieldset class="draft"', html)[1:]
    assert len(drafts) == 4
    assert "ends after the source" in drafts[0]
    assert "already exists" in drafts[1] and 'value="taken-key"' in drafts[1]
    assert "needs a number of units" in drafts[3]
    assert "Investment in the US" in drafts[2]  # the good draft is kept as typed


def test_a_passage_not_in_the_text_is_refused_at_the_quote(writer_client, statement, eu, us):
    data = {**carried(eu, us), "c-TOTAL_FORMS": "1", "c-INITIAL_FORMS": "0", "action": "save"}
    data.update(draft(0, "A sentence the statement never says.", title="X", obligor=us,
                      category="other"))
    data["c-0-start"] = data["c-0-end"] = ""
    response = writer_client.post(url(statement), data)
    assert response.status_code == 400
    assert "is not in the archived text of" in response.content.decode()
    assert not Commitment.objects.exists()


def test_the_preview_fragment_gives_due_date_precision_and_explanation(
    writer_client, statement, eu, us
):
    preview = reverse("dashboard:workbench_preview", args=[statement.pk])
    data = {**carried(eu, us), "prefix": "c-0", "c-0-deadline_kind": "relative",
            "c-0-offset_amount": "90", "c-0-offset_unit": "days"}
    response = writer_client.post(preview, data, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert "Due Nov. 19, 2025" in text and "known to the day" in text
    assert "90 days after the agreement" in text and "America/New_York" in text
    data.update({"c-0-deadline_kind": "period_end", "c-0-period_unit": "year",
                 "c-0-period_year": "2028"})
    text = writer_client.post(preview, data).content.decode()
    assert "Due 2028" in text and "known to the year" in text
    data["c-0-period_year"] = "not a year"
    assert "whole number" in writer_client.post(preview, data).content.decode()
    with translation.override("fr"):
        data.update({"c-0-deadline_kind": "relative"})
        text = writer_client.post(preview, data, headers={"Accept-Language": "fr"}).content
    assert "19 novembre 2025" in text.decode()


def test_a_selected_passage_becomes_a_draft_with_the_parsers_proposals(
    writer_client, statement, eu, us
):
    start, end = span(eu_us.ENERGY)
    query = {**carried(eu, us), "start": start, "end": end + 2, "index": 1}
    response = writer_client.get(
        reverse("dashboard:workbench_draft", args=[statement.pk]), query
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="c-1-start" value="{start}"' in html
    assert f'name="c-1-end" value="{end}"' in html  # the blank after the passage is trimmed
    assert 'value="¶ 4"' in html
    assert 'value="750000000000"' in html and "proposed from «$750 billion»" in html
    assert "proposed from «through 2028»" in html
    assert 'value="2028"' in html and "Due 2028" in html
    # An English quote read on an English page is translated into French, not into English.
    assert 'name="c-1-translation_language" value="fr"' in html
    key = "the-european-union-intends-to-procure-united-states-liquefied-natural-gas-oil"
    assert f'value="{key}"' in html
    outside = {**query, "start": 5, "end": len(eu_us.TEXT) + 10}
    assert writer_client.get(
        reverse("dashboard:workbench_draft", args=[statement.pk]), outside
    ).status_code == 400


def test_each_kind_shows_the_rule_fields_the_engine_says_it_reads(
    writer_client, statement, eu, us
):
    """The draft's kind groups come from the engine's mapping (as the admin's toggle does):
    each kind's fields are the parameters of its groups, less the anchor (the workbench counts
    from the agreement's date)."""
    import json

    from commitments import deadlines
    from commitments.forms import rule_field_attrs

    start, end = span(eu_us.REVIEW)
    query = {**carried(eu, us), "start": start, "end": end, "index": 0}
    html = writer_client.get(
        reverse("dashboard:workbench_draft", args=[statement.pk]), query
    ).content.decode()
    rule = html.split('<div class="rule">')[1].split('<output class="preview"')[0]
    shown = {
        part.split('"')[0]: list(dict.fromkeys(re.findall(r'name="c-0-([a-z_]+)"', part)))
        for part in rule.split('data-kind="')[1:]
    }
    admin = json.loads(rule_field_attrs()["data-rule-groups"])
    fields = json.loads(rule_field_attrs()["data-rule-fields"])
    anchor = {"anchor_kind", "anchor_commitment"}
    for kind in ("fixed", "relative", "period_end"):
        expected = [n for n in deadlines.KIND_PARAMETERS[deadlines.RuleKind(kind)]
                    if n not in anchor]
        assert shown[kind] == expected, kind
        assert [n for n, group in fields.items() if group in admin[kind]
                and n not in anchor] == expected
    assert shown["relative"] == ["offset_amount", "offset_unit"]


def test_a_language_the_parser_does_not_know_gets_no_proposal(writer_client, writer, eu, us):
    text = "欧州連合は2028年までに7500億ドルを購入する。\n\n第二段落。"
    source = source_create(user=writer, text=text,
                           key="ja", title="JA", publisher="P", language="ja",
                           published_on=dt.date(2025, 8, 21), kind="press")
    query = {**carried(eu, us), "start": 0, "end": 10, "index": 0}
    html = writer_client.get(
        reverse("dashboard:workbench_draft", args=[source.pk]), query
    ).content.decode()
    assert "proposed from" not in html
    assert 'name="c-0-quote"' in html


def test_without_javascript_a_pasted_quote_is_found_and_proposals_filled(
    writer_client, statement, eu, us
):
    """No JS: "Add another commitment" gives an empty draft; a pasted quote and "Preview"
    find its span, locator and proposals; "Save" writes it."""
    page = writer_client.post(url(statement), {**carried(eu, us), "c-TOTAL_FORMS": "0",
                                               "c-INITIAL_FORMS": "0", "action": "add"})
    assert page.status_code == 200 and 'name="c-0-quote"' in page.content.decode()
    pasted = " ".join(eu_us.REVIEW.split())  # spaces as the editor's clipboard has them
    data = {**carried(eu, us), "c-TOTAL_FORMS": "1", "c-INITIAL_FORMS": "0",
            "c-0-quote": pasted, "action": "preview"}
    html = writer_client.post(url(statement), data).content.decode()
    start, end = span(eu_us.REVIEW)
    assert f'name="c-0-start" value="{start}"' in html
    assert 'value="¶ 6"' in html and "proposed from «within 90 days»" in html
    assert "Due Nov. 19, 2025" in html
    assert "This field is required" not in html  # no errors before saving
    data.update({"c-0-start": str(start), "c-0-end": str(end), "c-0-title": "Review",
                 "c-0-obligor": str(us.pk), "c-0-category": "meeting",
                 "c-0-deadline_kind": "relative", "c-0-offset_amount": "90",
                 "c-0-offset_unit": "days", "c-0-deadline_phrase": "within 90 days",
                 "action": "save"})
    assert writer_client.post(url(statement), data).status_code == 302
    assert Commitment.objects.get().due_date == dt.date(2025, 11, 19)


def test_start_creates_the_source_and_parties_and_opens_the_workbench(writer_client, us):
    data = {"title": "EU–US framework", "kind": "joint_statement", "date": "2025-08-21",
            "place": "", "time_zone": "", "parties": [str(us.pk)],
            "new_parties": "European Union\n", "new_party_kind": "organisation",
            "new_party_country": "", "text": eu_us.TEXT, "source_title": eu_us.TITLE,
            "publisher": "European Commission", "language": "en",
            "published_on": "2025-08-21", "source_kind": "official"}
    response = writer_client.post(reverse("dashboard:workbench_start"), data)
    source = Source.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(url(source) + "?")
    assert source.key.startswith("joint-statement-on-a-united-states-european-union")
    assert source.text == eu_us.TEXT and source.sha256
    eu = Party.objects.get(name="European Union")
    assert eu.kind == "organisation"
    page = writer_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "America/New_York" in html  # guessed from the parties: only the US has a country
    assert html.count('<li id="p') == 7
    assert not Agreement.objects.exists()  # written with its commitments, at the end


def test_start_refuses_missing_parts_at_their_fields(writer_client):
    response = writer_client.post(reverse("dashboard:workbench_start"),
                                  {"kind": "joint_statement", "new_party_kind": "state",
                                   "language": "en", "source_kind": "official",
                                   "time_zone": "Mars/Olympus"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Pick the parties, or name new ones." in html
    assert "Needed for a new source" in html
    assert not Source.objects.exists() and not Party.objects.exists()


def test_viewers_and_strangers_cannot_use_the_workbench(client, statement):
    viewer = factories.user_make(username="vi", role=VIEWERS)
    client.force_login(viewer)
    assert client.get(reverse("dashboard:workbench_start")).status_code == 403
    assert client.get(url(statement)).status_code == 403
    assert client.post(url(statement), {"action": "save"}).status_code == 403
    preview = reverse("dashboard:workbench_preview", args=[statement.pk])
    assert client.post(preview).status_code == 403
    client.logout()
    assert client.get(reverse("dashboard:workbench_start")).status_code == 302


def test_the_page_reads_a_constant_number_of_queries(writer_client, writer, eu, us):
    """However many paragraphs and drafts, the page asks the database the same few times."""

    def queries(paragraphs, drafts):
        text = "\n\n".join(f"Paragraph {n}: the parties will meet within 90 days."
                           for n in range(paragraphs))
        source = source_create(user=writer, text=text, key=f"s-{paragraphs}-{drafts}",
                               title="T", publisher="P", language="en",
                               published_on=dt.date(2025, 8, 21), kind="press")
        data = {**carried(eu, us), "c-TOTAL_FORMS": str(drafts), "c-INITIAL_FORMS": "0",
                "action": "preview"}
        for index in range(drafts):
            data[f"c-{index}-quote"] = f"Paragraph {index}: the parties"
        with CaptureQueriesContext(connection) as captured:
            response = writer_client.post(url(source), data)
        assert response.status_code == 200
        return len(captured)

    assert queries(2, 1) == queries(40, 12)


def start_data(us, **overrides):
    data = {"title": "EU–US framework", "kind": "joint_statement", "date": "2025-08-21",
            "place": "", "time_zone": "", "parties": [str(us.pk)], "new_parties": "",
            "new_party_kind": "state", "new_party_country": "", "text": eu_us.TEXT,
            "source_title": eu_us.TITLE, "publisher": "European Commission",
            "language": "en", "published_on": "2025-08-21", "source_kind": "official"}
    data.update(overrides)
    return data


def test_the_same_text_pasted_again_reuses_its_source(writer_client, us):
    """Every "Open the workbench" with the same text opens the one source it made."""
    first = writer_client.post(reverse("dashboard:workbench_start"), start_data(us))
    again = writer_client.post(reverse("dashboard:workbench_start"),
                               start_data(us, text=f"\n{eu_us.TEXT}  \r\n",
                                          source_title="Another title"))
    source = Source.objects.get()
    assert first.status_code == again.status_code == 302
    assert again["Location"].startswith(url(source) + "?")
    assert source.title == eu_us.TITLE


def test_an_empty_start_says_plainly_what_is_missing(writer_client):
    response = writer_client.post(reverse("dashboard:workbench_start"),
                                  {"kind": "joint_statement", "new_party_kind": "state",
                                   "language": "en", "source_kind": "official"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "cannot be null" not in html
    assert "Give the new agreement&#x27;s title" in html
    assert "Give the day the new agreement was signed or announced." in html


def test_an_agreement_picked_and_a_new_one_described_is_refused(
    writer_client, agreement, usa
):
    response = writer_client.post(reverse("dashboard:workbench_start"),
                                  start_data(usa, agreement=str(agreement.pk), date="",
                                             parties=[]))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Pick an agreement or describe a new one, not both." in html
    assert not Source.objects.exists()


def test_a_bad_language_is_refused_whole_not_cut_to_eight_characters(writer_client, us):
    page = writer_client.get(reverse("dashboard:workbench_start")).content.decode()
    language_input = re.search(r'<input[^>]*name="language"[^>]*>', page).group(0)
    assert "maxlength" not in language_input  # a browser would cut the tag, not refuse it
    response = writer_client.post(reverse("dashboard:workbench_start"),
                                  start_data(us, language="xx-garbage-123"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["language"]
    assert not Source.objects.exists()


def test_a_source_published_after_it_was_retrieved_is_refused(writer_client, us):
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    response = writer_client.post(reverse("dashboard:workbench_start"),
                                  start_data(us, published_on=tomorrow.isoformat()))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["published_on"]
    assert "cannot be published after its copy was retrieved" in errors["published_on"][0]
    assert not Source.objects.exists() and not Party.objects.exclude(pk=us.pk).exists()
