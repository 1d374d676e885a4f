"""Enumerations of the commitments domain."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.translated import per_language

from .assessment import RECORDABLE, RULES, SCALE, Rating
from .assessment.pace import Pace
from .deadlines import OffsetUnit, PeriodUnit, Precision, RuleKind


class PartyKind(models.TextChoices):
    STATE = "state", _("State")
    ORGANISATION = "organisation", _("International organisation")
    COMPANY = "company", _("Company")
    OTHER = "other", _("Other")


class AgreementKind(models.TextChoices):
    SUMMIT_OUTCOME = "summit_outcome", _("Summit outcome")
    FRAMEWORK = "framework", _("Framework")
    JOINT_STATEMENT = "joint_statement", _("Joint statement")
    MINISTERIAL_MEETING = "ministerial_meeting", _("Ministerial meeting")
    TREATY = "treaty", _("Treaty")
    MEMORANDUM = "memorandum", _("Memorandum of understanding")
    OTHER = "other", _("Other")


class SourceKind(models.TextChoices):
    OFFICIAL = "official", _("Official")
    PRESS = "press", _("Press")


class ArchiveType(models.TextChoices):
    """The kinds of original a source's archived copy may be; checked on its bytes, not its name."""

    PDF = "application/pdf", _("PDF")
    HTML = "text/html", _("Web page (HTML)")
    TEXT = "text/plain", _("Text")


class Category(models.TextChoices):
    INVESTMENT = "investment", _("Investment")
    TARIFF = "tariff", _("Tariff")
    MEETING = "meeting", _("Meeting")
    FINANCING = "financing", _("Financing")
    DEFENCE_SPENDING = "defence_spending", _("Defence spending")
    PURCHASE = "purchase", _("Purchase")
    INSTITUTION = "institution", _("Institution")
    COOPERATION = "cooperation", _("Cooperation")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    """Units a measurable target may be expressed in."""

    USD = "USD", _("US dollars")
    JPY = "JPY", _("Japanese yen")
    EUR = "EUR", _("Euros")
    PERCENT = "percent", _("Per cent")
    PERCENT_GDP = "percent_gdp", _("Per cent of GDP")
    TONNES = "tonnes", _("Tonnes")
    UNITS = "units", _("Units (count)")
    MEETINGS = "meetings", _("Meetings")


class DeadlineKind(models.TextChoices):
    FIXED = RuleKind.FIXED.value, _("Fixed date")
    RELATIVE = RuleKind.RELATIVE.value, _("Relative to an anchor")
    PERIOD_END = RuleKind.PERIOD_END.value, _("End of a named period")
    NONE = RuleKind.NONE.value, _("None (ongoing)")


class OffsetUnitChoice(models.TextChoices):
    DAYS = OffsetUnit.DAYS.value, _("days")
    WEEKS = OffsetUnit.WEEKS.value, _("weeks")
    MONTHS = OffsetUnit.MONTHS.value, _("months")
    YEARS = OffsetUnit.YEARS.value, _("years")


class PeriodUnitChoice(models.TextChoices):
    MONTH = PeriodUnit.MONTH.value, _("month")
    QUARTER = PeriodUnit.QUARTER.value, _("quarter")
    YEAR = PeriodUnit.YEAR.value, _("year")


class AnchorKind(models.TextChoices):
    AGREEMENT = "agreement", _("The agreement's date")
    COMMITMENT = "commitment", _("Another commitment's fulfilment")


