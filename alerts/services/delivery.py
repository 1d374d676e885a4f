"""Deliver the alerts outbox: claim pending rows one by one, e-mail them, record the outcome.

Exactly once, and its bound. Each alert is sent in its own short transaction: lock the row
(``SELECT ... FOR UPDATE SKIP LOCKED``, in pk order), send the mail, mark it sent, commit.
Several workers therefore never send the same row: a row another worker holds is skipped,
and a row it has committed as sent no longer matches the locking query. A worker that dies
after the SMTP server accepted a mail but before its commit loses nothing: the row stays
pending and is sent again, with the same Message-ID so that mail clients can fold the pair.
That window cannot be closed without a two-phase commit with the SMTP server; its bound is
at most one duplicate per crash (the one message in flight), never a lost alert.

SQLite has no row locks: there the transaction first takes the database's write lock, so
senders queue one behind the other instead of skipping, with the same guarantee.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import user_language
from alerts.models import Alert, AlertState
from commitments.choices import TERMINAL
from commitments.deadline_text import commitment_rule_in_words
from commitments.deadlines import due_instant
from commitments.models import Citation, Commitment
from tracker.outbox import retry_delay

logger = logging.getLogger(__name__)

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
class DeliveryReport:
    """What one delivery run did, counted in alerts (``mails`` counts messages accepted)."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    mails: int = 0
    interrupted: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict (a Celery task result)."""
        return asdict(self)


class _ServerUnavailable(Exception):
    """The SMTP server is down or hung up; the batch stops and the rest stay pending."""


def alert_retry_delay(*, attempts: int) -> dt.timedelta:
    """Return the wait before the next alert attempt (``TRACKER_ALERT_BACKOFF_*``)."""
    return retry_delay(
        attempts=attempts,
        base_seconds=settings.TRACKER_ALERT_BACKOFF_SECONDS,
        cap_seconds=settings.TRACKER_ALERT_BACKOFF_MAX_SECONDS,
    )


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
    """
    limit = settings.TRACKER_ALERT_BATCH_SIZE if limit is None else limit
    report = DeliveryReport()
    mailer = get_connection(fail_silently=False)
    last_pk = 0
    try:
        while report.sent + report.deferred + report.failed + report.skipped < limit:
            with transaction.atomic():
                _serialise_writers_without_row_locks()
                claimed = _claim(
                    _due_alerts(now=now).filter(digest=False, pk__gt=last_pk), limit=1
                )
                if not claimed:
                    break
                last_pk = claimed[0]
                _deliver(alerts=_with_mail_context(claimed), now=now, mailer=mailer, report=report)
            if report.interrupted:
                break
    finally:
        mailer.close()
    _log(report, what="alerts")
    return report


def alerts_send_digests(*, now: dt.datetime) -> DeliveryReport:
    """Send each recipient one mail listing all their pending digest alerts due at ``now``.

    Per recipient, one transaction locks all of that recipient's pending digest rows (skipping
    rows another worker holds), sends one mail and marks them all sent, under the same rules
    and bound as :func:`alerts_send_pending`. The Message-ID derives from the recipient and
    the sorted alert ids, so a mail resent after a crash carries the same one.
    """
    report = DeliveryReport()
    due = _due_alerts(now=now).filter(digest=True)
    user_ids = sorted(set(due.filter(user__isnull=False).values_list("user_id", flat=True)))
    addresses = sorted(set(due.filter(user__isnull=True).values_list("email", flat=True)))
    recipients: list[Q] = [Q(user_id=pk) for pk in user_ids]
    recipients += [Q(user__isnull=True, email=address) for address in addresses]
    mailer = get_connection(fail_silently=False)
    try:
        for recipient in recipients:
            with transaction.atomic():
                _serialise_writers_without_row_locks()
                claimed = _claim(_due_alerts(now=now).filter(recipient, digest=True))
                if claimed:
                    _deliver(
                        alerts=_with_mail_context(claimed), now=now, mailer=mailer, report=report
                    )
            if report.interrupted:
                break
    finally:
        mailer.close()
    _log(report, what="digest alerts")
    return report


def _due_alerts(*, now: dt.datetime) -> QuerySet[Alert]:
    return Alert.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), state=AlertState.PENDING
    )


def _claim(alerts: QuerySet[Alert], *, limit: int | None = None) -> list[int]:
    """Lock ``alerts`` (oldest pk first, skipping rows another worker holds); return their pks.

    The lock is taken by a query on the alert table alone, walking its primary key: its plan
    stays an index scan however stale the table's statistics (a first scan can write a
    hundred thousand alerts before autovacuum has analysed the table, and a claim joined to
    the users and commitments was then planned as if the table were empty: 0.3 s per mail).
    The mail's context is loaded afterwards, by primary key.
    """
    pks = alerts.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
    return list(pks[:limit] if limit is not None else pks)


