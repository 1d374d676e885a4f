"""The charts: SVG that parses, says what it shows (title, desc, axes, legend, a table), reads
in French, takes its numbers from the assessment's one home, and costs a fixed number of
queries."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from commitments.assessment import SCALE
from commitments.models import Assessment, Commitment
from commitments.selectors import compliance_table
from commitments.services.assessments import assessment_record
from commitments.services.commitments import commitment_change_status
from core.roles import VIEWERS
from dashboard import charts
from tests import factories

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2026, 12, 6)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def reader_client(client):
    client.force_login(factories.user_make(username="rita", role=VIEWERS))
    return client


def _svg(page: str, css_class: str) -> ET.Element:
    """Return the chart's <svg> element, parsed as XML (the test fails if it does not parse)."""
    match = re.search(
        rf'<svg xmlns="{SVG[1:-1]}"[^>]*class="chart {css_class}".*?</svg>', page, re.S
    )
    assert match, f"no {css_class} on the page"
    # Our own page's markup, not outside input: the standard parser is the right strictness.
    return ET.fromstring(match.group(0))  # noqa: S314


def _texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in svg.iter(f"{SVG}text")]


def _child(svg: ET.Element, tag: str) -> str:
    """Return the text of the chart's <title> or <desc>, which must be there."""
    element = svg.find(f"{SVG}{tag}")
    assert element is not None and element.text, f"no <{tag}>"
    return element.text


def _legend(page: str, heading: str) -> str:
    """Return the legend of the chart under the heading ``heading``."""
    match = re.search(r'<ul class="chart-legend">.*?</ul>', page[page.index(heading):], re.S)
    assert match, "no legend"
    return match.group(0)


@pytest.fixture
def purchases(make_commitment):
    """$750 bn of energy purchases, from 21 August 2025 to the end of 2028, $260 bn so far."""
    commitment = make_commitment(
        title="Energy purchases", category="purchase", target_amount=Decimal(750_000_000_000),
        target_unit="USD", deadline_kind="fixed", deadline_date=dt.date(2028, 12, 31),
        offset_amount=None, offset_unit="", anchor_kind="", effective_from=dt.date(2025, 8, 21),
    )
    measurements = [(dt.date(2026, 3, 1), 90), (dt.date(2026, 11, 30), 260)]
    for day, billions in measurements:
        value = billions * 1_000_000_000
        commitment_change_status(commitment=commitment, status="in_progress", occurred_on=day,
                                 measured_value=Decimal(value), note="Customs figures.")
    return Commitment.objects.get(pk=commitment.pk)


def test_progress_chart_draws_measurements_pace_target_and_today(reader_client, purchases):
    page = reader_client.get(reverse("dashboard:commitment", args=[purchases.pk])).content.decode()
    svg = _svg(page, "progress-chart")
    assert _child(svg, "title") == "Progress of “Energy purchases” against its pace"
    desc = _child(svg, "desc")
    assert "in US dollars" in desc and "Aug. 21, 2025" in desc and "Dec. 31, 2028" in desc
    texts = _texts(svg)
    # The y axis in the target's unit, in words; the x axis in dates.
    assert {"$0", "$200 bn", "$400 bn", "$600 bn", "$800 bn"} <= set(texts)
    assert {"2026", "2027", "2028"} <= set(texts)
    assert {"today", "pace", "measured", "target $750 bn"} <= set(texts)
    assert len(svg.findall(f".//{SVG}circle")) == 2
    # The legend and the data table.
    assert "Pace: a straight line from 0 at the start to the target at the due date" in page
    assert "<td>Nov. 30, 2026</td><td class=\"num\">$260 bn</td><td class=\"num\">35%</td>" in page


def test_the_sentence_is_the_pace_engines(reader_client, purchases):
    progress = purchases.progress_on(TODAY)
    assert progress is not None
    share, pace = round(progress.share * 100), round(progress.pace_share * 100)
    expected = f"$260 bn of $750 bn, {share}%; pace {pace}%: on pace"
    assert (share, pace, progress.pace) == (35, 38, "on_pace")
    page = reader_client.get(reverse("dashboard:commitment", args=[purchases.pk])).content.decode()
    assert f"<strong>{expected[0].upper()}{expected[1:]}</strong>" in page
    with translation.override("en"):
        assert charts.progress_sentence(purchases, TODAY) == expected


