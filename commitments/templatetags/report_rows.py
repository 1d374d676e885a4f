"""A frozen report's repeated rows, written in Python: ``{% load report_rows %}``.

A report repeats one row for each commitment × obligor (with its corrections) and one line
for each source it cites; at a thousand rows the template engine's nodes cost many times the
SQL behind the page. These tags write the HTML ``commitments/_report_body.html``'s loops
wrote (tested byte for byte against them, in English and French), escaped with
:mod:`core.html_rows`, with the filters the template used (``rating_label``,
``signed_score``, ``day``). Every page that shows a report (the dashboard's, the public
site's, the printable one behind the PDF) includes that template, so all of them use these.

A cached report's key digests this module with the templates
(``commitments.report_files.REPORT_MODULES``): a change here makes new keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.html_rows import escape, memo, safe

from .assessment import day, rating_label, signed_score

register = template.Library()


@register.simple_tag
def report_lines(lines: Iterable[Any], correct_forms: bool) -> SafeString:
    """Return the ``<tr>`` of each line of one party's table of a report (``ReportLine``),
    its corrections beside the text they replace; with ``correct_forms``, a "Correct" link."""
    rating_words = memo(rating_label)
    score_words = memo(signed_score)
    day_words = memo(day)
    number = memo(localize)
    correct = escape(_("Correct"))
    out = []
    for line in lines:
        row = line.row
        rating, score, justification = line.rating, line.score, line.justification
        frozen_rating = (
            f"<del>{rating_words(row.rating)}</del> "
            if rating != (row.rating or "not_rated")
            else ""
        )
        frozen_score = f"<del>{score_words(row.score)}</del> " if score != row.score else ""
        frozen_text = (
            f"<del>{escape(row.justification)}</del> " if justification != row.justification else ""
        )
        evidence = ""
        if line.evidence:
            frozen_quote = (
                f"<del>{escape(row.evidence_quote)}</del> "
                if line.evidence != row.evidence_quote
                else ""
            )
            source = ""
            if row.source_title:
                published = (
                    f", {day_words(row.source_published_on)}" if row.source_published_on else ""
                )
                locator = f" ({escape(row.evidence_locator)})" if row.evidence_locator else ""
                source = f'<p class="source">— {escape(row.source_title)}{published}{locator}</p>'
            evidence = f"<blockquote>{frozen_quote}{escape(line.evidence)}</blockquote>{source}"
        corrections = "".join(_correction(c, rating_words, day_words) for c in line.corrections)
        link = (
            f'<td><a href="?row={number(row.pk)}#correct">{correct}</a></td>'
            if correct_forms
            else ""
        )
        corrected = ' class="corrected"' if line.corrected else ""
        out.append(
            f'<tr id="row-{number(row.position)}"{corrected}>\n'
            f'      <td><span class="key">{escape(row.commitment_key)}</span> '
            f"{escape(row.commitment_title)}</td>\n"
            f"      <td>{frozen_rating}"
            f'<span class="rating rating-{escape(rating)}">{rating_words(rating)}</span></td>\n'
            f'      <td class="num">{frozen_score}{score_words(score)}</td>\n'
            f"      <td>{frozen_text}{escape(justification or '—')}\n"
            f"        {evidence}\n"
            f"        {corrections}\n"
            "      </td>\n"
            f"      <td>{day_words(row.assessed_on)}</td>\n"
            f"      {link}\n"
            "    </tr>"
        )
    return safe("".join(out))


def _correction(correction: Any, rating_words: Any, day_words: Any) -> str:
    """Return one correction of a line: when, which field, the old value struck through."""
    heading = _("Corrected on %(day)s (%(field)s):") % {
        "day": day_words(correction.corrected_on),
        "field": escape(correction.get_field_display()),
    }
    if correction.field == "rating":
        change = (
            f"<del>{rating_words(correction.old_value)}</del> → "
            f"{rating_words(correction.new_value)}"
        )
    else:
        change = (
            f"<del>{escape(correction.old_value or '—')}</del> → "
            f"{escape(correction.new_value or '—')}"
        )
    return (
        f'<p class="correction"><strong>{heading}</strong> {change}. {escape(correction.note)}</p>'
    )


@register.simple_tag
def report_sources(sources: Iterable[tuple[str, str, dt.date | None]]) -> SafeString:
    """Return the ``<li>`` of each source a report cites: its title, date and link."""
    day_words = memo(day)
    out = []
    for title, url, published in sources:
        when = f", {day_words(published)}" if published else ""
        link = f' — <a href="{escape(url)}">{escape(url)}</a>' if url else ""
        out.append(f"<li>{escape(title)}{when}{link}</li>")
    return safe("".join(out))
