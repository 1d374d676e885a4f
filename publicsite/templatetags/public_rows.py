"""The agreement page's repeated rows, written in Python: ``{% load public_rows %}``.

An agreement page repeats three rows for each of its commitments (the commitments table,
the timeline, each party's compliance table): with a thousand commitments, the template
engine's cost per node made the page many times slower than the SQL behind it. These tags
write the same HTML (every value escaped as the template would: :mod:`core.html_rows`), with
the same helpers the templates use (``localized``, ``date_in_words``, ``rating_label``,
``signed_score``, ``excerpt``, ``day``). Work a table repeats is done once per table: each
label translated once, each row's URL made from one reversed pattern, each date, rating,
status and party name written once (memos that live for one call, never across requests).
The timeline's rows are the dashboard's too: one writer,
:func:`dashboard.templatetags.agreement_rows.timeline_rows`, registered here as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from commitments.templatetags.assessment import day, excerpt, rating_label, signed_score
from commitments.templatetags.localized import localized, localized_text
from core.html_rows import escape, memo, safe
from dashboard.templatetags.agreement_rows import timeline_rows
from dashboard.templatetags.tracker import date_in_words

register = template.Library()

#: A key no real key can be (keys are slugs of letters, digits and hyphens): reversed once,
#: then replaced by each row's key.
_KEY = "__key__"


def key_url(name: str, lang: str) -> Callable[[str], str]:
    """Return ``key -> reverse(name, lang=lang, key=key)``, reversing the route only once."""
    pattern = reverse(name, kwargs={"lang": lang, "key": _KEY})
    return lambda key: pattern.replace(_KEY, key)


@register.simple_tag
def commitment_rows(lines: Iterable[Any], lang: str) -> SafeString:
    """Return the ``<tr>`` of each line of the agreement page's commitments table."""
    url = key_url("public:commitment", lang)
    obligors, due = escape(_("Obligors")), escape(_("Due date"))
    status, rating = escape(_("Status")), escape(_("Rating"))
    no_date = f'<span class="muted">{escape(_("No date"))}</span>'
    overdue = f' <strong class="overdue">{escape(_("Overdue"))}</strong>'
    party_name: dict[int, str] = {}
    day_words = memo(date_in_words)
    status_words: dict[str, str] = {}
    rating_words = memo(rating_label)
    rows = []
    for line in lines:
        c = line.commitment
        for party, _rating in line.ratings:
            if party.pk not in party_name:
                party_name[party.pk] = escape(localized(party, "name"))
        names = [party_name[party.pk] for party, _rating in line.ratings]
        if c.status not in status_words:
            status_words[c.status] = escape(c.get_status_display())
        several = len(names) > 1
        ratings = "".join(
            f'<li>{name + ": " if several else ""}<span class="rating rating-{escape(r)}">'
            f"{rating_words(r)}</span></li>"
            for name, (_party, r) in zip(names, line.ratings, strict=True)
        )
        rows.append(
            "<tr>\n"
            f'      <th scope="row"><a href="{escape(url(c.key))}">'
            f"{escape(localized(c, 'title'))}</a></th>\n"
            f'      <td data-label="{obligors}">{", ".join(names)}</td>\n'
            f'      <td data-label="{due}">'
            f"{day_words(c.due_date, c.due_precision) if c.due_date else no_date}</td>\n"
            f'      <td data-label="{status}"><span class="status status-{escape(c.status)}">'
            f"{status_words[c.status]}</span>"
            f"{overdue if c.deadline_state == 'overdue' else ''}</td>\n"
            f'      <td data-label="{rating}"><ul class="plain">{ratings}</ul></td>\n'
            "    </tr>"
        )
    return safe("".join(rows))


register.simple_tag(timeline_rows)


@register.simple_tag
def compliance_rows(rows: Iterable[Any], lang: str) -> SafeString:
    """Return the ``<tr>`` of each row of a party's compliance table (agreement page)."""
    url = key_url("public:commitment", lang)
    rating, score = escape(_("Rating")), escape(_("Score"))
    justification, assessed = escape(_("Justification")), escape(_("Assessed"))
    unscored = f'<span class="muted">{escape(_("not in the average"))}</span>'
    rating_words = memo(rating_label)
    score_words = memo(signed_score)
    day_words = memo(day)
    out = []
    for row in rows:
        assessment = row.assessment
        why = excerpt(localized_text(assessment, "justification"), 25) if assessment else "—"
        out.append(
            "<tr>\n"
            f'        <th scope="row"><a href="{escape(url(row.commitment.key))}">'
            f"{escape(localized(row.commitment, 'title'))}</a></th>\n"
            f'        <td data-label="{rating}"><span class="rating rating-{escape(row.rating)}">'
            f"{rating_words(row.rating)}</span></td>\n"
            f'        <td class="num score" data-label="{score}">'
            f"{unscored if row.score is None else score_words(row.score)}</td>\n"
            f'        <td data-label="{justification}">{escape(why)}</td>\n'
            f'        <td data-label="{assessed}">'
            f"{day_words(assessment.assessed_on) if assessment else '—'}</td>\n"
            "      </tr>"
        )
    return safe("".join(out))
