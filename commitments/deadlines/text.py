"""A deadline rule in words, in the active language, with dates written as its reader writes them.

The one text of a rule: the admin, the dashboard, the API (``deadline_rule.description``),
the alert mails and the calendar events all show what :func:`rule_in_words` says, e.g.
"180 days after the agreement's date (Oct. 28, 2025) → April 26, 2026", in French
« 180 jours après la date de l’accord (28 octobre 2025) → 26 avril 2026 ». The arithmetic
stays in the package itself (:mod:`commitments.deadlines`); this module only puts its
parameters and results into words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, ngettext

from core.translated import per_language

from ..choices import AnchorKind, RevisionKind
from ..translations import localized_text
from . import DeadlineRule, OffsetUnit, PeriodUnit, Precision, RuleKind, rule_precision
from .recurrence import Recurrence, RecurrenceKind

if TYPE_CHECKING:
    from ..models import Commitment


@per_language(maxsize=8192)
def _formatted(value: dt.date, format_name: str, language: str | None) -> str:
    # ``language`` is only the cache's key: date_format reads the active one, which is it.
    return date_format(value, format_name)


def date_formatted(value: dt.date, format_name: str = "DATE_FORMAT") -> str:
    """Return ``date_format(value, format_name)`` in the active language, remembered.

    A page writes the same few days hundreds of times (a list of 1,000 commitments due on a
    handful of dates) and Django formats each anew, which was a fifth of the API list's time.
    The words depend only on the day, the format and the language (and the format settings,
    which change only in tests: the memory is emptied then), so nothing can go stale.
    """
    return _formatted(value, format_name, get_language())


class _Words:
    """The words of one language, each translated once: what this module's texts are made of.

    A list of 100 commitments said about 350 words, each through ``gettext``, which looks the
    active language up (a context-local read) and walks the catalogues every time; and wrote
    its dates, each looking the language up again. A text reads the language once
    (:func:`_words`) and takes every word and date from this: the same strings, kept per
    language, so a language switched between two texts cannot mix them up. Only used while
    that language is active (a text is made synchronously), which is what makes each first
    ``gettext`` here this language's.
    """

    __slots__ = ("_said", "language")

    def __init__(self, language: str | None) -> None:
        self.language = language
        self._said: dict[object, str] = {}

    def gettext(self, message: str) -> str:
        try:
            return self._said[message]
        except KeyError:
            said = self._said[message] = gettext(message)
            return said

    def ngettext(self, singular: str, plural: str, number: int) -> str:
        key = (singular, plural, number)
        try:
            return self._said[key]
        except KeyError:
            said = self._said[key] = ngettext(singular, plural, number)
            return said

    def date(self, value: dt.date, format_name: str = "DATE_FORMAT") -> str:
        return _formatted(value, format_name, self.language)


@per_language(maxsize=64)
def _words_of(language: str | None) -> _Words:
    return _Words(language)


def _words() -> _Words:
    """Return the active language's words (one look-up of the language)."""
    return _words_of(get_language())


def date_in_words(value: dt.date, precision: str | None = None) -> str:
    """Return ``value`` as precisely as it is known, in the active language.

    A day is written in full ("March 31, 2026", « 31 mars 2026 »), a month as the month and
    year ("March 2026", « mars 2026 »), a quarter as "Q1 2026" (« T1 2026 »), a year as its
    number. Every page, mail, feed and API text that shows a due date writes it with this.
    """
    return _date_in_words(_words(), value, precision)


def _date_in_words(w: _Words, value: dt.date, precision: str | None = None) -> str:
    if not precision or precision == Precision.DAY:
        return w.date(value)
    if precision == Precision.MONTH:
        return w.date(value, "YEAR_MONTH_FORMAT")
    if precision == Precision.QUARTER:
        return w.gettext("Q%(quarter)s %(year)s") % {
            "quarter": (value.month - 1) // 3 + 1,
            "year": value.year,
        }
    return str(value.year)


