"""The deadline watch: who watches what, and the outbox of alert e-mails."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from commitments.models import Agreement, Assessment, Commitment, Party


class SubscriptionScope(models.TextChoices):
    ALL = "all", _("Everything")
    AGREEMENT = "agreement", _("An agreement")
    PARTY = "party", _("A party")
    COMMITMENT = "commitment", _("One commitment")


class DeliveryMode(models.TextChoices):
    IMMEDIATE = "immediate", _("One e-mail per alert")
    DIGEST = "digest", _("A daily digest")


#: The lead time that means "on the day after the deadline" (the overdue notice).
OVERDUE_LEAD = 0
#: The largest lead time, in days before the deadline (about ten years).
MAX_LEAD_DAYS = 3650


class Subscription(models.Model):
    """A user's watch on everything, an agreement, a party or one commitment."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    scope = models.CharField(_("scope"), max_length=20, choices=SubscriptionScope.choices)
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    party = models.ForeignKey(
        Party, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    mode = models.CharField(
        _("delivery"), max_length=10, choices=DeliveryMode.choices, default=DeliveryMode.IMMEDIATE
    )
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "subscription")
        verbose_name_plural = pgettext_lazy("model", "subscriptions")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope=SubscriptionScope.ALL, agreement=None, party=None, commitment=None)
                    | Q(
                        scope=SubscriptionScope.AGREEMENT,
                        agreement__isnull=False,
                        party=None,
                        commitment=None,
                    )
                    | Q(
                        scope=SubscriptionScope.PARTY,
                        agreement=None,
                        party__isnull=False,
                        commitment=None,
                    )
                    | Q(
                        scope=SubscriptionScope.COMMITMENT,
                        agreement=None,
                        party=None,
                        commitment__isnull=False,
                    )
                ),
                name="subscription_target_matches_scope",
            ),
            # One partial constraint per scope: portable to SQLite, unlike nulls_distinct.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(scope=SubscriptionScope.ALL),
                name="subscription_unique_all",
            ),
            models.UniqueConstraint(
                fields=["user", "agreement"],
                condition=Q(scope=SubscriptionScope.AGREEMENT),
                name="subscription_unique_agreement",
            ),
            models.UniqueConstraint(
                fields=["user", "party"],
                condition=Q(scope=SubscriptionScope.PARTY),
                name="subscription_unique_party",
            ),
            models.UniqueConstraint(
                fields=["user", "commitment"],
                condition=Q(scope=SubscriptionScope.COMMITMENT),
                name="subscription_unique_commitment",
            ),
        ]

    def __str__(self) -> str:
        target = self.agreement or self.party or self.commitment or _("everything")
        return f"{self.user} watches {target}"

    def clean(self) -> None:
        targets = {
            SubscriptionScope.AGREEMENT: "agreement",
            SubscriptionScope.PARTY: "party",
            SubscriptionScope.COMMITMENT: "commitment",
        }
        errors = {}
        for scope, field in targets.items():
            is_set = getattr(self, f"{field}_id") is not None
            if self.scope == scope and not is_set:
                errors[field] = _("Choose the %(field)s to watch.") % {"field": field}
            elif self.scope != scope and is_set:
                errors[field] = _("Only a %(field)s subscription names a %(field)s.") % {
                    "field": field
                }
        if errors:
            raise ValidationError(errors)