def test_progress_chart_reads_in_french(reader_client, purchases):
    page = reader_client.get(reverse("dashboard:commitment", args=[purchases.pk]),
                             HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    svg = _svg(page, "progress-chart")
    texts = [text.replace("\xa0", " ") for text in _texts(svg)]
    assert "200 Md $" in texts, texts
    assert "aujourd’hui" in texts
    title = "Avancement de «\u202fEnergy purchases\u202f» par rapport au rythme"
    assert _child(svg, "title") == title
    assert "Valeurs mesurées du 21 août 2025 au 31 décembre 2028, en dollars américains." in (
        _child(svg, "desc")
    )
    sentence = "260 Md $ sur 750 Md $, 35 %\u202f; rythme attendu 38 %\u202f: dans le rythme"
    assert sentence in page.replace("\xa0", " ")


def test_no_target_and_one_measurement_draws_no_chart(make_commitment):
    commitment = make_commitment()
    assert charts.progress_chart(commitment=commitment, updates=[], today=TODAY) is None


@pytest.fixture
def rated(agreement, japan, usa, editor, source):
    """A shared commitment (Japan, United States) and one of Japan's, rated at known dates."""
    shared = factories.commitment_make(agreement=agreement, obligor=japan, title="Meet")
    shared.co_obligors.set([usa])
    alone = factories.commitment_make(agreement=agreement, obligor=japan, title="Invest")

    def rate(commitment, party, rating, day, **evidence):
        assessment_record(
            commitment=commitment, party=party, rating=rating, justification=f"{rating} on {day}",
            assessed_on=day, user=editor,
            now=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), **evidence,
        )

    proof = {"evidence_source": source, "evidence_quote": "Ils se sont réunis."}
    rate(shared, japan, "in_the_works", dt.date(2025, 11, 10))
    rate(alone, japan, "stalled", dt.date(2026, 1, 15))
    rate(shared, japan, "kept", dt.date(2026, 3, 1), **proof)
    rate(shared, usa, "not_verifiable", dt.date(2026, 3, 1))
    return agreement


def test_compliance_history_is_the_as_of_table_at_every_change(rated):
    table_parties = [e.party for e in compliance_table(agreement=rated).parties]
    chart = charts.compliance_history_chart(agreement=rated, today=TODAY)
    assert chart is not None
    history = charts.compliance_history(
        party_ids=[p.pk for p in table_parties],
        ratings=[(a.commitment_id, a.party_id, a.rating, a.assessed_on)
                 for a in Assessment.objects.order_by("assessed_on", "pk")],
    )
    days = [dt.date(2025, 11, 10), dt.date(2026, 1, 15), dt.date(2026, 3, 1)]
    assert [day for day, _t in history] == days
    for day, tallies in history:
        as_of = {e.party.pk: e.tally for e in compliance_table(agreement=rated, as_of=day).parties}
        assert {pk: t.percent for pk, t in tallies.items()} == {
            pk: t.percent for pk, t in as_of.items()
        }
    # Japan: 50 % (in the works), then 25 % (with stalled), then 50 % (kept and stalled).
    assert [t[table_parties[0].pk].percent for _d, t in history] == [50, 25, 50]


def test_compliance_history_chart_names_every_party_and_shows_a_gap(reader_client, rated):
    page = reader_client.get(reverse("dashboard:agreement", args=[rated.pk])).content.decode()
    svg = _svg(page, "compliance-history-chart")
    assert _child(svg, "title") == "Compliance by party over time, Japan–US summit"
    assert "no scored rating yet" in _child(svg, "desc")
    texts = _texts(svg)
    assert {"0%", "50%", "100%"} <= set(texts)
    assert {"January 2026", "April 2026", "July 2026", "October 2026"} <= set(texts)
    assert "Japan" in texts  # the direct label at the line's end
    paths = [p for p in svg.iter(f"{SVG}path") if p.get("fill") == "none"]
    assert len(paths) == 1  # the United States has no scored rating: a gap, no line
    legend = _legend(page, "compliance-history-h")
    assert "Japan: 50% (average +0.00, 2 scored)" in legend
    assert "United States: no scored rating yet" in legend
    assert "<th scope=\"row\">March 1, 2026</th>" in page


