"""Deliver the alerts outbox: e-mail each due alert, or each recipient's digest.

The claiming, marking, backoff and draining are the outbox core's (:mod:`core.outbox`, which
states the exactly-once guarantee and its bound); this module is the alerts' sender: one SMTP
connection per run, the mail in the recipient's language with a stable Message-ID (so a mail
resent after a crash folds with the first), digests, and the rule that an SMTP server that is
down or hangs up stops the run without using an attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Prefetch, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import user_language
from alerts.models import Alert
from commitments.choices import TERMINAL
from commitments.deadlines import due_instant
from commitments.deadlines.text import commitment_rule_in_words
from commitments.models import Citation, Commitment
from core.outbox import (
    AttemptFailed,
    Outbox,
    OutboxReport,
    SenderUnavailable,
    claim_and_send,
    log_run,
    send_batch,
)

ALERT_OUTBOX = Outbox(
    model=Alert,
    label="Alert",
    batch_size_setting="TRACKER_ALERT_BATCH_SIZE",
    max_attempts_setting="TRACKER_ALERT_MAX_ATTEMPTS",
    backoff_setting="TRACKER_ALERT_BACKOFF_SECONDS",
    backoff_max_setting="TRACKER_ALERT_BACKOFF_MAX_SECONDS",
)

#: Errors that say no mail can go through this server now (down, hung up, refusing us as a
#: client): stop the batch there rather than count an attempt on every alert.
_UNAVAILABLE = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
)
#: SMTP reply code for "service not available, closing the channel".
_SERVICE_NOT_AVAILABLE = 421


@dataclass
class DeliveryReport(OutboxReport):
    """What one delivery run did, counted in alerts; ``mails`` counts messages accepted."""

    mails: int = 0


def alert_retry_delay(*, attempts: int) -> dt.timedelta:
    """Return the wait before the next alert attempt (``TRACKER_ALERT_BACKOFF_*``)."""
    return ALERT_OUTBOX.retry_delay(attempts=attempts)


def digest_message_id(*, recipient: str, alert_ids: Iterable[int]) -> str:
    """Return the Message-ID of a digest: the same for the same recipient and alerts."""
    key = f"{recipient}|{','.join(str(pk) for pk in sorted(alert_ids))}"
    return f"<digest.{hashlib.sha256(key.encode()).hexdigest()[:32]}@commitment-tracker>"


def alerts_send_pending(*, now: dt.datetime, limit: int | None = None) -> DeliveryReport:
    """Send up to ``limit`` pending immediate alerts that are due at ``now``, oldest pk first.

    One transaction per alert (lock, send, mark, commit) and one SMTP connection for the
    batch, opened only when there is something to send. A refused message counts an attempt
    (with exponential backoff, and state ``failed`` after ``TRACKER_ALERT_MAX_ATTEMPTS``) and
    the batch goes on; an SMTP server that is down or hangs up stops the batch, leaving the
    rest pending. Alerts whose commitment has since closed or changed its due date are
    marked skipped, as are alerts with no address; skipped rows are never touched again.
    ``full`` in the report says the batch stopped at its limit.
    """
    report = DeliveryReport()
    mailer = _AlertMailer(report=report)
    try:
        send_batch(sender=mailer, now=now, report=report, limit=limit)
    finally:
        mailer.close()
    return report


def alerts_send_digests(*, now: dt.datetime) -> DeliveryReport:
    """Send each recipient one mail listing all their pending digest alerts due at ``now``.

    Per recipient, one transaction locks all of that recipient's pending digest rows (skipping
    rows another worker holds), sends one mail and marks them all sent, under the same rules
    and bound as :func:`alerts_send_pending`. The Message-ID derives from the recipient and
    the sorted alert ids, so a mail resent after a crash carries the same one.
    """
    report = DeliveryReport()
    due = ALERT_OUTBOX.due(now=now).filter(digest=True)
    user_ids = sorted(set(due.filter(user__isnull=False).values_list("user_id", flat=True)))
    addresses = sorted(set(due.filter(user__isnull=True).values_list("email", flat=True)))
    recipients: list[Q] = [Q(user_id=pk) for pk in user_ids]
    recipients += [Q(user__isnull=True, email=address) for address in addresses]
    mailer = _AlertMailer(report=report)
    try:
        for recipient in recipients:
            claim_and_send(sender=mailer, candidates=due.filter(recipient), now=now, report=report)
            if report.interrupted:
                break
    finally:
        mailer.close()
    log_run(outbox=ALERT_OUTBOX, report=report)
    return report


class _AlertMailer:
    """The alerts' sender for the outbox core: one mail per alert, or per recipient's digest."""

    outbox = ALERT_OUTBOX

    def __init__(self, *, report: DeliveryReport) -> None:
        self.report = report
        self.connection = get_connection(fail_silently=False)

    def narrow(self, due: QuerySet[Alert]) -> QuerySet[Alert]:
        """Return the immediate alerts: digests go out by recipient, once a day."""
        return due.filter(digest=False)

    def load(self, pks: Sequence[int]) -> list[Alert]:
        """Load the claimed alerts with what their mail shows, in pk order."""
        return list(
            Alert.objects.filter(pk__in=pks)
            .order_by("pk")
            .select_related(
                "user",
                "commitment__agreement",
                "commitment__obligor",
                "commitment__anchor_commitment",
            )
            .prefetch_related(
                # A mail quotes each commitment's first citation: one query for a whole digest.
                Prefetch(
                    "commitment__citations",
                    queryset=Citation.objects.select_related("source").order_by("id"),
                )
            )
        )

    def skip_reason(self, alert: Alert) -> str:
        """Return why ``alert`` must not be sent any more, or ``""`` if it should be."""
        return _skip_reason(alert)

    def send(self, alerts: Sequence[Alert], *, now: dt.datetime) -> None:
        """Mail ``alerts`` (one alert, or one recipient's digest) on the run's connection."""
        try:
            message = _build_message(alerts=alerts, now=now, mailer=self.connection)
            _send(message=message, mailer=self.connection)
        except SenderUnavailable:
            self.connection.close()
            raise
        except (smtplib.SMTPException, ValueError, UnicodeError) as exc:
            raise AttemptFailed(_describe(exc)) from exc
        self.report.mails += 1

    def close(self) -> None:
        self.connection.close()


def _skip_reason(alert: Alert) -> str:
    """Return why ``alert`` must not be sent any more, or ``""`` if it should be."""
    commitment = alert.commitment
    if not _address(alert):
        return _("No e-mail address.")
    if commitment.status in TERMINAL:
        return _("The commitment was closed (%(status)s) before the alert went out.") % {
            "status": commitment.get_status_display()
        }
    if commitment.due_date != alert.due_date:
        return _("The due date changed before the alert went out.")
    return ""


def _send(*, message: EmailMultiAlternatives, mailer: BaseEmailBackend) -> None:
    """Send ``message`` on the batch's connection, opening it the first time.

    Raise :class:`SenderUnavailable` when the server is down or closes the channel, and the
    SMTP error itself when it refuses this one message.
    """
    try:
        mailer.open()
        mailer.send_messages([message])
    except _UNAVAILABLE as exc:
        raise SenderUnavailable(_describe(exc)) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        if any(code == _SERVICE_NOT_AVAILABLE for code, _reply in exc.recipients.values()):
            raise SenderUnavailable(_describe(exc)) from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == _SERVICE_NOT_AVAILABLE:
            raise SenderUnavailable(_describe(exc)) from exc
        raise
    except smtplib.SMTPException:
        raise  # refused this one message (SMTPException is an OSError, caught below if not)
    except OSError as exc:
        raise SenderUnavailable(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    """Return the error as one line for ``Alert.last_error``, with the SMTP reply if any."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: SMTP {code}: {_text(reply)}"
            for address, (code, reply) in exc.recipients.items()
        )
    return f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _address(alert: Alert) -> str:
    if alert.email:
        return alert.email
    return alert.user.email if alert.user is not None else ""