class SubscriptionLead(models.Model):
    """One lead time of a subscription: alert N days before the due instant (0: the day after)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="leads")
    days = models.PositiveSmallIntegerField(
        _("days before"), help_text=_("Days before the deadline; 0 means the day after it.")
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "lead time")
        verbose_name_plural = pgettext_lazy("model", "lead times")
        ordering = ["-days"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "days"], name="lead_unique"),
            models.CheckConstraint(
                condition=Q(days__gte=OVERDUE_LEAD, days__lte=MAX_LEAD_DAYS), name="lead_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.days} days" if self.days else "the day after"


class AlertState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (gave up)")
    SKIPPED = "skipped", _("Skipped (no address)")


#: The error recorded on an alert whose recipient has no address (never sent).
SKIPPED_NO_ADDRESS = "The recipient has no e-mail address; nothing was sent."


class AlertKind(models.TextChoices):
    DEADLINE = "deadline", _("Deadline")
    REVIEW_DUE = "review_due", _("Review due")


class Alert(models.Model):
    """One e-mail to one recipient about one commitment, due date and threshold, ever.

    ``threshold`` is the lead time in days (> 0), 0 for the overdue notice, or minus the
    number of days overdue for an escalation. A new due date makes new keys, so a changed
    deadline re-arms every alert.

    A *review due* alert (``kind``) tells the commitment's owner that one rating
    (``assessment``) has gone unreviewed too long: one per rating and review cycle, keyed by
    the rating's last review (``reviewed_on``), so reviewing it re-arms the alert and a new
    rating is a new key. Its ``due_date`` is the day the scan found the review due and its
    ``threshold`` is 0.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        help_text=_("Empty for the escalation contact."),
    )
    email = models.CharField(_("address"), max_length=254, blank=True)
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="alerts")
    due_date = models.DateField(_("due date"))
    threshold = models.SmallIntegerField(_("threshold"))
    digest = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("raised at"))
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=AlertKind.choices,
        default=AlertKind.DEADLINE,
        # The scan's hand-written outbox INSERT leaves the column to the database.
        db_default=AlertKind.DEADLINE,
    )
    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("rating"),
        help_text=_("For a review alert: the rating to review."),
    )
    reviewed_on = models.DateField(
        _("last reviewed on"),
        null=True,
        blank=True,
        help_text=_("For a review alert: the rating's last review when the alert was raised."),
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "alert")
        verbose_name_plural = pgettext_lazy("model", "alerts")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="alert_pending",
                condition=Q(state="pending"),
            ),
            # The senders' claim walks the pending rows in pk order: this keeps it one index
            # scan even before the table's statistics know of a first scan's many new rows.
            models.Index(fields=["id"], name="alert_pending_pk", condition=Q(state="pending")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "commitment", "due_date", "threshold"],
                condition=Q(user__isnull=False, kind=AlertKind.DEADLINE),
                name="alert_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["email", "commitment", "due_date", "threshold"],
                condition=Q(user__isnull=True, kind=AlertKind.DEADLINE),
                name="alert_once_per_address",
            ),
            models.UniqueConstraint(
                fields=["user", "assessment", "reviewed_on"],
                condition=Q(kind=AlertKind.REVIEW_DUE),
                name="alert_review_once_per_cycle",
            ),
            models.CheckConstraint(
                condition=Q(state__in=AlertState.values), name="alert_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=AlertKind.DEADLINE, assessment__isnull=True, reviewed_on=None)
                | Q(
                    kind=AlertKind.REVIEW_DUE,
                    assessment__isnull=False,
                    reviewed_on__isnull=False,
                    user__isnull=False,
                ),
                name="alert_review_names_its_rating",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commitment} / {self.due_date} / {self.threshold} → {self.email or self.user}"

    @property
    def message_id(self) -> str:
        """Return the stable Message-ID: the same for every attempt at this alert."""
        if self.kind == AlertKind.REVIEW_DUE and self.reviewed_on is not None:
            return (
                f"<review.{self.pk}.{self.assessment_id}.{self.reviewed_on:%Y%m%d}"
                "@commitment-tracker>"
            )
        return (
            f"<alert.{self.pk}.{self.commitment_id}.{self.due_date:%Y%m%d}.{self.threshold}"
            "@commitment-tracker>"
        )


class ScanRun(models.Model):
    """One full deadline scan: the instant it scanned at and what it did.

    The latest run's ``now`` is the scan's watermark: the next full scan only looks for
    thresholds crossed after it, so a scan with nothing new to do reads almost nothing.
    """

    now = models.DateTimeField(_("scanned at"))
    changed = models.PositiveIntegerField(_("commitments flagged"), default=0)
    alerts = models.PositiveIntegerField(_("alerts written"), default=0)
    escalations = models.PositiveIntegerField(_("escalations written"), default=0)
    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "scan run")
        verbose_name_plural = pgettext_lazy("model", "scan runs")
        ordering = ["-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"Scan at {self.now:%Y-%m-%d %H:%M:%S}"
