"""The commitments domain: parties, agreements, sources, citations, commitments and progress."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from core.codes import (
    country_code_q,
    language_tag_q,
    validate_country_code,
    validate_language_tag,
)
from core.constraints import ChecksInOneQuery
from core.dates import (
    DATE_OUT_OF_RANGE,
    DATE_RANGE,
    YEAR_MAX,
    YEAR_MIN,
    YEAR_OUT_OF_RANGE,
    YEAR_RANGE,
    date_in_range,
    date_in_range_q,
    validate_date_in_range,
    year_in_range_q,
)
from core.displays import QuickDisplay

from . import deadlines, stages
from .assessment import JUDGED, RECORDABLE, pace
from .choices import (
    EVIDENCE_REQUIRED,
    TERMINAL,
    AgreementKind,
    AnchorKind,
    ArchiveType,
    Category,
    DeadlineKind,
    DeadlineState,
    EndReason,
    FulfilmentTiming,
    OffsetUnitChoice,
    PartyKind,
    PeriodUnitChoice,
    PrecisionChoice,
    PublicationAction,
    PublicationState,
    RatingChoice,
    RecurrenceKind,
    RelationKind,
    RevisionKind,
    SourceKind,
    Status,
    Unit,
)
from .deadlines import recurrence as series_engine
from .querysets import AgreementQuerySet, CommitmentQuerySet
from .translations import TranslatedModel, machine_translations_field

KEY_HELP = _("A stable identifier (letters, digits, hyphens) used by seeds, imports and the API.")


@functools.cache
def _time_zone_names() -> frozenset[str]:
    """Return the IANA zone names, read once: listing them scans the zone files on disk."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Reject a name that is not an IANA time zone."""
    if value not in _time_zone_names():
        raise ValidationError(
            _("%(value)s is not an IANA time zone such as Asia/Tokyo."), params={"value": value}
        )


class Party(TranslatedModel, models.Model):
    """A state, organisation or company that makes or receives commitments."""

    key = models.SlugField(max_length=64, unique=True, help_text=KEY_HELP)
    name = models.CharField(_("name"), max_length=200, unique=True)
    name_fr = models.CharField(_("name in French"), max_length=200, blank=True)
    machine_translations = machine_translations_field(
        help_text=_(
            'Machine-made translations, kept apart from the human ones: {"fr": {"name": '
            '"…"}}. A human translation, where there is one, is shown instead.'
        )
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PartyKind.choices)
    country_code = models.CharField(
        _("country code"),
        max_length=2,
        blank=True,
        validators=[validate_country_code],
        help_text=_("ISO 3166-1 alpha-2, if a state."),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "party")
        verbose_name_plural = pgettext_lazy("model", "parties")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PartyKind.values), name="party_kind_valid"),
            models.CheckConstraint(
                condition=country_code_q("country_code", blank=True),
                name="party_country_code_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Source(models.Model):
    """A document that an agreement or commitment is drawn from: an official text or a report."""

    key = models.SlugField(max_length=64, unique=True, help_text=KEY_HELP)
    title = models.CharField(_("title"), max_length=500)
    publisher = models.CharField(_("publisher"), max_length=200)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        validators=[validate_language_tag],
        help_text=_("BCP 47 code of the text, e.g. fr, en, ja."),
    )
    published_on = models.DateField(_("published on"), validators=[validate_date_in_range])
    kind = models.CharField(_("kind"), max_length=10, choices=SourceKind.choices)
    # The archived copy: its text (what citations point into), the original bytes, their
    # SHA-256 and the day they were retrieved. ``commitments.services.sources`` writes them.
    text = models.TextField(
        _("text"),
        blank=True,
        help_text=_("The source's text, pasted or read from its file; citations point into it."),
    )
    original = models.FileField(
        _("original file"), upload_to="sources/%Y/%m/", blank=True, max_length=300
    )
    original_name = models.CharField(
        _("original file name"), max_length=255, blank=True, editable=False
    )
    content_type = models.CharField(
        _("original's type"),
        max_length=30,
        choices=ArchiveType.choices,
        blank=True,
        editable=False,
    )
    sha256 = models.CharField(
        _("SHA-256 of the original"), max_length=64, blank=True, editable=False
    )
    retrieved_on = models.DateField(
        _("retrieved on"),
        null=True,
        blank=True,
        validators=[validate_date_in_range],
        help_text=_("The day the archived copy was taken (the page saved, the file downloaded)."),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "source")
        verbose_name_plural = pgettext_lazy("model", "sources")
        ordering = ["-published_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type="") | Q(content_type__in=ArchiveType.values),
                name="source_content_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(sha256="") | Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="source_sha256_hex",
            ),
            models.CheckConstraint(
                condition=Q(retrieved_on__isnull=True) | date_in_range_q("retrieved_on"),
                name="source_retrieved_on_in_range",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values), name="source_kind_valid"
            ),
            models.CheckConstraint(
                condition=language_tag_q("language"), name="source_language_valid"
            ),
            models.CheckConstraint(
                condition=date_in_range_q("published_on"), name="source_published_on_in_range"
            ),
        ]

    def __str__(self) -> str:
        # The key tells apart sources of one title in every list that names them.
        return f"{self.title} ({self.publisher}, {self.published_on:%Y-%m-%d}) — {self.key}"

    def clean(self) -> None:
        """Refuse a copy retrieved before the source was published: one of the dates is wrong."""
        published, retrieved = self.published_on, self.retrieved_on
        if (
            isinstance(published, dt.date)
            and isinstance(retrieved, dt.date)
            and published > retrieved
        ):
            raise ValidationError(
                {
                    "published_on": _(
                        "The source cannot be published after its copy was retrieved (%(day)s)."
                    )
                    % {"day": retrieved.isoformat()}
                }
            )