def _with_mail_context(pks: Sequence[int]) -> list[Alert]:
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


def _serialise_writers_without_row_locks() -> None:
    """Take the database write lock first where rows cannot be locked (SQLite).

    A write as the transaction's first statement makes SQLite queue concurrent senders
    behind it (busy timeout) rather than let two of them read the same pending row.
    """
    if not connection.features.has_select_for_update:
        Alert.objects.filter(pk=0).update(state=AlertState.PENDING)


def _deliver(
    *, alerts: Sequence[Alert], now: dt.datetime, mailer: BaseEmailBackend, report: DeliveryReport
) -> None:
    """Send one mail for ``alerts`` (one alert, or one recipient's digest) and record it."""
    live = []
    for alert in alerts:
        reason = _skip_reason(alert)
        if reason:
            _mark_skipped(alert=alert, reason=reason, report=report)
        else:
            live.append(alert)
    if not live:
        return
    try:
        message = _build_message(alerts=live, now=now, mailer=mailer)
        _send(message=message, mailer=mailer)
    except _ServerUnavailable as exc:
        report.interrupted = str(exc.__cause__ or exc)
        _mark_server_unavailable(alerts=live, error=report.interrupted, report=report)
        mailer.close()
    except (smtplib.SMTPException, ValueError, UnicodeError) as exc:
        _mark_failed_attempt(alerts=live, now=now, error=_describe(exc), report=report)
    else:
        for alert in live:
            alert.state = AlertState.SENT
            alert.sent_at = now
            alert.attempts += 1
            alert.next_attempt_at = None
            alert.save(update_fields=["state", "sent_at", "attempts", "next_attempt_at"])
        report.sent += len(live)
        report.mails += 1


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


def _mark_skipped(*, alert: Alert, reason: str, report: DeliveryReport) -> None:
    alert.state = AlertState.SKIPPED
    alert.last_error = reason
    alert.next_attempt_at = None
    alert.save(update_fields=["state", "last_error", "next_attempt_at"])
    report.skipped += 1


def _mark_server_unavailable(
    *, alerts: Sequence[Alert], error: str, report: DeliveryReport
) -> None:
    """Keep the alerts pending: an outage is not the message's fault and uses no attempt.

    However long the server is down, no alert runs out of attempts because of it.
    """
    for alert in alerts:
        alert.last_error = error
        alert.save(update_fields=["last_error"])
    report.deferred += len(alerts)
    logger.warning(
        "Alerts %s not sent, the server is unavailable: %s", [a.pk for a in alerts], error
    )


def _mark_failed_attempt(
    *, alerts: Sequence[Alert], now: dt.datetime, error: str, report: DeliveryReport
) -> None:
    max_attempts = settings.TRACKER_ALERT_MAX_ATTEMPTS
    for alert in alerts:
        alert.attempts += 1
        alert.last_error = error
        if alert.attempts >= max_attempts:
            alert.state = AlertState.FAILED
            alert.next_attempt_at = None
            report.failed += 1
        else:
            alert.next_attempt_at = now + alert_retry_delay(attempts=alert.attempts)
            report.deferred += 1
        alert.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
    logger.warning("Alerts %s not sent: %s", [alert.pk for alert in alerts], error)


def _send(*, message: EmailMultiAlternatives, mailer: BaseEmailBackend) -> None:
    """Send ``message`` on the batch's connection, opening it the first time.

    Raise :class:`_ServerUnavailable` when the server is down or closes the channel, and the
    SMTP error itself when it refuses this one message.
    """
    try:
        mailer.open()
        mailer.send_messages([message])
    except _UNAVAILABLE as exc:
        raise _ServerUnavailable(_describe(exc)) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        if any(code == _SERVICE_NOT_AVAILABLE for code, _reply in exc.recipients.values()):
            raise _ServerUnavailable(_describe(exc)) from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == _SERVICE_NOT_AVAILABLE:
            raise _ServerUnavailable(_describe(exc)) from exc
        raise
    except smtplib.SMTPException:
        raise  # refused this one message (SMTPException is an OSError, caught below if not)
    except OSError as exc:
        raise _ServerUnavailable(_describe(exc)) from exc


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


def _log(report: DeliveryReport, *, what: str) -> None:
    if report.sent or report.deferred or report.failed or report.skipped:
        logger.info(
            "Sent %d %s in %d mails; %d deferred, %d failed, %d skipped%s",
            report.sent,
            what,
            report.mails,
            report.deferred,
            report.failed,
            report.skipped,
            f"; stopped early: {report.interrupted}" if report.interrupted else "",
        )