def _build_message(
    *, alerts: Sequence[Alert], now: dt.datetime, mailer: BaseEmailBackend
) -> EmailMultiAlternatives:
    """Write the mail in the recipient's language (the site's for the escalation contact)."""
    with translation.override(user_language(user=alerts[0].user)):
        return _write_message(alerts=alerts, now=now, mailer=mailer)


def _write_message(
    *, alerts: Sequence[Alert], now: dt.datetime, mailer: BaseEmailBackend
) -> EmailMultiAlternatives:
    first = alerts[0]
    items = sorted(
        (_item(alert=alert, now=now) for alert in alerts),
        key=lambda item: (item["due_at"], item["commitment"].title),
    )
    if first.digest:
        template = "alerts/email/digest"
        recipient = f"user-{first.user_id}" if first.user_id else first.email
        message_id = digest_message_id(recipient=recipient, alert_ids=[a.pk for a in alerts])
        subject = ngettext(
            "[Deadline digest] %(count)d commitment to watch",
            "[Deadline digest] %(count)d commitments to watch",
            len(items),
        ) % {"count": len(items)}
    else:
        template = "alerts/email/alert"
        message_id = first.message_id
        subject = f"{items[0]['headline']} {items[0]['commitment'].title}"
    context = {"items": items, "item": items[0], "subject": subject, "now": now}
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{template}.txt", context),
        to=[_address(first)],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
        connection=mailer,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _item(*, alert: Alert, now: dt.datetime) -> dict[str, Any]:
    """Return what a mail says about one alert's commitment, as of ``now``.

    Days count in the agreement's time zone, where the deadline ends with its due day.
    """
    commitment: Commitment = alert.commitment
    zone = commitment.agreement.time_zone
    due_at = due_instant(alert.due_date, zone)
    days = (alert.due_date - now.astimezone(ZoneInfo(zone)).date()).days
    citation = next(iter(commitment.citations.all()), None)
    return {
        "alert": alert,
        "commitment": commitment,
        "agreement": commitment.agreement,
        "obligor": commitment.obligor,
        "due_date": alert.due_date,
        "due_at": due_at,
        "due_at_local": due_at.astimezone(ZoneInfo(zone)),
        "days_left": max(days, 0),
        "days_overdue": max(-days, 0),
        "rule_words": commitment_rule_in_words(commitment),
        "headline": _headline(alert=alert, days=days),
        "countdown": _countdown(days=days),
        "opening": _opening(days=days),
        "citation": citation,
        "url": settings.SITE_URL.rstrip("/") + commitment.get_absolute_url(),
    }