class Agreement(QuickDisplay, TranslatedModel, models.Model):
    """A summit outcome, framework, statement or meeting whose text holds commitments."""

    key = models.SlugField(max_length=64, unique=True, help_text=KEY_HELP)
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(_("kind"), max_length=30, choices=AgreementKind.choices)
    parties = models.ManyToManyField(Party, related_name="agreements", verbose_name=_("parties"))
    date = models.DateField(
        _("date signed or announced"),
        validators=[validate_date_in_range],
        help_text=_("Relative deadlines anchored on the agreement count from this date."),
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Deadlines end at the end of their day in this zone (IANA name)."),
    )
    summary = models.TextField(_("summary"), blank=True)
    title_fr = models.CharField(
        _("title in French"), max_length=300, blank=True, default="", db_default=""
    )
    summary_fr = models.TextField(_("summary in French"), blank=True, default="", db_default="")
    machine_translations = machine_translations_field(
        help_text=_(
            'Machine-made translations, kept apart from the human ones: {"fr": {"title": '
            '"…"}}. A human translation, where there is one, is shown instead.'
        )
    )
    # Publishing (issue 15): only a published agreement, and what hangs off it, is public.
    publication_state = models.CharField(
        _("publication"),
        max_length=10,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        db_default=PublicationState.DRAFT,
        editable=False,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("published by"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = AgreementQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[parties])

    class Meta:
        verbose_name = pgettext_lazy("model", "agreement")
        verbose_name_plural = pgettext_lazy("model", "agreements")
        ordering = ["-date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AgreementKind.values), name="agreement_kind_valid"
            ),
            models.CheckConstraint(
                condition=date_in_range_q("date"), name="agreement_date_in_range"
            ),
            models.CheckConstraint(
                condition=Q(publication_state__in=PublicationState.values),
                name="agreement_publication_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["publication_state", "-date"], name="agreement_public_by_date"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%Y-%m-%d})"


class Commitment(QuickDisplay, ChecksInOneQuery, TranslatedModel, models.Model):
    """One promise in an agreement: who must do what, for whom, by when, and how it stands."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("agreement")
    )
    key = models.SlugField(max_length=80, unique=True, help_text=KEY_HELP)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    title_fr = models.CharField(
        _("title in French"), max_length=300, blank=True, default="", db_default=""
    )
    description_fr = models.TextField(
        _("description in French"), blank=True, default="", db_default=""
    )
    machine_translations = machine_translations_field(
        help_text=_(
            'Machine-made translations, kept apart from the human ones: {"fr": {"title": '
            '"…"}}. A human translation, where there is one, is shown instead.'
        )
    )
    obligor = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="obligations",
        verbose_name=_("obligor"),
        help_text=_("The party that must act."),
    )
    co_obligors = models.ManyToManyField(
        Party,
        blank=True,
        related_name="shared_obligations",
        verbose_name=_("other obligors"),
        help_text=_(
            'Other parties bound by the same promise ("the two countries will meet"); each '
            "obligor is rated separately."
        ),
    )
    beneficiaries = models.ManyToManyField(
        Party, blank=True, related_name="benefits", verbose_name=_("beneficiaries")
    )
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    target_amount = models.DecimalField(
        _("target amount"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    target_unit = models.CharField(
        _("target unit"), max_length=20, choices=Unit.choices, blank=True
    )
    effective_from = models.DateField(
        _("effective from"),
        null=True,
        blank=True,
        validators=[validate_date_in_range],
        help_text=_("When the commitment takes effect, e.g. a tariff retroactive to August."),
    )
    effective_from_precision = models.CharField(
        _("effective from: precision"),
        max_length=10,
        choices=PrecisionChoice.choices,
        default=PrecisionChoice.DAY,
        db_default=PrecisionChoice.DAY,
        help_text=_('"Retroactive to August" is August, month precision.'),
    )

    # Implementation stages: the dates a trade or policy analyst tracks beside the deadline.
    announced_on = models.DateField(
        _("announced on"), null=True, blank=True, validators=[validate_date_in_range]
    )
    signed_on = models.DateField(
        _("signed on"), null=True, blank=True, validators=[validate_date_in_range]
    )
    instrument_title = models.CharField(
        _("legal instrument"),
        max_length=300,
        blank=True,
        default="",
        db_default="",
        help_text=_("E.g. an executive order or a Federal Register notice."),
    )
    instrument_url = models.URLField(
        _("legal instrument URL"), max_length=1000, blank=True, default="", db_default=""
    )
    in_force_on = models.DateField(
        _("in force on"), null=True, blank=True, validators=[validate_date_in_range]
    )
    ended_on = models.DateField(
        _("ended on"), null=True, blank=True, validators=[validate_date_in_range]
    )
    ended_reason = models.CharField(
        _("ended because"),
        max_length=10,
        choices=EndReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
    )

    deadline_kind = models.CharField(
        _("deadline rule"), max_length=20, choices=DeadlineKind.choices, default=DeadlineKind.NONE
    )
    deadline_date = models.DateField(_("fixed date"), null=True, blank=True)
    offset_amount = models.PositiveIntegerField(_("offset"), null=True, blank=True)
    offset_unit = models.CharField(
        _("offset unit"), max_length=10, choices=OffsetUnitChoice.choices, blank=True
    )
    anchor_kind = models.CharField(
        _("anchor"), max_length=20, choices=AnchorKind.choices, blank=True
    )
    anchor_commitment = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="anchored_commitments",
        verbose_name=_("anchor commitment"),
        help_text=_("The commitment whose fulfilment starts the clock."),
    )
    period_unit = models.CharField(
        _("period"), max_length=10, choices=PeriodUnitChoice.choices, blank=True
    )
    period_number = models.PositiveSmallIntegerField(
        _("period number"), null=True, blank=True, help_text=_("Month 1-12 or quarter 1-4.")
    )
    period_year = models.PositiveSmallIntegerField(
        _("period year"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the first such period on or after the agreement's date."),
    )
    deadline_phrase = models.CharField(
        _("deadline phrase"),
        max_length=300,
        blank=True,
        help_text=_('The words the rule comes from, e.g. "within 180 days".'),
    )
    deadline_precision = models.CharField(
        _("precision of the fixed date"),
        max_length=10,
        choices=PrecisionChoice.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("A fixed date known only to the month, quarter or year ends with it."),
    )

    # Recurrence: after the first due date (the rule's), every N units or each period's end.
    recurrence = models.CharField(
        _("recurs"),
        max_length=12,
        choices=RecurrenceKind.choices,
        default=RecurrenceKind.NONE,
        db_default=RecurrenceKind.NONE,
    )
    recurrence_interval = models.PositiveSmallIntegerField(
        _("recurrence interval"), null=True, blank=True
    )
    recurrence_unit = models.CharField(
        _("recurrence unit"),
        max_length=10,
        choices=OffsetUnitChoice.choices,
        blank=True,
        default="",
        db_default="",
    )
    recurrence_until = models.DateField(
        _("recurs until"), null=True, blank=True, validators=[validate_date_in_range]
    )
    recurrence_count = models.PositiveSmallIntegerField(
        _("number of occurrences"), null=True, blank=True
    )

    original_due_date = models.DateField(
        _("original due date"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The due date the commitment's own rule gives; revisions never change it."),
    )
    original_due_precision = models.CharField(
        max_length=10,
        choices=PrecisionChoice.choices,
        blank=True,
        editable=False,
        default="",
        db_default="",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, editable=False)
    due_precision = models.CharField(
        _("due date precision"),
        max_length=10,
        choices=PrecisionChoice.choices,
        blank=True,
        editable=False,
        default="",
        db_default="",
    )
    deadline_suspended = models.BooleanField(
        _("deadline suspended"), default=False, db_default=False, editable=False
    )
    due_at = models.DateTimeField(
        _("due at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The end of the due date in the agreement's time zone."),
    )

    status = models.CharField(
        _("status"),
        max_length=30,
        choices=Status.choices,
        default=Status.NOT_STARTED,
        editable=False,
    )
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    fulfilled_on = models.DateField(_("fulfilled on"), null=True, blank=True, editable=False)
    fulfilment_timing = models.CharField(
        _("fulfilment timing"),
        max_length=20,
        choices=FulfilmentTiming.choices,
        blank=True,
        editable=False,
        default="",
        db_default="",
    )
    # Progress against pace (commitments.assessment.pace): the latest measurement and the
    # stored band that lets lists filter behind / on pace / ahead without computing per row.
    progress_measured = models.DecimalField(
        _("latest measurement"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        editable=False,
    )
    progress_measured_on = models.DateField(_("measured on"), null=True, blank=True, editable=False)
    pace_ahead_until = models.DateField(null=True, blank=True, editable=False)
    pace_behind_after = models.DateField(null=True, blank=True, editable=False)
    deadline_state = models.CharField(
        _("deadline state"),
        max_length=20,
        choices=DeadlineState.choices,
        default=DeadlineState.NONE,
        editable=False,
    )
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True, editable=False)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_commitments",
        verbose_name=_("owner"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = CommitmentQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["deadline_state", "flagged_at"], m2m_fields=[beneficiaries, co_obligors]
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "commitment")
        verbose_name_plural = pgettext_lazy("model", "commitments")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["deadline_state", "due_date", "id"], name="commitment_state_due"),
            models.Index(fields=["due_date", "id"], name="commitment_due"),
            # A status filter, and the API's list of one status by due date (issue 16): the
            # page's ids and its count read from the index alone.
            models.Index(fields=["status", "due_date", "id"], name="commitment_status_due"),
            models.Index(fields=["due_at"], name="commitment_due_at"),
            # The deadline scan's statements: watched rows by state and instant, closed rows by
            # state (suspended ones: below). A rescan with nothing to change then reads nothing.
            # The watched rows only (``querysets.watched_q``): with the suspended ones in, every
            # flagging read each of them (stored "suspended", in the IN list of the states a row
            # may move from) to drop it again, 5,000 rows at 1M.
            models.Index(
                fields=["deadline_state", "due_at"],
                name="commitment_open_state_due",
                condition=Q(due_at__isnull=False)
                & ~Q(status__in=[s.value for s in TERMINAL])
                & Q(deadline_suspended=False),
            ),
            models.Index(
                fields=["deadline_state"],
                name="commitment_closed_state",
                condition=Q(status__in=[s.value for s in TERMINAL]) | Q(due_at__isnull=True),
            ),
            # Recurrence (issue 12, item 3): the scan's rare rows, found without reading the
            # rest - suspended deadlines, and the open-ended series it tops up.
            models.Index(
                fields=["deadline_state"],
                name="commitment_suspended_state",
                condition=Q(deadline_suspended=True),
            ),
            models.Index(
                fields=["id"],
                name="commitment_open_ended_series",
                condition=~Q(recurrence="none")
                & Q(recurrence_until__isnull=True, recurrence_count__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_amount__isnull=True) | Q(target_amount__gte=0),
                name="commitment_target_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(target_amount__isnull=True) | ~Q(target_unit=""),
                name="commitment_target_amount_has_unit",
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="commitment_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(target_unit="") | Q(target_unit__in=Unit.values),
                name="commitment_target_unit_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="commitment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(deadline_state__in=DeadlineState.values),
                name="commitment_deadline_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(deadline_kind=DeadlineKind.FIXED) | Q(deadline_date__isnull=False),
                name="commitment_fixed_rule_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(deadline_kind=DeadlineKind.RELATIVE)
                | (
                    Q(offset_amount__gte=1)
                    & ~Q(offset_unit="")
                    & Q(anchor_kind__in=AnchorKind.values)
                ),
                name="commitment_relative_rule_complete",
            ),
            models.CheckConstraint(
                condition=~Q(anchor_kind=AnchorKind.COMMITMENT)
                | Q(anchor_commitment__isnull=False),
                name="commitment_anchor_commitment_set",
            ),
            models.CheckConstraint(
                condition=~Q(anchor_commitment=models.F("pk")),
                name="commitment_not_own_anchor",
            ),
            models.CheckConstraint(
                condition=~Q(deadline_kind=DeadlineKind.PERIOD_END) | ~Q(period_unit=""),
                name="commitment_period_rule_has_unit",
            ),
            models.CheckConstraint(
                condition=Q(deadline_kind__in=DeadlineKind.values),
                name="commitment_deadline_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True, due_at__isnull=True)
                | Q(due_date__isnull=False, due_at__isnull=False),
                name="commitment_due_date_and_instant_together",
            ),
            *(
                models.CheckConstraint(
                    condition=date_in_range_q(name), name=f"commitment_{name}_in_range"
                )
                for name in ("effective_from", "deadline_date", "due_date", "fulfilled_on")
            ),
            models.CheckConstraint(
                condition=year_in_range_q("period_year"), name="commitment_period_year_in_range"
            ),
            *(
                models.CheckConstraint(
                    condition=date_in_range_q(name), name=f"commitment_{name}_in_range"
                )
                for name in (
                    "original_due_date",
                    "announced_on",
                    "signed_on",
                    "in_force_on",
                    "ended_on",
                    "recurrence_until",
                )
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{name: ""}) | Q(**{f"{name}__in": PrecisionChoice.values}),
                    name=f"commitment_{name}_valid",
                )
                for name in (
                    "deadline_precision",
                    "original_due_precision",
                    "due_precision",
                    "effective_from_precision",
                )
            ),
            models.CheckConstraint(
                condition=Q(fulfilment_timing="")
                | Q(fulfilment_timing__in=FulfilmentTiming.values),
                name="commitment_fulfilment_timing_valid",
            ),
            models.CheckConstraint(
                condition=Q(recurrence__in=RecurrenceKind.values),
                name="commitment_recurrence_valid",
            ),
            models.CheckConstraint(
                condition=Q(recurrence=RecurrenceKind.NONE)
                | Q(recurrence_interval__isnull=False, recurrence_interval__gte=1),
                name="commitment_recurrence_interval_positive",
            ),
            models.CheckConstraint(
                condition=~Q(recurrence=RecurrenceKind.EVERY) | ~Q(recurrence_unit=""),
                name="commitment_recurrence_every_has_unit",
            ),
            models.CheckConstraint(
                condition=Q(ended_reason="") | Q(ended_reason__in=EndReason.values),
                name="commitment_ended_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True, ended_reason="")
                | Q(ended_on__isnull=False) & ~Q(ended_reason=""),
                name="commitment_ended_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(replaced_by__isnull=True) | Q(ended_reason=EndReason.REPLACED),
                name="commitment_replaced_by_when_replaced",
            ),
            models.CheckConstraint(
                condition=~Q(replaced_by=models.F("pk")), name="commitment_not_replaced_by_self"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("dashboard:commitment", args=[self.pk])

    @property
    def pace_start(self) -> dt.date:
        """Return where the pace line starts (:func:`commitments.assessment.pace.line_start`)."""
        return pace.line_start(
            effective_from=self.effective_from, agreement_date=self.agreement.date
        )

    def progress_on(self, on: dt.date) -> pace.Progress | None:
        """Return the latest measurement against the target and the pace on ``on``."""
        return pace.progress(
            measured=self.progress_measured,
            target=self.target_amount,
            start=self.pace_start,
            due=self.due_date,
            on=on,
        )

    @property
    def obligor_list(self) -> list[Party]:
        """Return every party the commitment binds: its obligor, then the others by name.

        Reads ``co_obligors`` through its prefetch when there is one (lists load it with
        :func:`commitments.selectors.obligors_prefetch`).
        """
        # The prefetched rows read directly: building the related manager costs more than
        # the rest of this for a commitment on a page of a thousand.
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("co_obligors")
        rows = self.co_obligors.all() if prefetched is None else prefetched
        others = sorted(rows, key=lambda party: (party.name, party.pk))
        return [self.obligor, *(party for party in others if party.pk != self.obligor_id)]

    @property
    def rule(self) -> deadlines.DeadlineRule:
        """Return the stored deadline rule as the engine's value object."""
        parameters = (field for field in deadlines.RULE_FIELDS if field.attribute)
        return deadlines.rule_from_stored({f.name: getattr(self, f.name) for f in parameters})

    def anchor_date(self) -> dt.date | None:
        """Return the date the rule counts from, or ``None`` while the anchor has not happened."""
        if (
            self.deadline_kind == DeadlineKind.RELATIVE
            and self.anchor_kind == AnchorKind.COMMITMENT
        ):
            return self.anchor_commitment.fulfilled_on if self.anchor_commitment else None
        return self.agreement.date

    def clean(self) -> None:
        """Check the target, the deadline rule and the stages; anchor cycles need the database."""
        errors: dict[str, list[str]] = {}
        if self.target_amount is not None and not self.target_unit:
            errors.setdefault("target_unit", []).append(str(_("A target amount needs a unit.")))
        if self.target_unit and self.target_amount is None:
            errors.setdefault("target_amount", []).append(str(_("A unit needs a target amount.")))
        errors.update(self._rule_errors())
        # The series repeats the rule's date: checked once the rule itself is sound.
        if not errors:
            errors.update(self._recurrence_errors())
        errors.update(self._stage_errors())
        if errors:
            raise ValidationError(errors)

    def _stage_errors(self) -> dict[str, list[str]]:
        """Normalise a vague effective-from date to its period's first day; check the stages."""
        if self.effective_from and self.effective_from_precision:
            try:
                precision = deadlines.Precision(self.effective_from_precision)
            except ValueError:
                return {}  # the field's own choices check names it
            self.effective_from = deadlines.start_of_period(self.effective_from, precision)
        values = {
            name: getattr(self, name) for name in stages.STAGE_FIELDS if name != "replaced_by"
        }
        values["replaced_by"] = self.replaced_by_id
        values["id"] = self.pk
        return {name: [message] for name, message in stages.stage_errors(values).items()}

    def _rule_errors(self) -> dict[str, list[str]]:
        kind = self.deadline_kind
        errors: dict[str, list[str]] = {}
        try:
            # Evaluating the rule, not only checking it, catches a due date out of range.
            deadlines.compute_due_date(self.rule, self.anchor_date() if self.agreement_id else None)
        except deadlines.RuleError as exc:
            errors[exc.field] = [exc.translated()]
        except ValueError:
            errors["deadline_kind"] = [str(_("Unknown deadline rule."))]
            return errors
        # The engine checks the parts its kind reads; a part stored under another kind is kept
        # in range all the same, as the constraints require.
        if self.deadline_date and not date_in_range(self.deadline_date):
            errors.setdefault("deadline_date", [str(DATE_OUT_OF_RANGE % DATE_RANGE)])
        if self.period_year is not None and not YEAR_MIN <= self.period_year <= YEAR_MAX:
            errors.setdefault("period_year", [str(YEAR_OUT_OF_RANGE % YEAR_RANGE)])
        if kind == DeadlineKind.RELATIVE and not self.anchor_kind:
            errors["anchor_kind"] = [
                str(_("A relative deadline needs an anchor: the agreement or a commitment."))
            ]
        # Checked for every rule kind, as the database constraints on the anchor are.
        if self.anchor_kind == AnchorKind.COMMITMENT:
            if self.anchor_commitment_id is None:
                errors["anchor_commitment"] = [
                    str(_("Choose the commitment whose fulfilment starts the clock."))
                ]
            elif self.pk is not None and self._anchor_chain_reaches_self():
                errors["anchor_commitment"] = [
                    str(_("This anchor would make a cycle: it depends on this commitment."))
                ]
        agreement_date = self.agreement.date if self.agreement_id else None
        if (
            kind == DeadlineKind.FIXED
            and self.deadline_date
            and "deadline_date" not in errors
            and agreement_date
            and self.deadline_date < agreement_date
        ):
            errors["deadline_date"] = [
                str(
                    _("The deadline %(due)s is before the agreement's date %(date)s.")
                    % {"due": self.deadline_date.isoformat(), "date": agreement_date.isoformat()}
                )
            ]
        if (
            kind == DeadlineKind.PERIOD_END
            and self.period_year
            and self.period_unit
            and agreement_date
            and not errors.keys() & {"period_number", "period_year"}
            and deadlines.period_end(
                deadlines.PeriodUnit(self.period_unit), self.period_number, self.period_year
            )
            < agreement_date
        ):
            errors["period_year"] = [str(_("That period ends before the agreement's date."))]
        return errors

    @property
    def recurrence_rule(self) -> series_engine.Recurrence:
        """Return the stored recurrence as the engine's value object."""
        return series_engine.recurrence_from_stored(
            {name: getattr(self, name) for name in series_engine.FIELD_NAMES}
        )

    def _recurrence_errors(self) -> dict[str, list[str]]:
        """Check the recurrence against the rule's first due date (a valid rule only)."""
        series = self.recurrence_rule
        if not series.recurs:
            return {}
        has_rule = self.deadline_kind != DeadlineKind.NONE
        try:
            first = (
                deadlines.compute_due_date(self.rule, self.anchor_date())
                if has_rule and self.agreement_id
                else None
            )
            series.validate(first, has_rule=has_rule)
        except deadlines.RuleError as exc:
            return {exc.field: [exc.translated()]}
        return {}

    def _anchor_chain_reaches_self(self) -> bool:
        seen: set[int] = set()
        current = self.anchor_commitment_id
        while current is not None and current not in seen:
            if current == self.pk:
                return True
            seen.add(current)
            current = (
                Commitment.objects.filter(pk=current)
                .values_list("anchor_commitment_id", flat=True)
                .first()
            )
        return False


#: The relations a commitment's due date is computed from: select them with the rows.
DUE_DATE_RELATIONS = ("agreement", "anchor_commitment")


def anchored_on_q(ids: list[int]) -> Q:
    """Match the relative rules that count from the fulfilment of a commitment in ``ids``."""
    return Q(
        anchor_commitment_id__in=ids,
        deadline_kind=DeadlineKind.RELATIVE,
        anchor_kind=AnchorKind.COMMITMENT,
    )


class Citation(ChecksInOneQuery, models.Model):
    """A short quote from a source, in its original language, backing an agreement or commitment."""

    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="citations", verbose_name=_("source")
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    quote = models.TextField(_("quote"), help_text=_("In the source's original language."))
    translation = models.TextField(_("translation"), blank=True)
    translation_language = models.CharField(
        _("translation language"), max_length=8, blank=True, validators=[validate_language_tag]
    )
    locator = models.CharField(
        _("locator"), max_length=200, blank=True, help_text=_("Section, paragraph or page.")
    )
    # Where the quote stands in the source's archived text: ``source.text[start:end]`` is the
    # quote. Empty where the source has no text or the quote is not a verbatim part of it.
    start = models.PositiveIntegerField(_("starts at character"), null=True, blank=True)
    end = models.PositiveIntegerField(_("ends before character"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "citation")
        verbose_name_plural = pgettext_lazy("model", "citations")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, start__lt=models.F("end")),
                name="citation_span_ordered",
            ),
            models.CheckConstraint(
                condition=Q(agreement__isnull=False, commitment__isnull=True)
                | Q(agreement__isnull=True, commitment__isnull=False),
                name="citation_cites_one_thing",
            ),
            models.CheckConstraint(condition=~Q(quote=""), name="citation_quote_not_empty"),
            models.CheckConstraint(
                condition=language_tag_q("translation_language", blank=True),
                name="citation_translation_language_valid",
            ),
        ]

    def __str__(self) -> str:
        quote = self.quote if len(self.quote) <= 60 else self.quote[:57] + "..."
        return f"«{quote}» — {self.source.publisher}"

    def clean(self) -> None:
        if self._backs("agreement") == self._backs("commitment"):
            raise ValidationError(_("A citation backs exactly one agreement or one commitment."))
        self._span_check()

    def _span_check(self) -> None:
        """Refuse a span that is not the quote's place in the source's archived text."""
        if self.start is None and self.end is None:
            return
        if self.start is None or self.end is None or self.start >= self.end:
            raise ValidationError(
                {"end": _("A span needs a start before its end (or neither, with no span).")}
            )
        text = self.source.text if self.source_id is not None else ""
        if self.end > len(text):
            raise ValidationError(
                {
                    "end": _("The span ends after the source's text (%(length)s characters).")
                    % {"length": len(text)}
                }
            )
        if text[self.start : self.end] != self.quote:
            raise ValidationError(
                {
                    "quote": _(
                        "The quote is not the source's text at characters %(start)s–%(end)s."
                    )
                    % {"start": self.start, "end": self.end}
                }
            )

    def _backs(self, name: str) -> bool:
        """Return whether the citation names ``name``, saved or not yet.

        On an admin add page the inline row is checked before its new agreement or commitment
        is saved: the row then holds the object, which has no id yet.
        """
        field: Any = self._meta.get_field(name)
        return getattr(self, field.attname) is not None or (
            field.get_cached_value(self, None) is not None
        )


