"""Deliver the webhook outbox: claim due deliveries one by one, POST them, record the outcome.

The alert sender's pattern (``alerts/services/delivery.py``), for HTTP. Each delivery is sent
in its own short transaction: lock the row (``SELECT ... FOR UPDATE SKIP LOCKED``, in pk
order), check its target, POST the signed event, mark the outcome, commit. Several senders
never send the same row: a row another sender holds is skipped, and a row committed as sent
no longer matches. A sender that dies after the receiver answered 2xx but before its commit
leaves the row pending, and it goes again with the same ``X-Tracker-Delivery``: at most one
repeat per crash, never a loss. Receivers drop such a repeat by that header.

A 2xx answer is success. Anything else - another status (redirects are not followed), a
timeout, a refused connection, a TLS error, a target that now resolves to a private address -
counts an attempt, with exponential backoff, until ``WEBHOOK_MAX_ATTEMPTS``, after which the
delivery is ``failed`` with its last error kept. Within one run, an endpoint that failed is
not tried again, so one dead receiver does not hold the batch up for every event it has.

SQLite has no row locks: there the transaction first takes the write lock, and senders queue.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.roles import can_read
from tracker.outbox import retry_delay
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEvent
from webhooks.services.targets import Target, UnsafeTarget, target_check

logger = logging.getLogger(__name__)

USER_AGENT = "CommitmentTracker-Webhooks/1"
#: How much of a refusing receiver's answer is kept as the error.
_ERROR_BODY_BYTES = 300
#: How many of a host's addresses an attempt tries to connect to.
_MAX_ADDRESSES = 3


@dataclass
class SendReport:
    """What one sender run did, counted in deliveries."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    #: The run stopped at its batch limit: more deliveries may be due.
    full: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict (a Celery task result)."""
        return asdict(self)


def webhook_retry_delay(*, attempts: int) -> dt.timedelta:
    """Return the wait before the next webhook attempt (``WEBHOOK_BACKOFF_*``)."""
    return retry_delay(
        attempts=attempts,
        base_seconds=settings.WEBHOOK_BACKOFF_SECONDS,
        cap_seconds=settings.WEBHOOK_BACKOFF_MAX_SECONDS,
    )


def event_body(event: WebhookEvent) -> bytes:
    """Return the JSON body of ``event``: the same bytes on every attempt and every endpoint."""
    document = {
        "id": str(event.uuid),
        "type": event.kind,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": event.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """Return ``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def delivery_headers(*, delivery: WebhookDelivery, body: bytes, now: dt.datetime) -> dict[str, str]:
    """Return the request headers of one attempt at ``delivery``, signed at ``now``."""
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Tracker-Event": delivery.event.kind,
        "X-Tracker-Delivery": str(delivery.uuid),
        "X-Tracker-Timestamp": timestamp,
        "X-Tracker-Signature": signature(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=body
        ),
    }


def webhooks_send_pending(*, now: dt.datetime, limit: int | None = None) -> SendReport:
    """Send up to ``limit`` due deliveries at ``now``, oldest first; one transaction each."""
    limit = settings.WEBHOOK_BATCH_SIZE if limit is None else limit
    report = SendReport()
    last_pk = 0
    failing_endpoints: set[int] = set()
    handled = 0
    while True:
        if handled >= limit:
            report.full = True
            break
        with transaction.atomic():
            _serialise_writers_without_row_locks()
            # Lock by a query on the delivery table alone (an index scan in pk order however
            # stale its statistics after a scan's burst of events), then load what the POST
            # needs by primary key.
            claimed = (
                _due(now=now)
                .filter(pk__gt=last_pk)
                .exclude(endpoint_id__in=failing_endpoints)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            if claimed is None:
                break
            last_pk = claimed
            delivery = WebhookDelivery.objects.select_related("endpoint__owner", "event").get(
                pk=claimed
            )
            if not _deliver(delivery=delivery, now=now, report=report):
                failing_endpoints.add(delivery.endpoint_id)
        handled += 1
    if handled:
        logger.info(
            "Webhooks: %d sent, %d to retry, %d failed, %d skipped%s",
            report.sent,
            report.retrying,
            report.failed,
            report.skipped,
            "; more are due" if report.full else "",
        )
    return report


@transaction.atomic
def webhook_deliveries_retry(*, delivery_ids: Iterable[int], now: dt.datetime) -> int:
    """Put failed deliveries back in the queue, due at ``now`` with a fresh attempt budget.

    Only deliveries that gave up move; sent and skipped ones are left alone, so a retry can
    never send a delivery twice. Return the number queued again.
    """
    return WebhookDelivery.objects.filter(
        pk__in=list(delivery_ids), state=DeliveryState.FAILED
    ).update(state=DeliveryState.PENDING, attempts=0, next_attempt_at=now)


def _due(*, now: dt.datetime) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        state=DeliveryState.PENDING,
    )


def _serialise_writers_without_row_locks() -> None:
    """Take the database write lock first where rows cannot be locked (SQLite)."""
    if not connection.features.has_select_for_update:
        WebhookDelivery.objects.filter(pk=0).update(state=DeliveryState.PENDING)