def _offset(w: _Words, amount: int, unit: OffsetUnit) -> str:
    if unit == OffsetUnit.DAYS:
        return w.ngettext("%(n)d day", "%(n)d days", amount) % {"n": amount}
    if unit == OffsetUnit.WEEKS:
        return w.ngettext("%(n)d week", "%(n)d weeks", amount) % {"n": amount}
    if unit == OffsetUnit.MONTHS:
        return w.ngettext("%(n)d month", "%(n)d months", amount) % {"n": amount}
    return w.ngettext("%(n)d year", "%(n)d years", amount) % {"n": amount}


def _period(w: _Words, rule: DeadlineRule) -> str:
    year = rule.period_year
    if rule.period_unit == PeriodUnit.MONTH and rule.period_number:
        # The month's name as the reader's language writes it alone ("March", "mars").
        month = w.date(dt.date(2000, rule.period_number, 1), "F")
        if year:
            return w.gettext("By the end of %(month)s %(year)s") % {"month": month, "year": year}
        return w.gettext("By the end of %(month)s") % {"month": month}
    if rule.period_unit == PeriodUnit.QUARTER:
        if year:
            return w.gettext("By the end of Q%(q)s %(year)s") % {
                "q": rule.period_number,
                "year": year,
            }
        return w.gettext("By the end of Q%(q)s") % {"q": rule.period_number}
    if year:
        return w.gettext("By the end of %(year)s") % {"year": year}
    return w.gettext("By the end of the year")


def _relative(
    w: _Words,
    rule: DeadlineRule,
    *,
    counts_from: str,
    agreement_date: dt.date | None,
    anchor_title: str | None,
    anchor_fulfilled_on: dt.date | None,
) -> str:
    offset = _offset(w, rule.offset_amount or 0, rule.offset_unit or OffsetUnit.DAYS)
    if counts_from == AnchorKind.COMMITMENT:
        if anchor_fulfilled_on is None:
            return w.gettext("%(offset)s after “%(title)s” is fulfilled (not yet)") % {
                "offset": offset,
                "title": anchor_title or "",
            }
        return w.gettext("%(offset)s after “%(title)s” was fulfilled (%(date)s)") % {
            "offset": offset,
            "title": anchor_title,
            "date": w.date(anchor_fulfilled_on),
        }
    if agreement_date is None:
        return w.gettext("%(offset)s after the agreement's date") % {"offset": offset}
    return w.gettext("%(offset)s after the agreement's date (%(date)s)") % {
        "offset": offset,
        "date": w.date(agreement_date),
    }


def rule_in_words(
    rule: DeadlineRule,
    *,
    counts_from: str = AnchorKind.AGREEMENT,
    agreement_date: dt.date | None = None,
    anchor_title: str | None = None,
    anchor_fulfilled_on: dt.date | None = None,
    due_date: dt.date | None = None,
) -> str:
    """Return ``rule`` in words in the active language, with what is known of its dates.

    ``agreement_date`` is the date a relative rule counts from (``counts_from`` the agreement),
    and a period rule without a year looks from; a relative rule that counts from another
    commitment's fulfilment (``counts_from`` a commitment) names that commitment
    (``anchor_title``) and when it was fulfilled, if it was. A known ``due_date`` ends the
    words ("→ April 26, 2026").
    """
    return _rule_in_words(
        _words(),
        rule,
        counts_from=counts_from,
        agreement_date=agreement_date,
        anchor_title=anchor_title,
        anchor_fulfilled_on=anchor_fulfilled_on,
        due_date=due_date,
    )


