"""Write a text mail with HTML alternatives as the bytes Django's SMTP backend would send.

Django builds a mail as a tree of ``email`` objects and flattens it with the standard
library's generator: about 0.9 ms a mail, most of it folding headers that need no folding and
compiling a regular expression to check each random MIME boundary. :class:`MailWriter` writes
the same bytes directly (tests compare them byte for byte with Django's, boundary and date
aside): headers that fit on a line are written as they are, others folded by the standard
library exactly as the generator folds them, and the part of a mail its recipients share
(the subject and the bodies) is written once per writer rather than once per recipient.

It writes the mails the outboxes send: a ``text/plain`` body with ``text/*`` alternatives, no
attachment, no ``Cc`` or ``Reply-To``, in UTF-8, with its own ``Message-ID``. Any other
message is flattened by Django.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Hashable
from email import policy
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    SafeMIMEText,
    forbid_multi_line_headers,
    sanitize_address,
)

#: How the generator folds headers when Django's SMTP backend flattens a message.
_FOLDING = policy.compat32.clone(linesep="\r\n")
#: Longest header line written as it is (RFC 5322's recommended limit, the generator's).
_MAX_LINE = 78
#: What the generator takes for a line break in a body.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_UTF8 = "utf-8"
#: A header value the generator writes as it is if it fits on a line: printable ASCII and
#: tabs (no character ``str.splitlines`` breaks at).
_VERBATIM = re.compile(r"[\t\x20-\x7e]*")


class MailWriter:
    """Write messages to their SMTP envelope and bytes; one per run of a sender.

    Not thread-safe: it remembers the shared part of the mails it wrote, for the run.
    """

    def __init__(self) -> None:
        self._shared: dict[Hashable, bytes] = {}
        self._addresses: dict[tuple[str, str], str] = {}
        self._random = random.SystemRandom()

    def write(
        self, message: EmailMessage, *, date: str | None = None, boundary: str | None = None
    ) -> tuple[str, list[str], bytes]:
        """Return the envelope sender, the envelope recipients and the bytes of ``message``.

        As Django's SMTP backend sends it: addresses sanitized, lines ending in CRLF.
        ``date`` and ``boundary`` are for tests; a mail is dated now.
        """
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = self._address(message.from_email, encoding)
        recipients = [self._address(address, encoding) for address in message.recipients()]
        if not _writable(message, encoding):
            mime = message.message()
            if boundary is not None and mime.is_multipart():
                mime.set_boundary(boundary)
            return sender, recipients, mime.as_bytes(linesep="\r\n")
        assert isinstance(message, EmailMultiAlternatives)  # noqa: S101 - _writable checks it
        alternatives = tuple((str(content), mimetype) for content, mimetype in message.alternatives)
        key = (str(message.subject), str(message.body), alternatives, boundary)
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = self._write_shared(message, alternatives, boundary)
        heading, bodies = shared.split(b"\r\n\r\n", 1)
        headers = [
            heading,
            _header("From", message.extra_headers.get("From", message.from_email)),
            _header("To", message.extra_headers.get("To", ", ".join(str(to) for to in message.to))),
        ]
        names = {name.lower() for name in message.extra_headers}
        if "date" not in names:
            headers.append(
                _header("Date", date or formatdate(localtime=settings.EMAIL_USE_LOCALTIME))
            )
        headers += [
            _header(name, value)
            for name, value in message.extra_headers.items()
            if name.lower() not in {"from", "to", "cc", "reply-to"}
        ]
        return sender, recipients, b"\r\n".join(headers) + b"\r\n\r\n" + bodies

    def _address(self, address: str, encoding: str) -> str:
        """Return ``address`` sanitized for the envelope, as Django's SMTP backend does."""
        key = (str(address), encoding)
        sanitized = self._addresses.get(key)
        if sanitized is None:
            sanitized = self._addresses[key] = sanitize_address(address, encoding)
        return sanitized

    def _write_shared(
        self,
        message: EmailMultiAlternatives,
        alternatives: tuple[tuple[str, str], ...],
        boundary: str | None,
    ) -> bytes:
        """Return the headers and bodies every recipient of ``message`` gets, a blank line
        between them."""
        parts = [_part(str(message.body), "plain")]
        parts += [_part(content, mimetype.split("/", 1)[1]) for content, mimetype in alternatives]
        if boundary is None:
            boundary = self._boundary(parts)
        delimiter = b"--" + boundary.encode("ascii")
        bodies = delimiter + b"\r\n" + (b"\r\n" + delimiter + b"\r\n").join(parts)
        heading = b"".join(
            _FOLDING.fold_binary(name, value)
            for name, value in (
                ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
                ("MIME-Version", "1.0"),
                forbid_multi_line_headers("Subject", str(message.subject), _UTF8),
            )
        )
        return heading + b"\r\n" + bodies + b"\r\n" + delimiter + b"--\r\n"

    def _boundary(self, parts: list[bytes]) -> str:
        """Return a boundary as the generator draws one, found in none of ``parts``."""
        while True:
            boundary = "=" * 15 + f"{self._random.randrange(sys.maxsize):019d}" + "=="
            if not any(b"--" + boundary.encode("ascii") in part for part in parts):
                return boundary


def _writable(message: EmailMessage, encoding: str) -> bool:
    """Say if :class:`MailWriter` writes ``message`` itself (else Django flattens it)."""
    return (
        isinstance(message, EmailMultiAlternatives)
        and bool(message.body)
        and bool(message.alternatives)
        and message.content_subtype == "plain"
        and message.alternative_subtype == "alternative"
        and all(
            isinstance(content, str) and mimetype.startswith("text/")
            for content, mimetype in message.alternatives
        )
        and not message.attachments
        and not message.cc
        and not message.reply_to
        and encoding.lower() == _UTF8
        and bool(message.to)
        # Django makes one up otherwise (the outboxes give theirs, stable across attempts).
        and any(name.lower() == "message-id" for name in message.extra_headers)
    )


def _header(name: str, value: str) -> bytes:
    """Return the header line Django would write, folded as the generator folds it."""
    name, value = forbid_multi_line_headers(name, value, _UTF8)
    if len(name) + 2 + len(value) <= _MAX_LINE and _VERBATIM.fullmatch(value):
        return f"{name}: {value}".encode("ascii")
    return _FOLDING.fold_binary(name, value)[:-2]


def _part(text: str, subtype: str) -> bytes:
    """Return one ``text/*`` part, headers and body, as Django encodes it in UTF-8."""
    if any(
        len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
        for line in text.splitlines()
    ):
        # Quoted-printable, for lines too long for SMTP: rare, left to Django.
        return SafeMIMEText(text, subtype, _UTF8).as_bytes(linesep="\r\n")
    body = "\r\n".join(_LINE_BREAK.split(text)).encode(_UTF8)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        f"Content-Transfer-Encoding: {'7bit' if body.isascii() else '8bit'}\r\n\r\n"
    ).encode("ascii") + body
