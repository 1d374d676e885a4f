"""The agreement page's repeated rows, written in Python: ``{% load agreement_rows %}``.

The dashboard's agreement page repeats rows for each of its commitments (the commitments
table, the timeline, each party's compliance table); with a thousand commitments the
template engine's nodes cost many times the page's SQL. These tags write the HTML the
template loops wrote (tested byte for byte against them, in English and French), escaped
with :mod:`core.html_rows`, with the helpers the templates used.

The timeline's rows are the same on the public agreement page: :func:`timeline_rows` is their
one writer (``publicsite.templatetags.public_rows`` registers it too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.template.defaultfilters import add
from django.templatetags.l10n import unlocalize
from django.utils.safestring import SafeString

from commitments.deadlines.text import date_formatted
from commitments.templatetags.assessment import day, excerpt, rating_label, signed_score
from commitments.templatetags.localized import localized
from commitments.translations import localized_text, reader_language
from core.html_rows import escape, memo, safe, truncated
from dashboard.templatetags.tracker import date_in_words
from dashboard.timeline import mark_words

register = template.Library()


@register.simple_tag
def timeline_rows(timeline: Any) -> SafeString:
    """Return the ``<g>`` of each row of an agreement's timeline (SVG), with each mark's
    tooltip ("Due March 31, 2026")."""
    # What each kind of mark is called (anything else is a fulfilment).
    words = {kind: escape(word) for kind, word in mark_words().items()}
    fulfilled = words["fulfilled"]
    number = memo(unlocalize)
    # ``|date:"DATE_FORMAT"``, remembered across tables (a timeline's days are many).
    day_words = memo(date_formatted)
    text_x = number(add(timeline.left, -8))
    rows = []
    for row in timeline.rows:
        y = number(row.y)
        span = (
            f'<line class="span" x1="{number(row.start_x)}" x2="{number(row.end_x)}" '
            f'y1="{y}" y2="{y}"/>'
            if row.end_x is not None
            else ""
        )
        marks = "".join(
            f'<circle class="mark-{escape(mark.kind)}{" stage" if mark.is_stage else ""}" '
            f'cx="{number(mark.x)}" cy="{y}" r="5"><title>{words.get(mark.kind, fulfilled)} '
            f"{day_words(mark.date)}</title></circle>"
            for mark in row.marks
        )
        title = escape(row.title)
        rows.append(
            f'<g class="row state-{escape(row.state)}">\n'
            f'      <a href="{escape(row.url)}" aria-label="{title}"><title>{title}</title>'
            f'<text x="{text_x}" y="{number(add(row.y, 4))}" text-anchor="end" '
            f'aria-hidden="true">{escape(truncated(row.title, 30))}</text></a>\n'
            f"      {span}\n"
            f"      {marks}\n"
            "    </g>"
        )
    return safe("".join(rows))


@register.simple_tag
def timeline_undated(timeline: Any) -> SafeString:
    """Return the links to the timeline's undated commitments, separated by " · "."""
    return safe(
        " · ".join(
            f'<a href="{escape(lane.url)}">{escape(lane.title)}</a>' for lane in timeline.undated
        )
    )


@register.simple_tag
def agreement_commitment_rows(rows: Iterable[Any]) -> SafeString:
    """Return the ``<tr>`` of each row of the dashboard agreement page's commitments table
    (``rows``: the view's ``CommitmentRow``, each with its title, URL and obligors)."""
    # Rows name a few obligors, and a few lists of them, many times: each list is written
    # once, by the parties' ids (a model instance's own hash costs more than the lookup).
    party_names: dict[int, str] = {}
    obligor_words: dict[tuple[int, ...], str] = {}
    day_words = memo(date_in_words)
    status_words: dict[str, str] = {}
    out = []
    for row in rows:
        c = row.commitment
        if c.status not in status_words:
            status_words[c.status] = escape(c.get_status_display())
        obligors = tuple(party.pk for party in row.obligors)
        if obligors not in obligor_words:
            for party in row.obligors:
                if party.pk not in party_names:
                    party_names[party.pk] = escape(localized(party, "name"))
            obligor_words[obligors] = ", ".join(party_names[pk] for pk in obligors)
        out.append(
            f"<tr><td>{row.link}</td><td>{obligor_words[obligors]}</td>\n"
            f"      <td>{day_words(c.due_date, c.due_precision) if c.due_date else '—'}</td>"
            f"<td>{status_words[c.status]}</td></tr>"
        )
    return safe("".join(out))


@register.simple_tag
def agreement_compliance_rows(rows: Iterable[Any], commitments: Mapping[int, Any]) -> SafeString:
    """Return the ``<tr>`` of each row of a party's compliance table (dashboard agreement
    page); ``commitments`` holds the page's ``CommitmentRow`` (title and link) by pk."""
    language = reader_language()
    # The rating's two cells follow from the rating alone (its score is the rating's): written
    # once for each rating the table holds.
    rating_cells: dict[str, str] = {}
    day_words = memo(day)
    out = []
    for row in rows:
        assessment = row.assessment
        rating = row.rating
        if rating not in rating_cells:
            rating_cells[rating] = (
                f'        <td><span class="rating rating-{escape(rating)}">'
                f"{escape(rating_label(rating))}</span></td>\n"
                f'        <td class="num score">{escape(signed_score(row.score))}</td>\n'
            )
        why = (
            excerpt(localized_text(assessment, "justification", language), 25)
            if assessment
            else "—"
        )
        out.append(
            "<tr>\n"
            f"        <td>{commitments[row.commitment.pk].link}</td>\n"
            f"{rating_cells[rating]}"
            f"        <td>{escape(why)}</td>\n"
            f"        <td>{day_words(assessment.assessed_on) if assessment else '—'}</td>\n"
            "      </tr>"
        )
    return safe("".join(out))