def _rule_in_words(
    w: _Words,
    rule: DeadlineRule,
    *,
    counts_from: str = AnchorKind.AGREEMENT,
    agreement_date: dt.date | None = None,
    anchor_title: str | None = None,
    anchor_fulfilled_on: dt.date | None = None,
    due_date: dt.date | None = None,
) -> str:
    if rule.kind == RuleKind.NONE:
        return w.gettext("No deadline (ongoing)")
    if rule.kind == RuleKind.FIXED:
        fixed = rule.fixed_date or due_date
        if not fixed:
            return ""
        if rule.precision and rule.precision != Precision.DAY:
            return w.gettext("By the end of %(period)s") % {
                "period": _date_in_words(w, fixed, rule.precision)
            }
        return w.gettext("On %(date)s") % {"date": w.date(fixed)}
    if rule.kind == RuleKind.PERIOD_END:
        words = _period(w, rule)
        if rule.period_year is None and agreement_date is not None:
            words = w.gettext("%(period)s (from the agreement's date, %(date)s)") % {
                "period": words,
                "date": w.date(agreement_date),
            }
    else:
        words = _relative(
            w,
            rule,
            counts_from=counts_from,
            agreement_date=agreement_date,
            anchor_title=anchor_title,
            anchor_fulfilled_on=anchor_fulfilled_on,
        )
    if not due_date or (rule.kind == RuleKind.PERIOD_END and rule.period_year is not None):
        # A period with its year names its date already; repeated it would say nothing more.
        return words
    return f"{words} → {_date_in_words(w, due_date, rule_precision(rule))}"


def anchor_title(anchor: Commitment | None) -> str | None:
    """The anchor commitment's title, or, read in public while it is a draft, no name."""
    from commitments.visibility import shown_to_reader

    if anchor is None:
        return None
    if not shown_to_reader(anchor.agreement):
        return _words().gettext("another commitment (not published)")
    return localized_text(anchor, "title")


def commitment_rule_in_words(commitment: Commitment) -> str:
    """Return ``commitment``'s deadline rule in words, with its anchor and due date.

    Reads the commitment's agreement and anchor commitment: load them with it. A stored
    rule the engine cannot read (a unit it does not know) has no words.
    """
    try:
        rule = commitment.rule
    except ValueError:
        return ""
    anchor = commitment.anchor_commitment
    return rule_in_words(
        rule,
        counts_from=commitment.anchor_kind,
        agreement_date=commitment.agreement.date,
        anchor_title=anchor_title(anchor),
        anchor_fulfilled_on=anchor.fulfilled_on if anchor is not None else None,
        # The rule's own date: a revision moves the due date, not what the rule gives.
        due_date=commitment.original_due_date,
    )


# Recurrence (issue 12, item 3) -----------------------------------------------------------


def _repeats(w: _Words, series: Recurrence) -> str:
    n = series.step
    if series.kind == RecurrenceKind.EVERY:
        if series.unit == OffsetUnit.DAYS:
            return w.ngettext("every day", "every %(n)d days", n) % {"n": n}
        if series.unit == OffsetUnit.WEEKS:
            return w.ngettext("every week", "every %(n)d weeks", n) % {"n": n}
        if series.unit == OffsetUnit.MONTHS:
            return w.ngettext("every month", "every %(n)d months", n) % {"n": n}
        return w.ngettext("every year", "every %(n)d years", n) % {"n": n}
    if series.kind == RecurrenceKind.MONTH_END:
        return w.ngettext("at the end of every month", "at the end of every %(n)d months", n) % {
            "n": n
        }
    if series.kind == RecurrenceKind.QUARTER_END:
        return w.ngettext(
            "at the end of every quarter", "at the end of every %(n)d quarters", n
        ) % {"n": n}
    return w.ngettext("at the end of every year", "at the end of every %(n)d years", n) % {"n": n}


def recurrence_in_words(series: Recurrence) -> str:
    """Return how a commitment recurs after its first due date, in the active language.

    "every month, until March 31, 2027", "at the end of every quarter, 4 occurrences", « tous
    les 2 ans, sans date de fin »; empty for a commitment that does not recur.
    """
    return _recurrence_in_words(_words(), series)