class CommitmentRelation(models.Model):
    """A typed link between two commitments: reciprocal, conditional, superseding or related."""

    from_commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="relations_out"
    )
    to_commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="relations_in"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RelationKind.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "commitment relation")
        verbose_name_plural = pgettext_lazy("model", "commitment relations")
        constraints = [
            models.UniqueConstraint(
                fields=["from_commitment", "to_commitment", "kind"], name="relation_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_commitment=models.F("to_commitment")),
                name="relation_not_to_self",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RelationKind.values), name="relation_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_commitment} — {self.get_kind_display()} — {self.to_commitment}"


class DeadlineRevision(QuickDisplay, models.Model):
    """One revision of a commitment's deadline, kept in order; the first due date stays.

    Written only by ``commitments.services.revisions``. ``old_*`` is the deadline before the
    revision, ``new_*`` after it (empty for a suspension, which stops the clock and keeps
    the date).
    """

    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("commitment")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RevisionKind.choices)
    revised_on = models.DateField(_("revised on"), validators=[validate_date_in_range])
    old_due_date = models.DateField(_("old due date"), null=True, blank=True)
    old_precision = models.CharField(max_length=10, choices=PrecisionChoice.choices, blank=True)
    new_due_date = models.DateField(_("new due date"), null=True, blank=True)
    new_precision = models.CharField(max_length=10, choices=PrecisionChoice.choices, blank=True)
    reason = models.TextField(_("reason"))
    evidence = models.ForeignKey(
        Citation,
        on_delete=models.PROTECT,
        related_name="revisions",
        verbose_name=_("evidence"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "deadline revision")
        verbose_name_plural = pgettext_lazy("model", "deadline revisions")
        ordering = ["revised_on", "id"]
        indexes = [models.Index(fields=["commitment", "revised_on", "id"], name="revision_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RevisionKind.values), name="revision_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="revision_reason_not_empty"),
            models.CheckConstraint(
                condition=Q(kind=RevisionKind.SUSPENDED) | Q(new_due_date__isnull=False),
                name="revision_sets_a_date",
            ),
            *(
                models.CheckConstraint(
                    condition=date_in_range_q(name), name=f"revision_{name}_in_range"
                )
                for name in ("revised_on", "old_due_date", "new_due_date")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commitment} {self.revised_on:%Y-%m-%d} {self.get_kind_display()}"


class Occurrence(QuickDisplay, models.Model):
    """One due date of a recurring commitment, with its own status and deadline state.

    Written only by ``commitments.services.occurrences``; the columns the deadline rules of
    ``commitments.querysets`` read (``status``, ``due_at``, ``deadline_state``,
    ``flagged_at``) have the commitment's names, so the same rules flag both.
    """

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="occurrences")
    sequence = models.PositiveIntegerField(_("number"))
    due_date = models.DateField(_("due date"), validators=[validate_date_in_range])
    due_at = models.DateTimeField(_("due at"))
    target_amount = models.DecimalField(
        _("target amount"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("This occurrence's target, in the commitment's unit."),
    )
    status = models.CharField(
        _("status"), max_length=30, choices=Status.choices, default=Status.NOT_STARTED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    fulfilled_on = models.DateField(_("fulfilled on"), null=True, blank=True)
    deadline_state = models.CharField(
        _("deadline state"),
        max_length=20,
        choices=DeadlineState.choices,
        default=DeadlineState.NONE,
    )
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True)
    deadline_suspended = models.BooleanField(_("deadline suspended"), default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "occurrence")
        verbose_name_plural = pgettext_lazy("model", "occurrences")
        ordering = ["commitment", "sequence"]
        indexes = [
            # Watched occurrences only, as ``commitment_open_state_due``.
            models.Index(
                fields=["deadline_state", "due_at"],
                name="occurrence_open_state_due",
                condition=~Q(status__in=[s.value for s in TERMINAL]) & Q(deadline_suspended=False),
            ),
            models.Index(
                fields=["deadline_state"],
                name="occurrence_closed_state",
                condition=Q(status__in=[s.value for s in TERMINAL]),
            ),
            # Recurrence (issue 12, item 3): suspended occurrences, found without the rest.
            models.Index(
                fields=["deadline_state"],
                name="occurrence_suspended_state",
                condition=Q(deadline_suspended=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "sequence"], name="occurrence_sequence_unique"
            ),
            models.UniqueConstraint(
                fields=["commitment", "due_date"], name="occurrence_due_date_unique"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="occurrence_sequence_from_1"),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="occurrence_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(deadline_state__in=DeadlineState.values),
                name="occurrence_deadline_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(target_amount__isnull=True) | Q(target_amount__gte=0),
                name="occurrence_target_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=date_in_range_q("due_date"), name="occurrence_due_date_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commitment} #{self.sequence} ({self.due_date:%Y-%m-%d})"


class ProgressUpdate(QuickDisplay, ChecksInOneQuery, models.Model):
    """A dated record of progress on a commitment: a note, a measurement, a status change."""

    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="progress_updates"
    )
    occurrence = models.ForeignKey(
        Occurrence,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="progress_updates",
        verbose_name=_("occurrence"),
        help_text=_("For a recurring commitment: the occurrence this update is about."),
    )
    occurred_on = models.DateField(_("date"), validators=[validate_date_in_range])
    status_from = models.CharField(max_length=30, choices=Status.choices, blank=True)
    status_to = models.CharField(_("new status"), max_length=30, choices=Status.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    measured_value = models.DecimalField(
        _("measured value"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Progress toward the target, in the target's unit."),
    )
    evidence = models.ForeignKey(
        Citation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="progress_updates",
        verbose_name=_("evidence"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "progress update")
        verbose_name_plural = pgettext_lazy("model", "progress updates")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["commitment", "-occurred_on"], name="progress_by_date")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status_to__in=[s.value for s in EVIDENCE_REQUIRED])
                | Q(evidence__isnull=False),
                name="progress_status_needs_evidence",
            ),
            models.CheckConstraint(
                condition=Q(status_to="") | Q(status_to__in=Status.values),
                name="progress_status_to_valid",
            ),
            models.CheckConstraint(
                condition=date_in_range_q("occurred_on"), name="progress_occurred_on_in_range"
            ),
        ]

    def __str__(self) -> str:
        change = f" → {self.get_status_to_display()}" if self.status_to else ""
        return f"{self.commitment} {self.occurred_on:%Y-%m-%d}{change}"


