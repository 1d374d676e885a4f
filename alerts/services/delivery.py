"""Deliver the alerts outbox: e-mail each due alert, or each recipient's digest.

The claiming, marking, backoff and draining are the outbox core's (:mod:`core.outbox`, which
states the exactly-once guarantee and its bound); this module is the alerts' sender: one SMTP
connection per run, digests, and the rule that an SMTP server that is down or hangs up stops
the run without using an attempt. What each mail says, with its stable Message-ID (so a mail
resent after a crash folds with the first), is :mod:`alerts.services.mail`'s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import smtplib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from alerts.models import Alert, AlertKind
from alerts.services.mail import Wording, alert_address, alert_mail_build
from commitments.choices import TERMINAL, RecurrenceKind
from commitments.models import Citation, Commitment
from commitments.selectors import OBLIGORS_ORDER, revisions_ordered
from core.instances import InstancesRead, prefetched
from core.mime import MailWriter
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


#: The claimed alerts with their recipient (and its language) and rating.
_ALERTS = InstancesRead(
    lambda pks: (
        Alert.objects.filter(pk__in=pks)
        .order_by("pk")
        .select_related("user__profile", "assessment__party")
    )
)
#: Their commitments with what a mail shows of them, read once for all of a commitment's
#: alerts: the scan writes them one after another, so a claim holds a few commitments' alerts
#: for many recipients, and building a commitment with its agreement for each alert was a
#: third of the load.
_COMMITMENTS = InstancesRead(
    lambda ids: (
        Commitment._base_manager.filter(pk__in=ids)
        .order_by("pk")
        .select_related("agreement", "obligor", "anchor_commitment")
    )
)
#: A mail quotes each commitment's first citation.
_CITATIONS = InstancesRead(
    lambda ids: (
        Citation.objects.filter(commitment_id__in=ids).select_related("source").order_by("id")
    )
)
#: The deadline's explanation names every revision.
_REVISIONS = InstancesRead(lambda ids: revisions_ordered().filter(commitment_id__in=ids))
#: A mail names every party the commitment binds.
_OBLIGORS = InstancesRead(
    lambda ids: (
        Commitment.co_obligors.through.objects.filter(commitment_id__in=ids)
        .select_related("party")
        .order_by(*(f"party__{name}" for name in OBLIGORS_ORDER))
    )
)


class _AlertMailer:
    """The alerts' sender for the outbox core: one mail per alert, or per recipient's digest."""

    outbox = ALERT_OUTBOX

    def __init__(self, *, report: DeliveryReport) -> None:
        self.report = report
        self.connection = get_connection(fail_silently=False)
        self.writer = MailWriter()
        # The run's mails as written: recipients of the same alert share its words.
        self.written: dict[Hashable, Wording] = {}

    def narrow(self, due: QuerySet[Alert]) -> QuerySet[Alert]:
        """Return the immediate alerts: digests go out by recipient, once a day."""
        return due.filter(digest=False)

    def load(self, pks: Sequence[int]) -> list[Alert]:
        """Load the claimed alerts with what their mail shows, in pk order (five queries).

        Alerts of one commitment share its instance, as ``prefetch_related`` shares it. An
        alert whose commitment is gone (deleted since the claim, with its alerts) is left out.
        """
        alerts = _ALERTS(pks)
        ids = sorted({alert.commitment_id for alert in alerts})
        commitments = {commitment.pk: commitment for commitment in _COMMITMENTS(ids)}
        alerts = [alert for alert in alerts if alert.commitment_id in commitments]
        for alert in alerts:
            alert.commitment = commitments[alert.commitment_id]
        prefetched(
            commitments.values(), "citations", ((c.commitment_id, c) for c in _CITATIONS(ids))
        )
        prefetched(
            commitments.values(), "revisions", ((r.commitment_id, r) for r in _REVISIONS(ids))
        )
        obligors = ((link.commitment_id, link.party) for link in _OBLIGORS(ids))
        prefetched(commitments.values(), "co_obligors", obligors)
        return alerts

    def skip_reason(self, alert: Alert) -> str:
        """Return why ``alert`` must not be sent any more, or ``""`` if it should be."""
        return _skip_reason(alert)

    def holds_back(self, alert: Alert) -> bool:
        """Hold no claimed alert back: each is sent or skipped in the run that claims it."""
        return False

    def send(self, alerts: Sequence[Alert], *, now: dt.datetime, ready: Callable[[], None]) -> None:
        """Mail ``alerts`` (one alert, or one recipient's digest) on the run's connection.

        The mail is written and its envelope given; ``ready()`` waits for the previous
        mail's mark to commit before its content goes (:func:`_send`).
        """
        try:
            message = alert_mail_build(
                alerts=alerts, now=now, mailer=self.connection, written=self.written
            )
            _send(message=message, mailer=self.connection, writer=self.writer, ready=ready)
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
    if not alert_address(alert):
        return _("No e-mail address.")
    if alert.kind == AlertKind.REVIEW_DUE:
        rating = alert.assessment
        if rating is None or not rating.current or rating.reviewed_on != alert.reviewed_on:
            return _("The rating was reviewed or replaced before the alert went out.")
        return ""
    if commitment.status in TERMINAL:
        return _("The commitment was closed (%(status)s) before the alert went out.") % {
            "status": commitment.get_status_display()
        }
    if commitment.recurrence != RecurrenceKind.NONE:
        # Each occurrence alerts on its own date; the commitment's own date is only the next
        # open one's.
        if not commitment.occurrences.open().filter(due_date=alert.due_date).exists():
            return _("The occurrence was closed or moved before the alert went out.")
        return ""
    if commitment.due_date != alert.due_date:
        return _("The due date changed before the alert went out.")
    return ""


def _send(
    *,
    message: EmailMultiAlternatives,
    mailer: BaseEmailBackend,
    writer: MailWriter,
    ready: Callable[[], None],
) -> None:
    """Send ``message`` on the batch's connection, opening it the first time; call ``ready()``
    before anything of it can be delivered.

    On Django's SMTP backend the bytes it would send are written by ``writer`` (for a fraction
    of the time: :mod:`core.mime`) and handed to its SMTP connection, and ``ready()`` runs
    between the envelope and the content (:func:`_sendmail`); other backends (the console,
    tests' memory) are given the message after ``ready()``. Raise :class:`SenderUnavailable`
    when the server is down or closes the channel, and the SMTP error itself when it refuses
    this one message.
    """
    try:
        mailer.open()
        if isinstance(mailer, SMTPBackend) and mailer.connection is not None:
            _sendmail(mailer.connection, *writer.write(message), ready=ready)
        else:
            ready()
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


#: An envelope address as ``MAIL FROM`` and ``RCPT TO`` give it (``<local@domain>``), once per
#: address: smtplib parses the address again at each command, a tenth of a mail's CPU.
_envelope_address = functools.lru_cache(maxsize=4096)(smtplib.quoteaddr)


def _sendmail(
    client: smtplib.SMTP,
    sender: str,
    recipients: list[str],
    content: bytes,
    *,
    ready: Callable[[], None],
) -> None:
    """Do what ``client.sendmail(sender, recipients, content)`` does, with the same commands,
    checks and errors, and call ``ready()`` right before the ``DATA`` command.

    A mail is delivered only once the server accepted its content; the envelope before it
    (``MAIL FROM``, ``RCPT TO``: two round trips to the server) delivers nothing and is
    dropped with the connection. So the previous mail's mark commits while the envelope goes
    rather than before it, and a sender that dies meanwhile has still sent nothing since
    that mail.
    """
    client.ehlo_or_helo_if_needed()
    size = f" size={len(content)}" if client.does_esmtp and client.has_extn("size") else ""
    code, reply = client.docmd("mail", f"FROM:{_envelope_address(sender)}{size}")
    if code != 250:
        _abandon(client, code=code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = client.docmd("rcpt", f"TO:{_envelope_address(recipient)}")
        if code not in (250, 251):
            refused[recipient] = (code, reply)
        if code == _SERVICE_NOT_AVAILABLE:
            client.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        _abandon(client, code=code)
        raise smtplib.SMTPRecipientsRefused(refused)
    ready()
    code, reply = client.data(content)
    if code != 250:
        _abandon(client, code=code)
        raise smtplib.SMTPDataError(code, reply)


def _abandon(client: smtplib.SMTP, *, code: int) -> None:
    """End the mail transaction the server refused: close if it closes, else reset."""
    if code == _SERVICE_NOT_AVAILABLE:
        client.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        client.rset()


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
