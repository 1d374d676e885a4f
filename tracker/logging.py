"""Log lines operators can parse: one JSON object a line, tagged with the request's id.

Writing a line never fails: whatever text a request brings is made encodable first.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

#: The id of the request this thread or task is serving, "-" outside a request.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

#: An id a proxy may hand us in ``X-Request-ID``: short, and nothing that could forge a line.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

#: A calendar feed's path, ``/calendar/<secret>.ics`` (``feeds/api/urls.py``): its first six
#: characters are the hint the admin shows, the rest is the credential.
_CALENDAR_SECRET = re.compile(r"(/calendar/[A-Za-z0-9_-]{6})[A-Za-z0-9_-]{14,94}(\.ics)")


def redact_secrets(text: str) -> str:
    """Return ``text`` with each calendar-feed secret cut to the hint the admin shows."""
    return _CALENDAR_SECRET.sub(r"\1<redacted>\2", text)


def encodable(text: str) -> str:
    """Return ``text`` with each lone UTF-16 surrogate written as its ``\\udXXX`` escape.

    A request can carry one (JSON's ``"\\ud800"``), and a UTF-8 stream refuses to write
    it: the log line would be lost, or, where the write is not guarded, the request would
    fail. Inside a JSON string the escape is the same character, so JSON lines stay valid.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Cut secrets out of a record's message before a handler writes it.

    Django logs the path of every 4xx and 5xx answer ("Not Found: /api/v1/calendar/...") and a
    calendar feed's path is its credential, valid for as long as the feed is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, logger, message, request id, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return encodable(json.dumps(entry, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """Render a record as Django's plain line, which no text can make unwritable."""

    def format(self, record: logging.LogRecord) -> str:
        return encodable(super().format(record))


def _forget_request_id(**kwargs: object) -> None:
    request_id.set("-")


class RequestIdMiddleware:
    """Give each request an id (the proxy's ``X-Request-ID`` if sane) for its log lines.

    The id stays set until the response is closed: Django logs 4xx and 5xx responses after
    the middleware has returned.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        request_finished.connect(_forget_request_id, dispatch_uid="tracker.logging.request_id")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        current = offered if _ACCEPTED_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request_id.set(current)
        response = self.get_response(request)
        response["X-Request-ID"] = current
        return response
