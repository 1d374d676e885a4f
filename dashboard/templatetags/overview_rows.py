"""The overview's repeated rows, written in Python: ``{% load overview_rows %}``.

The overview lists every party and every agreement with its counts; with a hundred
agreements the template engine's nodes for those rows cost more than the rest of the page
beside its SQL. These tags write the HTML the template loops wrote (tested byte for byte
against them, in English and French), escaped with :mod:`core.html_rows`, with the helpers
the templates used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.templatetags.l10n import unlocalize
from django.utils.formats import localize
from django.utils.safestring import SafeString

from commitments.templatetags.localized import localized
from commitments.translations import reader_language
from core.html_rows import escape, memo, pk_urls, safe

register = template.Library()


@register.simple_tag
def overview_party_rows(
    rows: Iterable[tuple[Any, Any]], list_url: str, links: Mapping[str, str]
) -> SafeString:
    """Return the ``<tr>`` of each party of the overview's "By party" table (``rows``: the
    selector's ``(party, tally)`` pairs), each count linked to the list it counts."""
    language = reader_language()
    number = memo(localize)
    url = escape(list_url)
    overdue, due_30, fulfilled = (escape(links[n]) for n in ("overdue", "due_30", "fulfilled"))
    out = []
    for party, tally in rows:
        party_url = f"{url}?obligor={escape(unlocalize(party.pk))}"
        out.append(
            "<tr>\n"
            f'      <th scope="row"><a href="{party_url}">'
            f"{localized(party, 'name', language)}</a></th>\n"
            f'      <td class="num">{number(tally.total)}</td>\n'
            f'      <td class="num"><a href="{party_url}&amp;{overdue}">'
            f"{number(tally.overdue)}</a></td>\n"
            f'      <td class="num"><a href="{party_url}&amp;{due_30}">'
            f"{number(tally.due_30)}</a></td>\n"
            f'      <td class="num"><a href="{party_url}&amp;{fulfilled}">'
            f"{number(tally.fulfilled)}</a></td></tr>"
        )
    return safe("".join(out))


@register.simple_tag
def overview_agreement_rows(
    rows: Iterable[tuple[Any, Any]], list_url: str, links: Mapping[str, str]
) -> SafeString:
    """Return the ``<tr>`` of each agreement of the overview's "By agreement" table
    (``rows``: the selector's ``(agreement, tally)`` pairs), with its fulfilled share."""
    rows = list(rows)
    pages = pk_urls("dashboard:agreement", (agreement.pk for agreement, _ in rows))
    language = reader_language()
    number = memo(localize)
    plain = memo(unlocalize)
    day_words = memo(lambda value: date_filter(value, "DATE_FORMAT"))
    url = escape(list_url)
    overdue, fulfilled = (escape(links[n]) for n in ("overdue", "fulfilled"))
    out = []
    for agreement, tally in rows:
        list_link = f"{url}?agreement={plain(agreement.pk)}"
        progress = (
            f'<progress max="{plain(tally.total)}" value="{plain(tally.fulfilled)}">'
            f"{number(tally.fulfilled)}/{number(tally.total)}</progress>"
            if tally.total
            else ""
        )
        out.append(
            "<tr>\n"
            f'      <th scope="row"><a href="{escape(pages[agreement.pk])}">'
            f"{localized(agreement, 'title', language)}</a></th>\n"
            f"      <td>{day_words(agreement.date)}</td>\n"
            f'      <td class="num"><a href="{list_link}">{number(tally.total)}</a></td>\n'
            f'      <td class="num"><a href="{list_link}&amp;{overdue}">'
            f"{number(tally.overdue)}</a></td>\n"
            f'      <td class="num"><a href="{list_link}&amp;{fulfilled}">'
            f"{number(tally.fulfilled)}</a></td>\n"
            f"      <td>{progress}</td></tr>"
        )
    return safe("".join(out))
