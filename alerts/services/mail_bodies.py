"""The alert mails' text and HTML bodies, written in Python in the active language.

They were eight Django templates (an alert's mail, a digest, and the parts each includes for
a deadline or a review); rendering them was a third of the sender's CPU per mail, most of it
the template engine's nodes and ``{% translate %}``'s look-ups, for mails whose words are
never shared with another recipient. These functions write the same bytes as those templates
did, in English and French (a test holds them to the templates, kept there as the oracle):
every value escaped in HTML as ``{{ value }}`` escapes it (:func:`core.html_rows.escape`),
none in the text bodies, the translated words themselves written as the templates wrote them
(not escaped). Each takes the items :func:`alerts.services.mail._item` makes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.template.defaultfilters import capfirst
from django.template.defaultfilters import date as date_filter
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commitments.templatetags.localized import localized
from commitments.translations import localized_text
from core.html_rows import escape

Item = dict[str, Any]

_TH = '<th style="text-align:left;padding-right:1em">'
_HEAD = (
    '<!DOCTYPE html>\n<html lang="{language}">\n'
    '<head><meta charset="utf-8"><title>{subject}</title></head>\n'
    '<body style="font-family:sans-serif;line-height:1.4;max-width:40em">\n'
)
_FOOT = '<p style="color:#777;font-size:.85em">{}</p>\n</body>\n</html>\n'


def alert_text(item: Item) -> str:
    """Return the text body of one alert's mail."""
    return f"{_opening(item)}\n\n{_part_text(item)}\n-- \n{_why(item)}\n\n"


def alert_html(item: Item, *, subject: str, language: str | None) -> str:
    """Return the HTML body of one alert's mail; ``subject`` is its title."""
    return (
        _head(subject=subject, language=language)
        + f'<p style="margin:0 0 1em">{escape(item["opening"])}{_escalation(item)}</p>\n'
        + _part_html(item)
        + "\n"
        + _FOOT.format(_why(item))
    )


def digest_text(items: Sequence[Item]) -> str:
    """Return the text body of a digest listing ``items``."""
    listed = "".join(
        f"\n{localize(number)}. {item['headline']} {_part_text(item)}"
        for number, item in enumerate(items, 1)
    )
    return f"{_digest_opening(items, str)}\n{listed}\n-- \n{_digest_why()}\n\n"


def digest_html(items: Sequence[Item], *, subject: str, language: str | None) -> str:
    """Return the HTML body of a digest listing ``items``; ``subject`` is its title."""
    listed = "".join(
        f'<p style="margin:0"><strong>{escape(item["headline"])}</strong></p>\n' + _part_html(item)
        for item in items
    )
    return (
        _head(subject=subject, language=language)
        + f'<p style="margin:0 0 1em">{_digest_opening(items, escape)}</p>\n'
        + listed
        + "\n"
        + _FOOT.format(_digest_why())
    )


def _head(*, subject: str, language: str | None) -> str:
    return _HEAD.format(language=escape(language or "en"), subject=escape(subject))


def _opening(item: Item) -> str:
    return f"{item['opening']}{_escalation(item)}"


def _escalation(item: Item) -> str:
    if item["alert"].threshold < 0:
        return " " + _("You are its escalation contact.")
    return ""


def _why(item: Item) -> str:
    """Return why the recipient gets the mail (its last line)."""
    if item.get("review"):
        return _("You receive this because you own this commitment in Commitment Tracker.")
    if item["alert"].user_id:
        return _("You receive this because you watch this commitment in Commitment Tracker.")
    return _("You receive this as the escalation contact of Commitment Tracker.")


def _digest_opening(items: Sequence[Item], write: Callable[[Any], str]) -> str:
    count = len(items)
    return ngettext(
        "%(counter)s commitment you watch needs attention:",
        "%(counter)s commitments you watch need attention:",
        count,
    ) % {"counter": write(localize(count))}


def _digest_why() -> str:
    return _(
        "You receive this daily digest because you watch these commitments in Commitment Tracker."
    )


def _day(value: Any) -> str:
    """Return ``value`` as ``{{ value|date:"Y-m-d" }}`` writes it."""
    return str(date_filter(value, "Y-m-d"))


def _obligors_label(item: Item) -> str:
    return _("Obligors") if len(item["obligors"]) > 1 else _("Obligor")


def _end_of_day(item: Item, write: Callable[[Any], str]) -> str:
    return _("end of day, %(zone)s") % {"zone": write(item["agreement"].time_zone)}


def _part_text(item: Item) -> str:
    """Return what the text body says of one alert (a deadline's or a review's)."""
    return _review_text(item) if item.get("review") else _item_text(item)


def _part_html(item: Item) -> str:
    return _review_html(item) if item.get("review") else _item_html(item)


