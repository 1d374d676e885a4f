"""The range of dates the product accepts, in one place.

Every date a user or a file gives (an agreement's date, a source's publication, a progress
update, a fixed deadline, an effective-from date, a period's year) and every due date the
deadline engine computes lies in :data:`DATE_MIN`..:data:`DATE_MAX`. The models validate
with :func:`validate_date_in_range` and back it with a constraint built by
:func:`date_in_range_q`; the forms, the admin, the API, the CSV import and the seeds reach
the same validator through the models; the engine refuses a computed date outside the range.

Why 1900-2199: the agreements tracked are modern (none before 1900), and a deadline two
centuries out is already a typing mistake; Python's own limit (year 9999) is no product
rule, and a date near it breaks later (the day after 9999-12-31, which a deadline's last
instant is counted from, does not exist; a page's timeline overflows). Keeping far inside it
leaves every date computed from an accepted one (the next day, the instant in any time
zone, the end of its year) representable.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
YEAR_MIN = DATE_MIN.year
YEAR_MAX = DATE_MAX.year

#: Why a date or a year is refused, in the words every interface shows.
DATE_OUT_OF_RANGE = _("Dates run from %(min)s to %(max)s.")
YEAR_OUT_OF_RANGE = _("The year must be between %(min)s and %(max)s.")
DATE_RANGE = {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}
YEAR_RANGE = {"min": YEAR_MIN, "max": YEAR_MAX}


def date_in_range(value: dt.date) -> bool:
    """Return whether ``value`` lies in the accepted range."""
    return DATE_MIN <= value <= DATE_MAX


def validate_date_in_range(value: dt.date) -> None:
    """Refuse a date outside the accepted range."""
    if not date_in_range(value):
        raise ValidationError(DATE_OUT_OF_RANGE, code="date_out_of_range", params=DATE_RANGE)


def validate_year_in_range(value: int) -> None:
    """Refuse a year outside the accepted range."""
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise ValidationError(YEAR_OUT_OF_RANGE, code="year_out_of_range", params=YEAR_RANGE)


def date_in_range_q(field: str) -> Q:
    """Match the rows whose ``field`` is empty or in the accepted range (for a constraint)."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__range": (DATE_MIN, DATE_MAX)})


def year_in_range_q(field: str) -> Q:
    """Match the rows whose year ``field`` is empty or in the accepted range."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__range": (YEAR_MIN, YEAR_MAX)})


def local_date(now: dt.datetime, time_zone: str) -> dt.date:
    """Return the date it is at ``now`` in ``time_zone``: an agreement's "today"."""
    return now.astimezone(ZoneInfo(time_zone)).date()
