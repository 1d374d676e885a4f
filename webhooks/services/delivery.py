"""Deliver the webhook outbox: POST each due delivery, signed, to its vetted target.

The claiming, marking, backoff and draining are the outbox core's (:mod:`core.outbox`, which
states the exactly-once guarantee and its bound); this module is the webhooks' sender: it
checks the target (no private addresses), signs the event and POSTs it. A sender that dies
after the receiver answered 2xx but before its commit leaves the row pending, and it goes
again with the same ``X-Tracker-Delivery``: at most one repeat per crash, never a loss.
Receivers drop such a repeat by that header.

A 2xx answer is success. Anything else - another status (redirects are not followed), a
timeout, a refused connection, a TLS error, a target that now resolves to a private address -
counts an attempt, with exponential backoff, until ``WEBHOOK_MAX_ATTEMPTS``, after which the
delivery is ``failed`` with its last error kept. Within one run, an endpoint that failed is
not tried again, so one dead receiver does not hold the batch up for every event it has.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.outbox import AttemptFailed, Outbox, OutboxReport, send_batch
from core.roles import can_read
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services.targets import Target, UnsafeTarget, target_check

USER_AGENT = "CommitmentTracker-Webhooks/1"
#: How much of a refusing receiver's answer is kept as the error.
_ERROR_BODY_BYTES = 300
#: How many of a host's addresses an attempt tries to connect to.
_MAX_ADDRESSES = 3


WEBHOOK_OUTBOX = Outbox(
    model=WebhookDelivery,
    label="Webhook delivery",
    batch_size_setting="WEBHOOK_BATCH_SIZE",
    max_attempts_setting="WEBHOOK_MAX_ATTEMPTS",
    backoff_setting="WEBHOOK_BACKOFF_SECONDS",
    backoff_max_setting="WEBHOOK_BACKOFF_MAX_SECONDS",
    # Each attempt records the receiver's answer; a success clears the last error.
    attempt_fields=("last_status_code", "response_ms", "last_error"),
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


def webhooks_send_pending(*, now: dt.datetime, limit: int | None = None) -> OutboxReport:
    """Send up to ``limit`` due deliveries at ``now``, oldest first; one transaction each.

    ``full`` in the report says the batch stopped at its limit.
    """
    return send_batch(sender=_WebhookPoster(), now=now, report=OutboxReport(), limit=limit)


class _WebhookPoster:
    """The webhooks' sender for the outbox core: one signed POST per delivery.

    Within one run, an endpoint that failed is not tried again, so one dead receiver does not
    hold the batch up for every event it has.
    """

    outbox = WEBHOOK_OUTBOX

    def __init__(self) -> None:
        self.failing_endpoints: set[int] = set()

    def narrow(self, due: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
        """Return the due deliveries except those of endpoints that failed in this run."""
        return due.exclude(endpoint_id__in=self.failing_endpoints)

    def load(self, pks: Sequence[int]) -> list[WebhookDelivery]:
        """Load the claimed deliveries with their endpoint, owner and event."""
        return list(
            WebhookDelivery.objects.filter(pk__in=pks)
            .order_by("pk")
            .select_related("endpoint__owner", "event")
        )

    def skip_reason(self, delivery: WebhookDelivery) -> str:
        """Return why ``delivery`` must not be sent any more, or ``""`` if it should be."""
        return _skip_reason(delivery)

    def holds_back(self, delivery: WebhookDelivery) -> bool:
        """Hold back, till the next run, a claimed delivery whose endpoint failed in this one."""
        return delivery.endpoint_id in self.failing_endpoints

    def send(
        self,
        deliveries: Sequence[WebhookDelivery],
        *,
        now: dt.datetime,
        ready: Callable[[], None],
    ) -> None:
        """POST each delivery's event; record the answer on it; raise if it was not a 2xx.

        ``ready()`` (the previous delivery's mark committed) is waited for before any POST.
        """
        ready()
        for delivery in deliveries:
            error = _attempt(delivery=delivery, now=now)
            if error:
                self.failing_endpoints.add(delivery.endpoint_id)
                raise AttemptFailed(error)


def _attempt(*, delivery: WebhookDelivery, now: dt.datetime) -> str:
    """POST ``delivery`` once; set its status and timing; return the error, or ``""``."""
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
        error = (
            ""
            if 200 <= status < 300
            else _("HTTP %(status)d: %(answer)s")
            % {
                "status": status,
                "answer": answer or http.client.responses.get(status, ""),
            }
        )
    delivery.response_ms = round((time.monotonic() - started) * 1000) if status else None
    delivery.last_status_code = status
    delivery.last_error = error
    return error


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