class Status(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTIALLY_FULFILLED = "partially_fulfilled", _("Partially fulfilled")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled or superseded")


# Tuples, not sets: their order reaches SQL and migrations, which must not change from one
# process to the next.
#: Statuses that need an evidence citation to be recorded.
EVIDENCE_REQUIRED = (Status.FULFILLED, Status.PARTIALLY_FULFILLED, Status.MISSED)
#: Statuses after which a commitment is no longer watched for its deadline.
TERMINAL = (Status.FULFILLED, Status.MISSED, Status.CANCELLED)
#: Statuses that set the commitment's fulfilment date (an anchor for others).
FULFILMENT = (Status.FULFILLED,)


class DeadlineState(models.TextChoices):
    """What the deadline scan flags."""

    NONE = "none", _("No deadline")
    ON_TRACK = "on_track", _("On track")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    #: Open, with a deadline whose clock a revision stopped: not overdue while suspended.
    SUSPENDED = "suspended", _("Suspended")


def deadline_state_label(*, status: str, state: str) -> str:
    """Return the deadline state as a reader reads it, for a commitment or an occurrence.

    A closed item (fulfilled, missed, cancelled) is in the state ``none``, which reads "No
    deadline"; it had one, and is shown "Closed" instead.
    """
    if state == DeadlineState.NONE and status in TERMINAL:
        return str(_("Closed"))
    try:
        return str(DeadlineState(state).label)
    except ValueError:
        return state


class RelationKind(models.TextChoices):
    RECIPROCAL_OF = "reciprocal_of", _("Reciprocal of")
    CONDITIONAL_ON = "conditional_on", _("Conditional on")
    SUPERSEDES = "supersedes", _("Supersedes")
    RELATED = "related", _("Related to")


#: How a one-way relation reads from the commitment it points to ("B supersedes A": A is
#: superseded by B). The other kinds are symmetric and read the same from both ends.
RELATION_READ_BACKWARD = {
    RelationKind.CONDITIONAL_ON: _("Condition for"),
    RelationKind.SUPERSEDES: _("Superseded by"),
}


class PrecisionChoice(models.TextChoices):
    """How precisely a date is known: "by March" is a month, stored as its last day."""

    DAY = Precision.DAY.value, _("day")
    MONTH = Precision.MONTH.value, _("month")
    QUARTER = Precision.QUARTER.value, _("quarter")
    YEAR = Precision.YEAR.value, _("year")


class RevisionKind(models.TextChoices):
    """What a revision did to a deadline."""

    EXTENDED = "extended", _("Extended")
    BROUGHT_FORWARD = "brought_forward", _("Brought forward")
    RENEGOTIATED = "renegotiated", _("Renegotiated")
    SUSPENDED = "suspended", _("Suspended")
    RESUMED = "resumed", _("Resumed")


class FulfilmentTiming(models.TextChoices):
    """Whether a fulfilled commitment kept its deadline: the original, a revised one, or none."""

    ON_TIME = "on_time", _("On time")
    AFTER_EXTENSION = "after_extension", _("On time after an extension")
    LATE = "late", _("Late")


class RecurrenceKind(models.TextChoices):
    """How a recurring commitment repeats after its first due date."""

    NONE = "none", _("Does not recur")
    EVERY = "every", _("Every N days, weeks, months or years")
    MONTH_END = "month_end", _("At the end of every month")
    QUARTER_END = "quarter_end", _("At the end of every quarter")
    YEAR_END = "year_end", _("At the end of every year")


class EndReason(models.TextChoices):
    """Why a commitment's measure stopped applying."""

    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REPLACED = "replaced", _("Replaced")


#: The ratings an editor records, as choices: made from :data:`commitments.assessment.SCALE`
#: (its order, values and labels), never written out a second time.
RatingChoice = models.TextChoices(  # type: ignore[misc,call-overload]
    "RatingChoice",
    [
        (rule.rating.name, (rule.rating.value, _(rule.label)))
        for rule in SCALE
        if rule.rating in RECORDABLE
    ],
)


#: The ratings as a reader sees them: "Not yet rated" (the absence of one), then the scale.
RATING_SHOWN_CHOICES = [
    (Rating.NOT_RATED.value, _(RULES[Rating.NOT_RATED].label)),
    *RatingChoice.choices,
]


def rating_label(rating: str | None) -> str:
    """Return a rating as a reader reads it; an absent one reads "Not yet rated"."""
    return _rating_labels(get_language())[Rating(rating or Rating.NOT_RATED)]


@per_language(maxsize=64)
def _rating_labels(language: str | None) -> dict[Rating, str]:
    """Every rating's label in ``language``, the active one when asked: translated once per
    language, where a list translated its "Not yet rated" once per obligor and row."""
    return {rating: str(_(rule.label)) for rating, rule in RULES.items()}


class PaceChoice(models.TextChoices):
    """How measured progress stands against the straight line to the target."""

    BEHIND = Pace.BEHIND.value, _("Behind pace")
    ON_PACE = Pace.ON_PACE.value, _("On pace")
    AHEAD = Pace.AHEAD.value, _("Ahead of pace")
    MET = Pace.MET.value, _("Target met")


class PublicationState(models.TextChoices):
    """Where an agreement (and everything that hangs off it) stands on its way to the public."""

    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")


class PublicationAction(models.TextChoices):
    """What an editor did to an agreement's publication, kept with who, when and why."""

    SUBMIT = "submit", _("Submitted for review")
    PUBLISH = "publish", _("Published")
    UNPUBLISH = "unpublish", _("Unpublished")
    RETURN = "return", _("Returned to draft")


#: What the button that takes each publication step says.
PUBLICATION_BUTTONS = {
    PublicationAction.SUBMIT: _("Submit for review"),
    PublicationAction.PUBLISH: _("Publish"),
    PublicationAction.UNPUBLISH: _("Unpublish"),
    PublicationAction.RETURN: _("Return to draft"),
}