class Assessment(QuickDisplay, TranslatedModel, models.Model):
    """One rating of one obligor's compliance with a commitment, from a date on.

    The rows are the history: a new judgement is a new row, never an edit, and ``current``
    marks each (commitment, party)'s latest, dated no earlier than the ones before it.
    Reviewing the current rating (confirming it still holds) moves its ``reviewed_on``; the
    scan flags ``review_due`` when that is older than the review interval. The scale and the
    scores are :mod:`commitments.assessment`'s.
    """

    commitment = models.ForeignKey(
        Commitment,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("commitment"),
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("party"),
        help_text=_("The obligor rated: one of the commitment's obligors."),
    )
    rating = models.CharField(_("rating"), max_length=20, choices=RatingChoice.choices)
    assessed_on = models.DateField(
        _("assessed on"),
        validators=[validate_date_in_range],
        help_text=_("The date from which the rating holds."),
    )
    justification = models.TextField(
        _("justification"), help_text=_("Why this rating: what was done, or not, and when.")
    )
    justification_fr = models.TextField(
        _("justification in French"), blank=True, default="", db_default=""
    )
    machine_translations = machine_translations_field(
        help_text=_(
            'Machine-made translations, kept apart from the human ones: {"fr": {"justification": '
            '"…"}}. A human translation, where there is one, is shown instead.'
        )
    )
    evidence = models.ForeignKey(
        Citation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
        verbose_name=_("evidence"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("author"),
    )
    created = models.DateTimeField(auto_now_add=True)
    current = models.BooleanField(default=True, editable=False)
    reviewed_on = models.DateField(_("last reviewed on"), editable=False)
    review_due = models.BooleanField(_("review due"), default=False, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "rating")
        verbose_name_plural = pgettext_lazy("model", "ratings")
        ordering = ["commitment", "party", "-assessed_on", "-id"]
        indexes = [
            # Compliance as of a date: each pair's latest row on or before it.
            models.Index(
                fields=["commitment", "party", "assessed_on", "id"], name="assessment_as_of"
            ),
            # The review scan: current ratings by their last review.
            models.Index(
                fields=["reviewed_on"], name="assessment_review", condition=Q(current=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "party"],
                condition=Q(current=True),
                name="assessment_one_current_per_party",
            ),
            models.CheckConstraint(
                condition=Q(rating__in=[r.value for r in RECORDABLE]),
                name="assessment_rating_valid",
            ),
            models.CheckConstraint(
                condition=~Q(rating__in=[r.value for r in JUDGED]) | Q(evidence__isnull=False),
                name="assessment_judged_rating_has_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(justification=""), name="assessment_justification_not_empty"
            ),
            models.CheckConstraint(
                condition=date_in_range_q("assessed_on"), name="assessment_assessed_on_in_range"
            ),
            models.CheckConstraint(
                condition=Q(reviewed_on__gte=models.F("assessed_on")),
                name="assessment_reviewed_after_assessed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commitment} / {self.party}: {self.get_rating_display()} ({self.assessed_on})"


class ReportFrozenError(Exception):
    """Raised on an attempt to change or delete a frozen report or one of its rows."""


class FrozenQuerySet(models.QuerySet):
    """A queryset whose rows, once written, are never updated or deleted in bulk either."""

    def update(self, **kwargs: Any) -> int:
        raise ReportFrozenError(_("A frozen report never changes: record a correction."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ReportFrozenError(_("A frozen report is never deleted: record a correction."))


class FrozenModel(models.Model):
    """A row written once: saving it again, or deleting it, raises :class:`ReportFrozenError`."""

    objects = FrozenQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReportFrozenError(_("A frozen report never changes: record a correction."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ReportFrozenError(_("A frozen report is never deleted: record a correction."))


class Report(FrozenModel):
    """A named compliance report on an agreement, frozen at its cut-off date.

    Its rows hold the ratings, justifications and evidence as they stood at the end of
    ``cutoff``, copied as text; ``method`` holds the scale as it was. Nothing in a report is
    ever changed: a mistake is put right by a :class:`ReportCorrection`, dated, beside the
    old text.
    """

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="reports", verbose_name=_("agreement")
    )
    title = models.CharField(_("title"), max_length=200, help_text=_('E.g. "Interim 2026".'))
    cutoff = models.DateField(
        _("cut-off date"),
        validators=[validate_date_in_range],
        help_text=_("The report shows the ratings as they stood at the end of this day."),
    )
    method = models.JSONField(_("method"), default=list, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("frozen by"),
    )
    created = models.DateTimeField(_("frozen at"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "report")
        verbose_name_plural = pgettext_lazy("model", "reports")
        ordering = ["agreement", "-cutoff", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "title"], name="report_title_unique"),
            models.CheckConstraint(condition=~Q(title=""), name="report_title_not_empty"),
            models.CheckConstraint(
                condition=date_in_range_q("cutoff"), name="report_cutoff_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement}: {self.title} ({self.cutoff})"


class ReportRow(FrozenModel):
    """One obligor's rating of one commitment in a frozen report, copied as it stood."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    commitment = models.ForeignKey(
        Commitment, on_delete=models.SET_NULL, null=True, related_name="report_rows"
    )
    commitment_key = models.CharField(max_length=80)
    commitment_title = models.CharField(max_length=300)
    party = models.ForeignKey(Party, on_delete=models.SET_NULL, null=True, related_name="+")
    party_name = models.CharField(max_length=200)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, related_name="report_rows"
    )
    #: Empty when nobody had rated the row by the cut-off.
    rating = models.CharField(max_length=20, blank=True)
    score = models.SmallIntegerField(null=True)
    justification = models.TextField(blank=True)
    assessed_on = models.DateField(null=True)
    reviewed_on = models.DateField(null=True)
    evidence_quote = models.TextField(blank=True)
    evidence_locator = models.CharField(max_length=200, blank=True)
    source_title = models.CharField(max_length=300, blank=True)
    source_url = models.URLField(max_length=1000, blank=True)
    source_published_on = models.DateField(null=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "report row")
        verbose_name_plural = pgettext_lazy("model", "report rows")
        ordering = ["report", "position"]
        constraints = [
            models.UniqueConstraint(fields=["report", "position"], name="report_row_position"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} #{self.position}: {self.commitment_key} / {self.party_name}"


class ReportCorrection(models.Model):
    """A dated correction of a frozen report: what it said, what it should say, and why."""

    class Field(models.TextChoices):
        RATING = "rating", _("rating")
        JUSTIFICATION = "justification", _("justification")
        EVIDENCE = "evidence", _("evidence")
        REPORT = "report", _("the report as a whole")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="corrections")
    row = models.ForeignKey(
        ReportRow, on_delete=models.CASCADE, null=True, blank=True, related_name="corrections"
    )
    corrected_on = models.DateField(_("corrected on"))
    field = models.CharField(_("what is corrected"), max_length=20, choices=Field.choices)
    old_value = models.TextField(_("the report said"), blank=True)
    new_value = models.TextField(_("it should say"), blank=True)
    note = models.TextField(_("why"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "report correction")
        verbose_name_plural = pgettext_lazy("model", "report corrections")
        ordering = ["report", "corrected_on", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="report_correction_has_reason"),
            models.CheckConstraint(
                condition=Q(field__in=["rating", "justification", "evidence", "report"]),
                name="report_correction_field_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.get_field_display()} ({self.corrected_on})"


class ImportRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Refused")


class ImportRun(models.Model):
    """One import of a commitments file in the background: its file, progress and outcome.

    The file's bytes are kept in the database, the one store every web and worker process
    shares. ``rows_done`` moves while the worker saves rows; the rows are written in one
    transaction, so they appear all at once when the run is done, or never (failed, with
    every error in ``errors`` as ``{"line", "column", "message"}``).
    """

    file_name = models.CharField(_("file name"), max_length=255)
    file_data = models.BinaryField(_("file"))
    status = models.CharField(
        _("status"), max_length=10, choices=ImportRunStatus.choices, default=ImportRunStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    #: The language of the page the file was sent from: the worker writes the errors in it.
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    created = models.DateTimeField(_("created"), auto_now_add=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "import run")
        verbose_name_plural = pgettext_lazy("model", "import runs")
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportRunStatus.values), name="import_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(rows_done__lte=models.F("rows_total")),
                name="import_run_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()}, {self.created:%Y-%m-%d %H:%M})"

    @property
    def percent(self) -> int:
        """How far the worker is, 0-100."""
        if self.status == ImportRunStatus.DONE:
            return 100
        return self.rows_done * 100 // self.rows_total if self.rows_total else 0

    @property
    def finished_running(self) -> bool:
        return self.status in (ImportRunStatus.DONE, ImportRunStatus.FAILED)


# Publishing (issue 15) ----------------------------------------------------------------------


class PublicationEvent(models.Model):
    """One step of an agreement's publication: who moved it, from what state to what, and why."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="publication_events",
        verbose_name=_("agreement"),
    )
    action = models.CharField(_("action"), max_length=10, choices=PublicationAction.choices)
    state_from = models.CharField(_("from"), max_length=10, choices=PublicationState.choices)
    state_to = models.CharField(_("to"), max_length=10, choices=PublicationState.choices)
    note = models.TextField(_("note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = pgettext_lazy("model", "publication event")
        verbose_name_plural = pgettext_lazy("model", "publication events")
        ordering = ["agreement", "-at", "-id"]
        indexes = [models.Index(fields=["agreement", "-at"], name="publication_event_by_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=PublicationAction.values),
                name="publication_event_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"


class KeyRedirect(models.Model):
    """A key an agreement, commitment or party had before: its old permalink redirects.

    Keys are the public permalinks' slugs; a title edit keeps them, a key edit leaves its
    old key here so that links already shared keep working (301 to the current one).
    """

    class Kind(models.TextChoices):
        AGREEMENT = "agreement", _("agreement")
        COMMITMENT = "commitment", _("commitment")
        PARTY = "party", _("party")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    old_key = models.CharField(max_length=80)
    target_id = models.PositiveBigIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "key redirect")
        verbose_name_plural = pgettext_lazy("model", "key redirects")
        constraints = [
            models.UniqueConstraint(fields=["kind", "old_key"], name="key_redirect_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.old_key} → #{self.target_id}"


class Correction(models.Model):
    """A correction: a change to published content made with a public note saying why.

    The public corrections log lists them (date, what changed, from what, to what, the note,
    a link), as do the feeds and the commitment's own page. A frozen report's corrections are
    :class:`ReportCorrection` rows and join the log beside these.
    """

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="corrections", verbose_name=_("agreement")
    )
    commitment = models.ForeignKey(
        Commitment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("commitment"),
    )
    field = models.CharField(
        _("what was corrected"),
        max_length=60,
        help_text=_("The field's name, e.g. title or target_amount."),
    )
    old_value = models.TextField(_("it said"), blank=True)
    new_value = models.TextField(_("it says now"), blank=True)
    note = models.TextField(_("public note"), help_text=_("Why: shown to the public."))
    corrected_at = models.DateTimeField(_("corrected at"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "correction")
        verbose_name_plural = pgettext_lazy("model", "corrections")
        ordering = ["-corrected_at", "-id"]
        indexes = [
            models.Index(fields=["-corrected_at", "-id"], name="correction_by_date"),
            models.Index(fields=["commitment", "-corrected_at"], name="correction_by_commitment"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="correction_has_note"),
            models.CheckConstraint(condition=~Q(field=""), name="correction_names_field"),
        ]

    def __str__(self) -> str:
        where = f"{self.agreement_id}/{self.commitment_id}"
        return f"{where}: {self.field} ({self.corrected_at:%Y-%m-%d})"
