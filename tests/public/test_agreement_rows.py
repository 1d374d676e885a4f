"""The agreement page's rows written in Python (``publicsite.templatetags.public_rows``) are
the HTML the template loops wrote before them, byte for byte, in English and in French.

The loops are kept here only as the oracle: each is rendered with the page's own context and
compared with the tag's output, on rows that cover the cases (a French title and its English
fallback, a machine translation, an escaped title, a co-obligor, an unrated party, an undated
commitment, an overdue one, a revised one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.template import engines
from django.utils import translation

from commitments.services.assessments import assessment_record
from publicsite.templatetags import public_rows
from tests import factories

from .conftest import NOW, Site

pytestmark = pytest.mark.django_db

COMMITMENT_LOOP = (
    "{% for line in page.lines %}{% with c=line.commitment %}<tr>\n"
    '      <th scope="row"><a href="{% url \'public:commitment\' lang=LANGUAGE_CODE key=c.key %}">{% localized c "title" %}</a></th>\n'  # noqa: E501
    '      <td data-label="{% translate \'Obligors\' %}">{% for party, rating in line.ratings %}{% localized party "name" %}{% if not forloop.last %}, {% endif %}{% endfor %}</td>\n'  # noqa: E501
    '      <td data-label="{% translate \'Due date\' %}">{% if c.due_date %}{{ c.due_date|date_in_words:c.due_precision }}{% else %}<span class="muted">{% translate "No date" %}</span>{% endif %}</td>\n'  # noqa: E501
    '      <td data-label="{% translate \'Status\' %}"><span class="status status-{{ c.status }}">{{ c.get_status_display }}</span>{% if c.deadline_state == "overdue" %} <strong class="overdue">{% translate "Overdue" %}</strong>{% endif %}</td>\n'  # noqa: E501
    '      <td data-label="{% translate \'Rating\' %}"><ul class="plain">{% for party, rating in line.ratings %}<li>{% if line.ratings|length > 1 %}{% localized party "name" %}: {% endif %}<span class="rating rating-{{ rating }}">{{ rating|rating_label }}</span></li>{% endfor %}</ul></td>\n'  # noqa: E501
    "    </tr>{% endwith %}{% endfor %}"
)

TIMELINE_LOOP = (
    '{% for row in timeline.rows %}<g class="row state-{{ row.state }}">\n'
    '      <a href="{{ row.url }}" aria-label="{{ row.title }}"><title>{{ row.title }}</title><text x="{{ timeline.left|add:-8|unlocalize }}" y="{{ row.y|add:4|unlocalize }}" text-anchor="end" aria-hidden="true">{{ row.title|truncatechars:30 }}</text></a>\n'  # noqa: E501
    '      {% if row.end_x is not None %}<line class="span" x1="{{ row.start_x|unlocalize }}" x2="{{ row.end_x|unlocalize }}" y1="{{ row.y|unlocalize }}" y2="{{ row.y|unlocalize }}"/>{% endif %}\n'  # noqa: E501
    '      {% for mark in row.marks %}<circle class="mark-{{ mark.kind }}{% if mark.is_stage %} stage{% endif %}" cx="{{ mark.x|unlocalize }}" cy="{{ row.y|unlocalize }}" r="5"><title>{% if mark.kind == "due" %}{% translate "Due" %}{% elif mark.kind == "effective" %}{% translate "Effective from" %}{% elif mark.kind == "announced" %}{% translate "Announced" %}{% elif mark.kind == "signed" %}{% translate "Signed" %}{% elif mark.kind == "in_force" %}{% translate "In force" %}{% elif mark.kind == "ended" %}{% translate "Ended" %}{% else %}{% translate "Fulfilled" %}{% endif %} {{ mark.date|date:"DATE_FORMAT" }}</title></circle>{% endfor %}\n'  # noqa: E501
    "    </g>{% endfor %}"
)

COMPLIANCE_LOOP = (
    "{% for row in entry.rows %}<tr>\n"
    '        <th scope="row"><a href="{% url \'public:commitment\' lang=LANGUAGE_CODE key=row.commitment.key %}">{% localized row.commitment "title" %}</a></th>\n'  # noqa: E501
    '        <td data-label="{% translate \'Rating\' %}"><span class="rating rating-{{ row.rating }}">{{ row.rating|rating_label }}</span></td>\n'  # noqa: E501
    '        <td class="num score" data-label="{% translate \'Score\' %}">{% if row.score is None %}<span class="muted">{% translate "not in the average" %}</span>{% else %}{{ row.score|signed_score }}{% endif %}</td>\n'  # noqa: E501
    '        <td data-label="{% translate \'Justification\' %}">{% if row.assessment %}{% localized_text row.assessment "justification" as justification %}{{ justification|excerpt:25 }}{% else %}—{% endif %}</td>\n'  # noqa: E501
    "        <td data-label=\"{% translate 'Assessed' %}\">{% if row.assessment %}{{ row.assessment.assessed_on|day }}{% else %}—{% endif %}</td>\n"  # noqa: E501
    "      </tr>{% endfor %}"
)


def _oracle(loop: str, context: dict[str, Any], lang: str) -> str:
    template = engines["django"].from_string(
        "{% load i18n l10n localized assessment tracker %}" + loop
    )
    with translation.override(lang):
        return template.render({**context, "LANGUAGE_CODE": lang})


@pytest.fixture
def varied(site: Site) -> Site:
    """Add rows that cover what the rows may hold."""
    hostile = factories.commitment_make(
        agreement=site.agreement,
        obligor=site.usa,
        key="hostile",
        title="<script>alert(\"x\")</script> & 'quoted' — a very long title indeed",
        machine_translations={"fr": {"title": "Titre traduit <b>par machine</b>"}},
    )
    hostile.co_obligors.add(site.japan)
    citation = factories.citation_make(source=site.source, commitment=hostile)
    assessment_record(
        commitment=hostile,
        party=site.usa,
        rating="broken",
        justification="Nothing <em>happened</em>. " * 20,
        assessed_on=dt.date(2026, 1, 12),
        evidence=citation,
        now=NOW,
    )
    factories.commitment_make(
        agreement=site.agreement,
        obligor=site.japan,
        key="overdue",
        title="Already late",
        offset_amount=1,
    )
    factories.deadline_revision_make(
        commitment=site.other, source=site.source, new_due_date=dt.date(2031, 6, 30)
    )
    return site


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_rows_are_the_html_of_the_template_loops(client, varied, lang):
    """Each tag writes what its template loop wrote, for every row and in both languages."""
    response = client.get(f"/public/{lang}/agreements/{varied.agreement.key}/")
    assert response.status_code == 200
    context = {name: response.context[name] for name in ("page", "timeline", "compliance")}
    with translation.override(lang):
        rows = public_rows.commitment_rows(context["page"].lines, lang)
        timeline = public_rows.timeline_rows(context["timeline"])
        compliance = [
            public_rows.compliance_rows(entry.rows, lang) for entry in context["compliance"].parties
        ]
    assert rows == _oracle(COMMITMENT_LOOP, context, lang)
    assert timeline == _oracle(TIMELINE_LOOP, context, lang)
    assert compliance == [
        _oracle(COMPLIANCE_LOOP, {**context, "entry": entry}, lang)
        for entry in context["compliance"].parties
    ]
    # The hostile title (its machine translation in French) is escaped, not markup.
    assert "&lt;" in rows and "<script>" not in rows and "<b>" not in rows
    assert len(context["page"].lines) == 4