def _recurrence_in_words(w: _Words, series: Recurrence) -> str:
    if not series.recurs:
        return ""
    words = _repeats(w, series)
    if series.until is not None and series.count is not None:
        return w.gettext(
            "%(rule)s, until %(date)s or %(count)d occurrences, whichever comes first"
        ) % {
            "rule": words,
            "date": w.date(series.until),
            "count": series.count,
        }
    if series.until is not None:
        return w.gettext("%(rule)s, until %(date)s") % {"rule": words, "date": w.date(series.until)}
    if series.count is not None:
        return w.ngettext(
            "%(rule)s, %(count)d occurrence", "%(rule)s, %(count)d occurrences", series.count
        ) % {"rule": words, "count": series.count}
    return w.gettext("%(rule)s, with no end date") % {"rule": words}


@dataclass(frozen=True, slots=True)
class RevisionWords:
    """What the explanation says of one revision: its kind, date, new date and reason."""

    kind: str
    revised_on: dt.date
    new_due_date: dt.date | None
    new_precision: str
    reason: str


def _revision_in_words(w: _Words, revision: RevisionWords) -> str:
    on = w.date(revision.revised_on)
    new = (
        _date_in_words(w, revision.new_due_date, revision.new_precision)
        if revision.new_due_date
        else ""
    )
    values = {"on": on, "date": new, "reason": revision.reason.strip()}
    if revision.kind == RevisionKind.SUSPENDED:
        return w.gettext("suspended on %(on)s, because %(reason)s") % values
    if revision.kind == RevisionKind.RESUMED:
        if new:
            return w.gettext("resumed on %(on)s with %(date)s, because %(reason)s") % values
        return w.gettext("resumed on %(on)s, because %(reason)s") % values
    if revision.kind == RevisionKind.EXTENDED:
        return w.gettext("extended on %(on)s to %(date)s, because %(reason)s") % values
    if revision.kind == RevisionKind.BROUGHT_FORWARD:
        return w.gettext("brought forward on %(on)s to %(date)s, because %(reason)s") % values
    return w.gettext("renegotiated on %(on)s to %(date)s, because %(reason)s") % values


def _ending(w: _Words, due_at: dt.datetime, time_zone: str, *, with_date: bool) -> str:
    """Return when the deadline ends, locally and in UTC: "23:59:59 Asia/Tokyo (14:59:59 UTC)".

    The local day is named when the due date was not written to the day; the UTC day when it
    is not the local one.
    """
    local = due_at.astimezone(ZoneInfo(time_zone))
    utc = due_at.astimezone(dt.UTC)
    values = {"time": f"{local:%H:%M:%S}", "zone": time_zone, "date": w.date(local.date())}
    if with_date:
        local_text = w.gettext("%(date)s %(time)s %(zone)s") % values
    else:
        local_text = w.gettext("%(time)s %(zone)s") % values
    utc_text = f"{utc:%H:%M:%S} UTC"
    if utc.date() != local.date():
        utc_text = w.gettext("%(date)s %(time)s UTC") % {
            "date": w.date(utc.date()),
            "time": f"{utc:%H:%M:%S}",
        }
    return f"{local_text} ({utc_text})"