def _headline(*, alert: Alert, days: int) -> str:
    """Return the bracketed subject prefix, e.g. ``[Due in 7 days]`` or ``[Overdue 3 days]``."""
    if alert.threshold < 0 and days < 0:
        return ngettext(
            "[Escalation: overdue %(n)d day]", "[Escalation: overdue %(n)d days]", -days
        ) % {"n": -days}
    if days < 0:
        return ngettext("[Overdue %(n)d day]", "[Overdue %(n)d days]", -days) % {"n": -days}
    if days == 0:
        return _("[Due today]")
    return ngettext("[Due in %(n)d day]", "[Due in %(n)d days]", days) % {"n": days}


def _countdown(*, days: int) -> str:
    """Return the days left or overdue (``days`` < 0) as a phrase."""
    if days < 0:
        return ngettext("%(n)d day overdue", "%(n)d days overdue", -days) % {"n": -days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}


def _opening(*, days: int) -> str:
    """Return the mail's first sentence about the deadline."""
    if days < 0:
        return ngettext(
            "This commitment is %(n)d day past its deadline.",
            "This commitment is %(n)d days past its deadline.",
            -days,
        ) % {"n": -days}
    if days == 0:
        return _("This commitment is due today.")
    return ngettext(
        "This commitment is due in %(n)d day.", "This commitment is due in %(n)d days.", days
    ) % {"n": days}