def _deliver(*, delivery: WebhookDelivery, now: dt.datetime, report: SendReport) -> bool:
    """Attempt ``delivery`` and record the outcome; return False if the endpoint failed."""
    reason = _skip_reason(delivery)
    if reason:
        delivery.state = DeliveryState.SKIPPED
        delivery.last_error = reason
        delivery.next_attempt_at = None
        delivery.save(update_fields=["state", "last_error", "next_attempt_at"])
        report.skipped += 1
        return True
    body = event_body(delivery.event)
    headers = delivery_headers(delivery=delivery, body=body, now=now)
    status: int | None = None
    started = time.monotonic()
    try:
        target = target_check(delivery.endpoint.target_url)
        status, answer = _post(target=target, body=body, headers=headers)
    except UnsafeTarget as exc:
        error = _("Not sent: %(reason)s") % {"reason": exc}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = _describe(exc)
    else:
        error = "" if 200 <= status < 300 else _("HTTP %(status)d: %(answer)s") % {
            "status": status,
            "answer": answer or http.client.responses.get(status, ""),
        }
    delivery.response_ms = round((time.monotonic() - started) * 1000) if status else None
    delivery.last_status_code = status
    delivery.attempts += 1
    fields = ["state", "attempts", "last_status_code", "response_ms", "last_error"]
    fields += ["next_attempt_at", "sent_at"]
    if not error:
        delivery.state = DeliveryState.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.save(update_fields=fields)
        report.sent += 1
        return True
    delivery.last_error = error
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        report.failed += 1
    else:
        delivery.next_attempt_at = now + webhook_retry_delay(attempts=delivery.attempts)
        report.retrying += 1
    delivery.save(update_fields=fields)
    # The endpoint's id, never its URL or secret: a URL may carry a token of the receiver's.
    logger.warning(
        "Webhook delivery %s to endpoint %s failed (attempt %d): %s",
        delivery.pk,
        delivery.endpoint_id,
        delivery.attempts,
        error,
    )
    return False


def _skip_reason(delivery: WebhookDelivery) -> str:
    """Return why ``delivery`` must not be sent any more, or ``""`` if it should be."""
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _("The endpoint was deactivated before the event went out.")
    if not (endpoint.owner.is_active and can_read(endpoint.owner)):
        return _("The endpoint's owner may no longer read the tracker.")
    return ""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the addresses :func:`target_check` vetted, and no others."""

    def __init__(self, target: Target, *, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=read_timeout)
        self.addresses = target.addresses
        self.connect_timeout = connect_timeout

    def connect(self) -> None:
        self.sock = _open_socket(
            self.addresses, self.port, connect_timeout=self.connect_timeout, timeout=self.timeout
        )


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to the vetted addresses, verifying the certificate for the host."""

    def __init__(self, target: Target, *, connect_timeout: float, read_timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=read_timeout, context=self.tls)
        self.addresses = target.addresses
        self.connect_timeout = connect_timeout

    def connect(self) -> None:
        sock = _open_socket(
            self.addresses, self.port, connect_timeout=self.connect_timeout, timeout=self.timeout
        )
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def _open_socket(
    addresses: Iterable[str], port: int, *, connect_timeout: float, timeout: float | None
) -> socket.socket:
    """Connect to the first of ``addresses`` that answers within ``connect_timeout``."""
    error: OSError = OSError(_("No address to connect to."))
    # The first few only: a name with a hundred silent addresses must not cost a hundred waits.
    for address in list(addresses)[:_MAX_ADDRESSES]:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(connect_timeout)
        try:
            sock.connect((address, port))
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.settimeout(timeout)
        return sock
    raise error


def _post(*, target: Target, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
    """POST ``body`` to ``target``; return the status and the start of a non-2xx answer.

    Redirects are answers like any other (not followed): a receiver that moved must be
    registered again, at an address that is checked again.
    """
    options = {
        "connect_timeout": float(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS),
        "read_timeout": float(settings.WEBHOOK_READ_TIMEOUT_SECONDS),
    }
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target, **options)
    else:
        conn = _PinnedHTTPConnection(target, **options)
    # The connect and read timeouts bound each wait, not the attempt: a receiver that drips a
    # byte every few seconds would hold the worker until Celery's time limit (and then the
    # attempt, rolled back, would never count). Past the attempt's deadline its socket is
    # shut, which ends any read in progress.
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(float(settings.WEBHOOK_ATTEMPT_TIMEOUT_SECONDS), cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers=dict(headers))
        if expired.is_set():  # it fired while connecting, before there was a socket to shut
            raise _AttemptTimedOut
        response = conn.getresponse()
        if expired.is_set():
            # Cut while the status or headers came in: a truncated answer is no answer (at
            # worst the receiver sees this delivery again, and drops it by its id).
            raise _AttemptTimedOut
        answer = ""
        if not 200 <= response.status < 300:
            raw = response.read(_ERROR_BODY_BYTES)
            answer = " ".join(raw.decode(errors="replace").split())
            if target.trusted:
                # An operator-listed (internal) host: its error pages are not shown back.
                answer = ""
        return response.status, answer
    except (OSError, http.client.HTTPException, ValueError):
        if expired.is_set():
            raise _AttemptTimedOut from None
        raise
    finally:
        watchdog.cancel()
        conn.close()


class _AttemptTimedOut(TimeoutError):
    """The whole attempt took longer than ``WEBHOOK_ATTEMPT_TIMEOUT_SECONDS``."""


def _describe(exc: BaseException) -> str:
    """Return a transport error as one line for ``WebhookDelivery.last_error``."""
    if isinstance(exc, _AttemptTimedOut):
        return _("Timed out: the attempt took more than %(seconds)s s in all.") % {
            "seconds": settings.WEBHOOK_ATTEMPT_TIMEOUT_SECONDS
        }
    if isinstance(exc, TimeoutError):
        return _("Timed out: no answer within %(connect)s s (connect) / %(read)s s (read).") % {
            "connect": settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
            "read": settings.WEBHOOK_READ_TIMEOUT_SECONDS,
        }
    return f"{type(exc).__name__}: {exc}"
