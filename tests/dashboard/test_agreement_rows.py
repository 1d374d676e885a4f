"""The dashboard agreement page's rows written in Python
(``dashboard.templatetags.agreement_rows``) are the HTML the template loops wrote before them,
byte for byte, in English and in French.

The loops are kept here only as the oracle: each is rendered with the page's own context and
compared with the tag's output, on rows that cover the cases (a French title and its English
fallback, a machine translation, an escaped title, a co-obligor, an unrated party, two undated
commitments, a fulfilled one, implementation stages, a long justification).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from commitments.services.assessments import assessment_record
from commitments.templatetags.localized import localized_html
from commitments.translations import Localized
from dashboard.templatetags import agreement_rows
from dashboard.timeline import mark_words
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)

#: The loops as they stood in dashboard/agreement_detail.html and dashboard/_compliance.html.
COMMITMENT_LOOP = (
    '{% for row in commitments %}{% with c=row.commitment %}<tr><td><a href="{{ row.url }}">{% localized c "title" %}</a></td><td>{% include "dashboard/_obligors.html" with parties=row.obligors %}</td>\n'  # noqa: E501
    "      <td>{% if c.due_date %}{{ c.due_date|date_in_words:c.due_precision }}{% else %}—{% endif %}</td><td>{{ c.get_status_display }}</td></tr>{% endwith %}{% endfor %}"  # noqa: E501
)

TIMELINE_LOOP = (
    '{% for row in timeline.rows %}<g class="row state-{{ row.state }}">\n'
    '      <a href="{{ row.url }}" aria-label="{{ row.title }}"><title>{{ row.title }}</title><text x="{{ timeline.left|add:-8|unlocalize }}" y="{{ row.y|add:4|unlocalize }}" text-anchor="end" aria-hidden="true">{{ row.title|truncatechars:30 }}</text></a>\n'  # noqa: E501
    '      {% if row.end_x is not None %}<line class="span" x1="{{ row.start_x|unlocalize }}" x2="{{ row.end_x|unlocalize }}" y1="{{ row.y|unlocalize }}" y2="{{ row.y|unlocalize }}"/>{% endif %}\n'  # noqa: E501
    '      {% for mark in row.marks %}<circle class="mark-{{ mark.kind }}{% if mark.is_stage %} stage{% endif %}" cx="{{ mark.x|unlocalize }}" cy="{{ row.y|unlocalize }}" r="5"><title>{{ mark.title }}</title></circle>{% endfor %}\n'  # noqa: E501
    "    </g>{% endfor %}"
)

UNDATED_LOOP = (
    '{% for lane in timeline.undated %}<a href="{{ lane.url }}">{{ lane.title }}</a>'
    "{% if not forloop.last %} · {% endif %}{% endfor %}"
)

COMPLIANCE_LOOP = (
    "{% for row in entry.rows %}<tr>\n"
    '        <td><a href="{{ commitment_urls|item:row.commitment.pk }}">{% localized row.commitment "title" %}</a></td>\n'  # noqa: E501
    '        <td><span class="rating rating-{{ row.rating }}">{{ row.rating|rating_label }}</span></td>\n'  # noqa: E501
    '        <td class="num score">{{ row.score|signed_score }}</td>\n'
    '        <td>{% if row.assessment %}{% localized_text row.assessment "justification" as loc_text %}{{ loc_text|excerpt:25 }}{% else %}—{% endif %}</td>\n'  # noqa: E501
    "        <td>{% if row.assessment %}{{ row.assessment.assessed_on|day }}{% else %}—{% endif %}</td>\n"  # noqa: E501
    "      </tr>{% endfor %}"
)


def _oracle(loop: str, context: dict[str, Any], lang: str) -> str:
    template = engines["django"].from_string(
        "{% load i18n l10n localized assessment tracker %}" + loop
    )
    with translation.override(lang):
        return template.render(context)


def _titled(timeline: Any) -> Any:
    """Return ``timeline`` with each mark's ``title`` as the view used to write it
    (``"<kind's word> <date in DATE_FORMAT>"``), for the old loop."""
    words = mark_words()
    rows = [
        SimpleNamespace(
            **{
                **vars(row),
                "marks": [
                    SimpleNamespace(
                        kind=m.kind,
                        x=m.x,
                        is_stage=m.is_stage,
                        title=f"{words[m.kind]} {date_format(m.date, 'DATE_FORMAT')}",
                    )
                    for m in row.marks
                ],
            }
        )
        for row in timeline.rows
    ]
    return SimpleNamespace(left=timeline.left, rows=rows)


@pytest.fixture
def varied(agreement, japan, usa, source, make_commitment):
    """Rows that cover what the agreement page's rows may hold."""
    hostile = make_commitment(
        obligor=usa,
        title="<script>alert(\"x\")</script> & 'quoted' — a very long title indeed",
        machine_translations={"fr": {"title": "Titre traduit <b>par machine</b>"}},
    )
    hostile.co_obligors.add(japan)
    citation = factories.citation_make(source=source, commitment=hostile)
    assessment_record(
        commitment=hostile,
        party=usa,
        rating="broken",
        justification="Nothing <em>happened</em>. " * 20,
        assessed_on=dt.date(2026, 1, 12),
        evidence=citation,
        now=NOW,
    )
    french = make_commitment(title="Hold a meeting", title_fr="Tenir une réunion")
    assessment_record(
        evidence=factories.citation_make(source=source, commitment=french),
        commitment=french,
        party=japan,
        rating="kept",
        justification="Held.",
        justification_fr="Tenue.",
        assessed_on=dt.date(2026, 1, 5),
        now=NOW,
    )
    make_commitment(title="Ongoing", deadline_kind="none", offset_amount=None)
    make_commitment(title="Ongoing <b>&</b> 'open'", deadline_kind="none", offset_amount=None)
    make_commitment(
        title="Staged",
        announced_on=dt.date(2025, 7, 22),
        signed_on=dt.date(2025, 9, 4),
    )
    return agreement


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_rows_are_the_html_of_the_template_loops(editor_client, varied, lang):
    """Each tag writes what its template loop wrote, for every row and in both languages."""
    response = editor_client.get(
        reverse("dashboard:agreement", args=[varied.pk]), HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 200
    context = {
        name: response.context[name]
        for name in ("commitments", "timeline", "compliance", "commitment_rows")
    }
    # What the old loop read: each commitment's link by pk.
    context["commitment_urls"] = {pk: row.url for pk, row in context["commitment_rows"].items()}
    with translation.override(lang):
        rows = agreement_rows.agreement_commitment_rows(context["commitments"])
        timeline = agreement_rows.timeline_rows(context["timeline"])
        undated = agreement_rows.timeline_undated(context["timeline"])
        compliance = [
            agreement_rows.agreement_compliance_rows(entry.rows, context["commitment_rows"])
            for entry in context["compliance"].parties
        ]
        titled = _titled(context["timeline"])
    assert rows == _oracle(COMMITMENT_LOOP, context, lang)
    assert timeline == _oracle(TIMELINE_LOOP, {"timeline": titled}, lang)
    assert undated == _oracle(UNDATED_LOOP, context, lang)
    assert compliance == [
        _oracle(COMPLIANCE_LOOP, {**context, "entry": entry}, lang)
        for entry in context["compliance"].parties
    ]
    # Every row is on the page, the hostile title (its machine translation in French) escaped.
    html = response.content.decode()
    assert rows in html and timeline in html and all(part in html for part in compliance)
    assert undated in html and len(context["timeline"].undated) == 2
    escaped = "&lt;b&gt;par machine&lt;/b&gt;" if lang == "fr" else "&lt;script&gt;alert"
    assert escaped in rows and "<script>alert" not in html and "<b>par" not in html
    assert len(context["commitments"]) == 5
    assert sum(len(entry.rows) for entry in context["compliance"].parties) == 6
    assert any(m.is_stage for row in context["timeline"].rows for m in row.marks)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    "value",
    [
        Localized(text="Tenir <la> réunion & 'plus'", language="fr"),
        Localized(text="Hold <the> meeting", language="en", fallback=True),
        Localized(text="Traduit <b>par machine</b>", language="fr", machine=True),
        Localized(text="", language="en"),
        Localized(text="« Déjà » <sûr>", language="en", fallback=True),
    ],
)
def test_a_localized_text_is_written_as_format_html_wrote_it(value, language):
    """The ``localized`` tag's HTML (one writer for the rows and the tag) is what it was."""
    from django.utils.html import format_html
    from django.utils.safestring import SafeString
    from django.utils.translation import gettext

    with translation.override(language):
        if value.fallback:
            expected = format_html(
                '<span lang="{}">{}</span> <small class="translation-note">({})</small>',
                value.language,
                value.text,
                gettext("not translated"),
            )
        elif value.machine:
            expected = format_html(
                '{} <small class="translation-note">({})</small>',
                value.text,
                gettext("machine translation"),
            )
        else:
            expected = format_html("{}", value.text)
        assert localized_html(value) == expected
        assert isinstance(localized_html(value), SafeString)


def test_the_obligor_list_reads_the_prefetched_obligors_without_a_query(
    usa, japan, make_commitment
):
    """A commitment read with its obligors prefetched lists them with no query, as one read
    without the prefetch lists them; a co-obligor added later is listed (the prefetch is
    dropped)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from commitments.models import Commitment
    from commitments.selectors import obligors_prefetch

    commitment = make_commitment(obligor=usa)
    commitment.co_obligors.add(japan)
    plain = Commitment.objects.get(pk=commitment.pk).obligor_list
    loaded = (
        Commitment.objects.select_related("obligor")
        .prefetch_related(obligors_prefetch())
        .get(pk=commitment.pk)
    )
    with CaptureQueriesContext(connection) as captured:
        listed = loaded.obligor_list
    assert listed == plain == [usa, japan] and len(captured.captured_queries) == 0
    third = factories.party_make(key="france", name="France", country_code="FR")
    loaded.co_obligors.add(third)
    assert loaded.obligor_list == [usa, third, japan]
