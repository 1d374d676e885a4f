"""Webhooks: endpoints that API consumers register, the events they receive, and the outbox.

An event is written in the transaction of the change it tells of, with its payload frozen at
that moment; one delivery row per event and subscribed endpoint is written with it. The
unique ``(endpoint, event)`` pair makes each event go to each endpoint once at most, however
many writers or senders run; the sender works the delivery rows as the alert sender works the
alert outbox (row locks, backoff, give up, the error kept).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import Commitment

from .db import RandomUUID


class EventKind(models.TextChoices):
    STATUS_CHANGED = "commitment.status_changed", _("Status changed")
    OVERDUE = "commitment.overdue", _("Became overdue")
    DUE_DATE_CHANGED = "commitment.due_date_changed", _("Due date changed")
    DEADLINE_REVISED = "commitment.deadline_revised", _("Deadline revised")


#: The endpoint's flag that subscribes it to each kind of event.
KIND_FIELDS = {
    EventKind.STATUS_CHANGED: "on_status_changed",
    EventKind.OVERDUE: "on_overdue",
    EventKind.DUE_DATE_CHANGED: "on_due_date_changed",
    EventKind.DEADLINE_REVISED: "on_deadline_revised",
}


class WebhookEndpoint(models.Model):
    """A URL of an API consumer's that receives signed events about commitments.

    The secret signs every delivery (HMAC-SHA256). It is needed in clear to sign, so it is
    stored, but never shown again, never logged and left out of the change history.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("owner"),
    )
    target_url = models.URLField(_("target URL"), max_length=2000)
    secret = models.CharField(_("secret"), max_length=255, validators=[MinLengthValidator(16)])
    description = models.CharField(_("description"), max_length=200, blank=True)
    on_status_changed = models.BooleanField(_("status changes"), default=True)
    on_overdue = models.BooleanField(_("new overdue flags"), default=True)
    on_due_date_changed = models.BooleanField(_("due-date changes"), default=True)
    on_deadline_revised = models.BooleanField(_("deadline revisions"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "target_url"],
                name="webhook_endpoint_unique_url",
                violation_error_message=_("This owner already has an endpoint with this URL."),
            ),
            models.CheckConstraint(
                condition=Q(on_status_changed=True)
                | Q(on_overdue=True)
                | Q(on_due_date_changed=True)
                | Q(on_deadline_revised=True),
                name="webhook_endpoint_subscribes",
                violation_error_message=_("Choose at least one kind of event."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_url} ({self.owner})"

    @property
    def events(self) -> list[str]:
        """Return the kinds of event this endpoint subscribes to, in a fixed order."""
        return [str(kind) for kind, field in KIND_FIELDS.items() if getattr(self, field)]

    def subscribe(self, kinds: list[str] | tuple[str, ...] | set[str]) -> list[str]:
        """Subscribe to exactly ``kinds``; return the names of the flags that changed."""
        changed = []
        for kind, field in KIND_FIELDS.items():
            wanted = kind in kinds
            if getattr(self, field) != wanted:
                setattr(self, field, wanted)
                changed.append(field)
        return changed


class WebhookEvent(models.Model):
    """Something that happened to a commitment, as its subscribers will be told of it.

    ``payload`` is frozen when the event is written, in the transaction of the change: later
    edits of the commitment do not alter what a retry sends. ``uuid`` is the event's stable id,
    the same in every endpoint's delivery of it.
    """

    uuid = models.UUIDField(_("event id"), db_default=RandomUUID(), unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40, choices=EventKind.choices)
    commitment = models.ForeignKey(
        Commitment,
        on_delete=models.CASCADE,
        related_name="webhook_events",
        verbose_name=_("commitment"),
    )
    payload = models.JSONField(_("payload"))
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["occurred_at", "kind"], name="webhook_event_time")]
        constraints = [
            # A scan that runs twice at the same instant flags nothing new; this makes sure.
            models.UniqueConstraint(
                fields=["commitment", "occurred_at"],
                condition=Q(kind="commitment.overdue"),
                name="webhook_event_overdue_once",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="webhook_event_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.commitment_id} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (gave up)")
    SKIPPED = "skipped", _("Skipped")


class WebhookDelivery(models.Model):
    """One event to one endpoint: sent once, retried with backoff, or given up with the error.

    ``uuid`` goes out as ``X-Tracker-Delivery`` and is the same on every attempt, so that a
    receiver can drop a repeat (the one a crash between the endpoint's answer and our commit
    can cause).
    """

    uuid = models.UUIDField(_("delivery id"), db_default=RandomUUID(), unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="webhook_delivery_pending",
                condition=Q(state="pending"),
            ),
            # The sender's claim walks pending rows in pk order, as the alert sender's does.
            models.Index(
                fields=["id"], name="webhook_delivery_pending_pk", condition=Q(state="pending")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="webhook_delivery_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint.target_url}"