def explanation_in_words(
    rule: DeadlineRule,
    *,
    counts_from: str,
    agreement_date: dt.date | None,
    anchor_title: str | None,
    anchor_fulfilled_on: dt.date | None,
    original_due_date: dt.date | None,
    original_precision: str,
    due_precision: str,
    due_at: dt.datetime | None,
    time_zone: str,
    suspended: bool,
    revisions: Sequence[RevisionWords],
    series: Recurrence | None = None,
    due_date: dt.date | None = None,
) -> str:
    """Return how a due date was reached, from its parts (see :func:`deadline_explanation`).

    ``revisions`` are in the order the engine folds them (by date, then as recorded). A
    recurring commitment (``series``) says how it repeats after the rule's first date and,
    once the first is closed, which occurrence is due next (``due_date``). The API's list
    reads the parts from plain rows and calls this; everything else calls
    :func:`deadline_explanation`.
    """
    w = _words()
    text = _rule_in_words(
        w,
        rule,
        counts_from=counts_from,
        agreement_date=agreement_date,
        anchor_title=anchor_title,
        anchor_fulfilled_on=anchor_fulfilled_on,
    )
    if original_due_date is None and not revisions:
        return text
    # A fixed date and a period with its year already name their date: it is not repeated.
    names_its_date = rule.kind == RuleKind.FIXED or (
        rule.kind == RuleKind.PERIOD_END and rule.period_year is not None
    )
    if original_due_date is not None and not names_its_date:
        original = _date_in_words(w, original_due_date, original_precision)
        if revisions:
            original = w.gettext("originally %(date)s") % {"date": original}
        text = f"{text} → {original}"
    for revision in revisions:
        text = f"{text}; {_revision_in_words(w, revision)}"
    recurs = series is not None and series.recurs
    if recurs and series is not None:
        text = w.gettext("%(text)s, then %(series)s") % {
            "text": text,
            "series": _recurrence_in_words(w, series),
        }
        if due_date is not None and due_date != original_due_date:
            text = w.gettext("%(text)s; next due %(date)s") % {
                "text": text,
                "date": _date_in_words(w, due_date, due_precision),
            }
    if suspended:
        return w.gettext("%(text)s. Not overdue while suspended.") % {"text": text}
    if due_at is None:
        return text
    if revisions or recurs:
        ending = _ending(w, due_at, time_zone, with_date=True)
        return w.gettext("%(text)s. Ends %(ending)s.") % {"text": text, "ending": ending}
    precise = not due_precision or due_precision == Precision.DAY
    ending = _ending(w, due_at, time_zone, with_date=not precise)
    return w.gettext("%(text)s, ending %(ending)s.") % {"text": text, "ending": ending}


def deadline_explanation(commitment: Commitment) -> str:
    """Return how the commitment's due date was reached, in the active language.

    The one explanation of a due date: the dashboard, the API (``deadline_explanation``), the
    calendar event's description and the alert mails all show it, e.g. "180 days after the
    agreement's date (Oct. 28, 2025) → April 26, 2026, ending 23:59:59 Asia/Tokyo (14:59:59
    UTC)."; with revisions "… → originally April 26, 2026; extended on May 1, 2026 to July 25,
    2026, because …. Ends July 25, 2026 23:59:59 Asia/Tokyo (14:59:59 UTC)."; "By the end of
    March 2026, ending March 31, 2026 23:59:59 Europe/Brussels (21:59:59 UTC)."

    Reads the commitment's agreement, its anchor commitment and its revisions: load them with
    :func:`commitments.selectors.with_deadline_explanation`. A stored rule the engine cannot
    read has no explanation.
    """
    try:
        rule = commitment.rule
    except ValueError:
        return ""
    anchor = commitment.anchor_commitment
    # Sorted here, in the order the engine folds them, whatever the prefetch's order.
    revisions = [
        RevisionWords(r.kind, r.revised_on, r.new_due_date, r.new_precision, r.reason)
        for r in sorted(commitment.revisions.all(), key=lambda r: (r.revised_on, r.pk))
    ]
    return explanation_in_words(
        rule,
        counts_from=commitment.anchor_kind,
        agreement_date=commitment.agreement.date,
        anchor_title=anchor_title(anchor),
        anchor_fulfilled_on=anchor.fulfilled_on if anchor is not None else None,
        original_due_date=commitment.original_due_date,
        original_precision=commitment.original_due_precision,
        due_precision=commitment.due_precision,
        due_at=commitment.due_at,
        time_zone=commitment.agreement.time_zone,
        suspended=commitment.deadline_suspended,
        revisions=revisions,
        series=commitment.recurrence_rule,
        due_date=commitment.due_date,
    )


def due_in_words(due_date: dt.date | None, precision: str | None) -> str:
    """Return a due date as precisely as it is known ("March 2026"), or "" without one."""
    return date_in_words(due_date, precision) if due_date else ""
