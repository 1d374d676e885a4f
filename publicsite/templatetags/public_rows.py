"""The agreement page's repeated rows, written in Python: ``{% load public_rows %}``.

An agreement page repeats three rows for each of its commitments (the commitments table,
the timeline, each party's compliance table): with a thousand commitments, the template
engine's cost per node made the page many times slower than the SQL behind it. These tags
write the same HTML (every value escaped as the template would: :func:`_e`), with the same
helpers the templates use (``localized``, ``date_in_words``, ``rating_label``,
``signed_score``, ``excerpt``, ``day``). Work a table repeats is done once per table: each
label translated once, each row's URL made from one reversed pattern, each date, rating,
status and party name written once (memos that live for one call, never across requests).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from django import template
from django.template.defaultfilters import add, truncatechars
from django.template.defaultfilters import date as date_filter
from django.templatetags.l10n import unlocalize
from django.urls import reverse
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext as _

from commitments.templatetags.assessment import day, excerpt, rating_label, signed_score
from commitments.templatetags.localized import localized, localized_text
from dashboard.templatetags.tracker import date_in_words
from dashboard.timeline import mark_words

register = template.Library()

#: A key no real key can be (keys are slugs of letters, digits and hyphens): reversed once,
#: then replaced by each row's key.
_KEY = "__key__"


def key_url(name: str, lang: str) -> Callable[[str], str]:
    """Return ``key -> reverse(name, lang=lang, key=key)``, reversing the route only once."""
    pattern = reverse(name, kwargs={"lang": lang, "key": _KEY})
    return lambda key: pattern.replace(_KEY, key)


def _e(value: Any) -> str:
    """Escape ``value`` as ``{{ value }}`` does (``conditional_escape``), without its wrappers."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def _memo(function: Callable[..., Any]) -> Callable[..., str]:
    """Return ``function`` escaped and remembered by its arguments, for one table's rows."""
    seen: dict[Any, str] = {}

    def call(*args: Any) -> str:
        # By type too: 200 and 200.0 are one key of a dict, but are written "200" and "200.0".
        key = (args, tuple(map(type, args)))
        if key not in seen:
            seen[key] = _e(function(*args))
        return seen[key]

    return call


def _safe(text: str) -> SafeString:
    return mark_safe(text)  # noqa: S308 - every value in it went through _e


@register.simple_tag
def commitment_rows(lines: Iterable[Any], lang: str) -> SafeString:
    """Return the ``<tr>`` of each line of the agreement page's commitments table."""
    url = key_url("public:commitment", lang)
    obligors, due = _e(_("Obligors")), _e(_("Due date"))
    status, rating = _e(_("Status")), _e(_("Rating"))
    no_date = f'<span class="muted">{_e(_("No date"))}</span>'
    overdue = f' <strong class="overdue">{_e(_("Overdue"))}</strong>'
    party_name: dict[int, str] = {}
    day_words = _memo(date_in_words)
    status_words: dict[str, str] = {}
    rating_words = _memo(rating_label)
    rows = []
    for line in lines:
        c = line.commitment
        for party, _rating in line.ratings:
            if party.pk not in party_name:
                party_name[party.pk] = _e(localized(party, "name"))
        names = [party_name[party.pk] for party, _rating in line.ratings]
        if c.status not in status_words:
            status_words[c.status] = _e(c.get_status_display())
        several = len(names) > 1
        ratings = "".join(
            f'<li>{name + ": " if several else ""}<span class="rating rating-{_e(r)}">'
            f"{rating_words(r)}</span></li>"
            for name, (_party, r) in zip(names, line.ratings, strict=True)
        )
        rows.append(
            "<tr>\n"
            f'      <th scope="row"><a href="{_e(url(c.key))}">'
            f"{_e(localized(c, 'title'))}</a></th>\n"
            f'      <td data-label="{obligors}">{", ".join(names)}</td>\n'
            f'      <td data-label="{due}">'
            f"{day_words(c.due_date, c.due_precision) if c.due_date else no_date}</td>\n"
            f'      <td data-label="{status}"><span class="status status-{_e(c.status)}">'
            f"{status_words[c.status]}</span>"
            f"{overdue if c.deadline_state == 'overdue' else ''}</td>\n"
            f'      <td data-label="{rating}"><ul class="plain">{ratings}</ul></td>\n'
            "    </tr>"
        )
    return _safe("".join(rows))


@register.simple_tag
def timeline_rows(timeline: Any) -> SafeString:
    """Return the ``<g>`` of each row of the agreement page's timeline (SVG)."""
    # What each kind of mark is called (anything else is a fulfilment).
    words = {kind: _e(word) for kind, word in mark_words().items()}
    fulfilled = words["fulfilled"]
    number = _memo(unlocalize)
    day_words = _memo(lambda value: date_filter(value, "DATE_FORMAT"))
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
            f'<circle class="mark-{_e(mark.kind)}{" stage" if mark.is_stage else ""}" '
            f'cx="{number(mark.x)}" cy="{y}" r="5"><title>{words.get(mark.kind, fulfilled)} '
            f"{day_words(mark.date)}</title></circle>"
            for mark in row.marks
        )
        title = _e(row.title)
        rows.append(
            f'<g class="row state-{_e(row.state)}">\n'
            f'      <a href="{_e(row.url)}" aria-label="{title}"><title>{title}</title>'
            f'<text x="{text_x}" y="{number(add(row.y, 4))}" text-anchor="end" '
            f'aria-hidden="true">{_e(truncatechars(row.title, 30))}</text></a>\n'
            f"      {span}\n"
            f"      {marks}\n"
            "    </g>"
        )
    return _safe("".join(rows))


@register.simple_tag
def compliance_rows(rows: Iterable[Any], lang: str) -> SafeString:
    """Return the ``<tr>`` of each row of a party's compliance table (agreement page)."""
    url = key_url("public:commitment", lang)
    rating, score = _e(_("Rating")), _e(_("Score"))
    justification, assessed = _e(_("Justification")), _e(_("Assessed"))
    unscored = f'<span class="muted">{_e(_("not in the average"))}</span>'
    rating_words = _memo(rating_label)
    score_words = _memo(signed_score)
    day_words = _memo(day)
    out = []
    for row in rows:
        assessment = row.assessment
        why = excerpt(localized_text(assessment, "justification"), 25) if assessment else "—"
        out.append(
            "<tr>\n"
            f'        <th scope="row"><a href="{_e(url(row.commitment.key))}">'
            f"{_e(localized(row.commitment, 'title'))}</a></th>\n"
            f'        <td data-label="{rating}"><span class="rating rating-{_e(row.rating)}">'
            f"{rating_words(row.rating)}</span></td>\n"
            f'        <td class="num score" data-label="{score}">'
            f"{unscored if row.score is None else score_words(row.score)}</td>\n"
            f'        <td data-label="{justification}">{_e(why)}</td>\n'
            f'        <td data-label="{assessed}">'
            f"{day_words(assessment.assessed_on) if assessment else '—'}</td>\n"
            "      </tr>"
        )
    return _safe("".join(out))