def _item_text(item: Item) -> str:
    commitment, agreement = item["commitment"], item["agreement"]
    phrase = commitment.deadline_phrase
    citation = item["citation"]
    source = ""
    if citation:
        origin = citation.source
        source = (
            f'{_("Source")}: "{citation.quote}"\n'
            f"  - {origin.title}, {origin.publisher}, {_day(origin.published_on)}"
            + (f"\n  {origin.url}" if origin.url else "")
            + "\n"
        )
    return (
        f"{localized_text(commitment, 'title')}\n"
        f"{_('Agreement')}: {localized_text(agreement, 'title')} ({_day(agreement.date)})\n"
        f"{_obligors_label(item)}: {', '.join(item['obligors'])}\n"
        f"{_('Status')}: {item['status']}\n"
        f"{_('Due date')}: {item['due_words']} ({_end_of_day(item, str)})"
        + (f' - "{phrase}"' if phrase else "")
        + "\n"
        f"{_('How the due date was reached')}: {item['explanation']}\n"
        f"{_('Countdown')}: {item['countdown']}\n"
        f"{source}{_('Open it')}: {item['url']}\n\n"
    )


def _item_html(item: Item) -> str:
    commitment, agreement = item["commitment"], item["agreement"]
    url = escape(item["url"])
    phrase = commitment.deadline_phrase
    citation = item["citation"]
    source = ""
    if citation:
        origin = citation.source
        title = escape(origin.title)
        source = (
            f'<blockquote lang="{escape(origin.language)}" style="margin:0 0 .5em;'
            f'padding-left:1em;border-left:3px solid #ccc">{escape(citation.quote)}</blockquote>\n'
            '<p style="margin:0 0 .5em;color:#555">&mdash; '
            + (f'<a href="{escape(origin.url)}">{title}</a>' if origin.url else title)
            + f", {escape(origin.publisher)}, {escape(_day(origin.published_on))}</p>\n"
        )
    return (
        f'<h2 style="margin:0 0 .5em;font-size:1.15em"><a href="{url}">'
        f"{localized(commitment, 'title')}</a></h2>\n"
        f'<p style="margin:0 0 .5em"><strong>{escape(capfirst(item["countdown"]))}</strong>: '
        f"{_('due')} {escape(item['due_words'])} ({_end_of_day(item, escape)})"
        + (f" &ndash; &laquo;{escape(phrase)}&raquo;" if phrase else "")
        + "</p>\n"
        '<table style="border-collapse:collapse;margin:0 0 .5em">\n'
        f"  <tr>{_TH}{_('Agreement')}</th><td>{localized(agreement, 'title')}"
        f" ({escape(_day(agreement.date))})</td></tr>\n"
        f"  <tr>{_TH}{_obligors_label(item)}</th>"
        f"<td>{', '.join(escape(name) for name in item['obligors'])}</td></tr>\n"
        f"  <tr>{_TH}{_('How the due date was reached')}</th>"
        f"<td>{escape(item['explanation'])}</td></tr>\n"
        f"  <tr>{_TH}{_('Status')}</th><td>{escape(item['status'])}</td></tr>\n"
        "</table>\n"
        f'{source}<p style="margin:0 0 1.5em"><a href="{url}">{_("Open the commitment")}</a></p>\n'
    )


def _review_text(item: Item) -> str:
    commitment, agreement, rating = item["commitment"], item["agreement"], item["rating"]
    return (
        f"{localized_text(commitment, 'title')}\n"
        f"{_('Agreement')}: {localized_text(agreement, 'title')} ({_day(agreement.date)})\n"
        f"{_('Party rated')}: {localized_text(item['party'], 'name')}\n"
        f"{_('Rating')}: {item['rating_label']} ({_since(item, str)})\n"
        f"{_('Last reviewed')}: {item['reviewed_words']}\n"
        f"{_('Justification')}: {localized_text(rating, 'justification')}\n"
        f"{_('Review it, or record a new rating')}: {item['url']}\n\n"
    )


def _review_html(item: Item) -> str:
    commitment, agreement, rating = item["commitment"], item["agreement"], item["rating"]
    url = escape(item["url"])
    return (
        f'<h2 style="margin:0 0 .5em;font-size:1.15em"><a href="{url}">'
        f"{localized(commitment, 'title')}</a></h2>\n"
        '<table style="border-collapse:collapse;margin:0 0 .5em">\n'
        f"  <tr>{_TH}{_('Agreement')}</th><td>{localized(agreement, 'title')}"
        f" ({escape(_day(agreement.date))})</td></tr>\n"
        f"  <tr>{_TH}{_('Party rated')}</th><td>{localized(item['party'], 'name')}</td></tr>\n"
        f"  <tr>{_TH}{_('Rating')}</th><td>{escape(item['rating_label'])}"
        f" ({_since(item, escape)})</td></tr>\n"
        f"  <tr>{_TH}{_('Last reviewed')}</th><td>{escape(item['reviewed_words'])}</td></tr>\n"
        f"  <tr>{_TH}{_('Justification')}</th>"
        f"<td>{localized(rating, 'justification')}</td></tr>\n"
        "</table>\n"
        f'<p style="margin:0 0 1.5em"><a href="{url}">'
        f"{_('Review it, or record a new rating')}</a></p>\n"
    )


def _since(item: Item, write: Callable[[Any], str]) -> str:
    return _("since %(date)s") % {"date": write(item["assessed_words"])}