def test_compliance_history_reads_in_french(reader_client, rated):
    page = reader_client.get(reverse("dashboard:agreement", args=[rated.pk]),
                             HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    svg = _svg(page, "compliance-history-chart")
    texts = _texts(svg)
    assert {"janvier 2026", "avril 2026"} <= set(texts)
    legend = _legend(page, "compliance-history-h")
    assert "Japan\u202f: 50 % (moyenne +0,00\u202f; évaluations notées\u202f: 2)" in legend
    assert "United States\u202f: aucune évaluation notée pour l’instant" in legend


def test_ratings_chart_stacks_the_whole_scale_per_party(reader_client, rated):
    page = reader_client.get(reverse("dashboard:agreement", args=[rated.pk])).content.decode()
    svg = _svg(page, "ratings-chart")
    assert _child(svg, "title") == "Ratings per party, Japan–US summit"
    titles = ["".join(t.itertext()) for g in svg.iter(f"{SVG}g") for t in g.findall(f"{SVG}title")]
    assert "Japan, Kept: 1" in titles and "Japan, Stalled: 1" in titles
    assert "United States, Not verifiable: 1" in titles
    legend = _legend(page, "ratings-chart-h")
    labels = re.findall(r"</svg> ([^<]+)</li>", legend)
    assert labels == [rule.label for rule in SCALE]  # every rating, in the scale's order
    assert "Japan" in _texts(svg) and "United States" in _texts(svg)


def test_no_rating_draws_no_history_but_the_distribution_counts_the_unrated(
    agreement, make_commitment
):
    make_commitment()
    assert charts.compliance_history_chart(agreement=agreement, today=TODAY) is None
    chart = charts.ratings_chart(agreement=agreement)
    assert chart is not None
    assert chart.rows[0][1][-1] == 1 and chart.rows[0][2] == 1


def _chart_queries(agreement) -> int:
    template = Template("{% load charts %}{% chart_compliance_history a %}{% chart_ratings a %}")
    with CaptureQueriesContext(connection) as queries:
        template.render(Context({"a": agreement}))
    return len(queries)


def _rated_agreement(n: int, parties, editor):
    agreement = factories.agreement_make(parties=parties)
    for i in range(n):
        commitment = factories.commitment_make(agreement=agreement, obligor=parties[i % 2])
        day = dt.date(2025, 11, 1) + dt.timedelta(days=i)
        assessment_record(commitment=commitment, party=parties[i % 2], rating="in_the_works",
                          justification="Under way.", assessed_on=day, user=editor,
                          now=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))
    return agreement


def test_the_charts_cost_the_same_queries_for_3_and_30_rated_commitments(japan, usa, editor):
    small = _rated_agreement(3, [japan, usa], editor)
    large = _rated_agreement(30, [japan, usa], editor)
    assert _chart_queries(small) == _chart_queries(large) <= 8


def test_the_history_costs_the_same_queries_for_10_and_1000_ratings(japan, usa, editor):
    """A long history is swept in Python: one query for all its ratings, not one per date."""
    agreements = []
    for count in (10, 1000):
        agreement = factories.agreement_make(parties=[japan, usa])
        shared = factories.commitment_make(agreement=agreement, obligor=japan)
        shared.co_obligors.set([usa])
        for i in range(count):
            day = agreement.date + dt.timedelta(days=i * 400 // count)
            assessment_record(
                commitment=shared, party=(japan, usa)[i % 2],
                rating=("in_the_works", "stalled")[i // 2 % 2], justification=f"Week {i}.",
                assessed_on=day, user=editor,
                now=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
            )
        agreements.append(agreement)
    small, large = (_chart_queries(agreement) for agreement in agreements)
    assert small == large
    chart = charts.compliance_history_chart(agreement=agreements[1], today=TODAY)
    assert chart is not None and len(chart.rows) == 400


@pytest.mark.parametrize(
    ("start", "end", "labels"),
    [
        (dt.date(2025, 10, 28), dt.date(2026, 12, 6),
         ["January 2026", "April 2026", "July 2026", "October 2026"]),
        (dt.date(2025, 8, 21), dt.date(2028, 12, 31), ["2026", "2027", "2028"]),
        (dt.date(2026, 3, 2), dt.date(2026, 3, 20), ["March 2, 2026", "March 20, 2026"]),
    ],
)
def test_date_ticks_fit_the_span(start, end, labels):
    with translation.override("en"):
        assert [label for _day, label in charts.date_ticks(start, end)] == labels


def test_value_ticks_are_round_and_reach_the_top():
    assert charts.value_ticks(750) == [0, 200, 400, 600, 800]
    assert charts.value_ticks(1) == [0, 0.25, 0.5, 0.75, 1]
