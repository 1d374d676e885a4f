"""A report's rows written in Python (``commitments.templatetags.report_rows``) are the HTML
the loops of ``commitments/_report_body.html`` wrote before them, byte for byte, in English and
in French, with and without the editors' "Correct" links.

The loops are kept here only as the oracle, rendered with the same reading. The rows cover
the cases: two obligors, a row nobody rated, evidence with and without a source date and
locator, a corrected rating, justification and evidence (twice for one field), a correction
of the whole report, and markup in every text a user writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from commitments.report_files import _rendering_version
from commitments.selectors import report_reading
from commitments.services.assessments import assessment_record
from commitments.services.reports import report_correct, report_freeze
from commitments.templatetags import report_rows
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)

#: The loops as they stood in commitments/_report_body.html.
LINES_LOOP = (
    '{% for line in entry.lines %}{% with row=line.row %}<tr id="row-{{ row.position }}"{% if line.corrected %} class="corrected"{% endif %}>\n'  # noqa: E501
    '      <td><span class="key">{{ row.commitment_key }}</span> {{ row.commitment_title }}</td>\n'
    '      <td>{% if line.rating != row.rating|default:"not_rated" %}<del>{{ row.rating|rating_label }}</del> {% endif %}<span class="rating rating-{{ line.rating }}">{{ line.rating|rating_label }}</span></td>\n'  # noqa: E501
    '      <td class="num">{% if line.score != row.score %}<del>{{ row.score|signed_score }}</del> {% endif %}{{ line.score|signed_score }}</td>\n'  # noqa: E501
    '      <td>{% if line.justification != row.justification %}<del>{{ row.justification }}</del> {% endif %}{{ line.justification|default:"—" }}\n'  # noqa: E501
    '        {% if line.evidence %}<blockquote>{% if line.evidence != row.evidence_quote %}<del>{{ row.evidence_quote }}</del> {% endif %}{{ line.evidence }}</blockquote>{% if row.source_title %}<p class="source">— {{ row.source_title }}{% if row.source_published_on %}, {{ row.source_published_on|day }}{% endif %}{% if row.evidence_locator %} ({{ row.evidence_locator }}){% endif %}</p>{% endif %}{% endif %}\n'  # noqa: E501
    '        {% for c in line.corrections %}<p class="correction"><strong>{% blocktranslate with day=c.corrected_on|day field=c.get_field_display %}Corrected on {{ day }} ({{ field }}):{% endblocktranslate %}</strong> {% if c.field == "rating" %}<del>{{ c.old_value|rating_label }}</del> → {{ c.new_value|rating_label }}{% else %}<del>{{ c.old_value|default:"—" }}</del> → {{ c.new_value|default:"—" }}{% endif %}. {{ c.note }}</p>{% endfor %}\n'  # noqa: E501
    "      </td>\n"
    "      <td>{{ row.assessed_on|day }}</td>\n"
    '      {% if correct_forms %}<td><a href="?row={{ row.pk }}#correct">{% translate "Correct" %}</a></td>{% endif %}\n'  # noqa: E501
    "    </tr>{% endwith %}{% endfor %}"
)

SOURCES_LOOP = (
    "{% for title, url, published in reading.sources %}<li>{{ title }}{% if published %}, "
    '{{ published|day }}{% endif %}{% if url %} — <a href="{{ url }}">{{ url }}</a>{% endif %}'
    "</li>{% endfor %}"
)


def _oracle(loop: str, context: dict[str, Any], lang: str) -> str:
    template = engines["django"].from_string("{% load i18n assessment %}" + loop)
    with translation.override(lang):
        return template.render(context)


@pytest.fixture
def report(agreement, japan, usa, make_commitment, editor):
    """A report of two obligors' rows, corrected in every way a report can be."""
    official = factories.source_make(
        title="Communiqué <officiel>", url="https://a.example/?a=1&b=2"
    )
    undated = factories.source_make(
        title="Notes & minutes", url="", published_on=dt.date(2026, 1, 2)
    )
    shared = make_commitment(title="Hold <the> summit & more", obligor=usa)
    shared.co_obligors.add(japan)
    for party, source, rating in ((usa, official, "kept"), (japan, undated, "broken")):
        assessment_record(
            commitment=shared,
            party=party,
            rating=rating,
            justification=f"Done by {party.name} <em>on time</em>.",
            assessed_on=dt.date(2026, 1, 5),
            evidence=factories.citation_make(
                source=source,
                commitment=shared,
                quote="« Nous tiendrons <le> sommet »",
                locator="p. 2" if source is official else "",
            ),
            now=NOW,
        )
    make_commitment(title="Never rated")
    frozen = report_freeze(agreement=agreement, title="Interim", cutoff=dt.date(2026, 1, 31))
    first = frozen.rows.order_by("position").first()
    for field, value, note in (
        ("rating", "compromise", "A later source <b>said so</b>."),
        ("justification", "Half done & more <i>to</i> come.", "Reworded."),
        ("evidence", "« Encore une »", "Again."),
        ("evidence", "« Une autre citation »", "The quote was wrong."),
    ):
        report_correct(
            report=frozen, row=first, field=field, new_value=value, note=note, user=editor, now=NOW
        )
    # The unrated row had no justification: its old value reads "—".
    unrated = frozen.rows.exclude(pk=first.pk).get(rating="")
    report_correct(
        report=frozen,
        row=unrated,
        field="justification",
        new_value="Not started.",
        note="Checked.",
        user=editor,
        now=NOW,
    )
    report_correct(
        report=frozen,
        row=None,
        field="report",
        new_value="Retitled",
        note="Typo.",
        user=editor,
        now=NOW,
    )
    return frozen


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("correct_forms", [False, True])
def test_the_rows_are_the_html_of_the_template_loops(report, lang, correct_forms):
    """Each tag writes what its loop wrote, for every row and in both languages."""
    reading = report_reading(report=report)
    with translation.override(lang):
        tables = [report_rows.report_lines(entry.lines, correct_forms) for entry in reading.parties]
        sources = report_rows.report_sources(reading.sources)
        body = render_to_string(
            "commitments/_report_body.html", {"reading": reading, "correct_forms": correct_forms}
        )
    context = {"reading": reading, "correct_forms": correct_forms}
    assert tables == [
        _oracle(LINES_LOOP, {**context, "entry": entry}, lang) for entry in reading.parties
    ]
    assert sources == _oracle(SOURCES_LOOP, context, lang)
    assert all(table in body for table in tables) and sources in body
    assert len(reading.parties) == 2 and len(reading.lines) == 3 and len(reading.sources) == 2
    assert "&lt;em&gt;" in body and "<em>" not in body and "&amp;b=2" in body
    assert ('#correct"' in body) is correct_forms
    assert body.count('class="correction"') == 5


def test_the_report_pages_show_the_rows(editor_client, report):
    """The dashboard's report page and the public one show the rows the tags write."""
    response = editor_client.get(reverse("dashboard:report", args=[report.agreement_id, report.pk]))
    assert response.status_code == 200
    with translation.override("en"):
        rows = report_rows.report_lines(report_reading(report=report).parties[0].lines, True)
    assert rows in response.content.decode()


def test_the_cache_keys_digest_the_row_writers(monkeypatch):
    """A change to the modules that write a report's rows changes every cached report's key."""
    from commitments import report_files

    before = _rendering_version()
    _rendering_version.cache_clear()
    monkeypatch.setattr(report_files, "REPORT_MODULES", report_files.REPORT_MODULES[1:])
    try:
        assert _rendering_version() != before
    finally:
        _rendering_version.cache_clear()
