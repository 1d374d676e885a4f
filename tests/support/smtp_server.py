"""A real SMTP server in the test process (aiosmtpd) that records, refuses or goes down.

Use it as a context manager, or through the fixtures at the end of this module (register
them with ``pytest_plugins = ["tests.support.smtp_server"]`` in ``tests/conftest.py``):

* ``smtp_server``: a running :class:`SMTPServer` on a free loopback port, stopped at teardown.
  Worker processes reach it through ``smtp_server.url`` (an ``EMAIL_URL``).
* ``smtp_settings``: the same server, with Django's settings pointing the SMTP backend at it.

The server records every message it accepts, with the client's address: one address per SMTP
connection, so a test can count the connections a batch used. ``refuse("451 ...")`` makes it
answer DATA with that reply (for the next ``count`` messages, or until ``accept()``);
``refuse_recipient`` refuses one address at RCPT; ``before_recipient`` and ``before_reply`` run a
test's check at RCPT and at the end of DATA; ``delay`` slows each acceptance; ``stop()``
closes the port (connections are refused, open ones dropped) and ``start()`` opens it again
on the same port. A test module may also import the fixtures by their function names
(``smtp_server_fixture``, ``smtp_settings_fixture``), which linters do not mistake for
redefinitions.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    peer: tuple[str, int]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """Return the plain-text part."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        """Return the HTML part."""
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""  # type: ignore[attr-defined]


class _Recorder:
    """The aiosmtpd handler: decides each reply and records accepted messages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[ReceivedMail] = []
        self.connections = 0
        self.data_reply: str | None = None
        self.refusals_left: int | None = None
        self.refused_recipients: dict[str, str] = {}
        self.delay = 0.0
        self.before_reply: Callable[[list[ReceivedMail]], Awaitable[None]] | None = None
        self.before_recipient: Callable[[str], Awaitable[None]] | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            reply = self.refused_recipients.get(address.lower())
        if reply:
            return reply
        if self.before_recipient is not None:
            await self.before_recipient(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.data_reply is not None:
                reply = self.data_reply
                if self.refusals_left is not None:
                    self.refusals_left -= 1
                    if self.refusals_left <= 0:
                        self.data_reply = self.refusals_left = None
                return reply
            content = envelope.original_content or b""
            peer: Any = session.peer
            message = email.message_from_bytes(content, policy=email.policy.default)
            self.messages.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    message=message,  # type: ignore[arg-type]
                    peer=(str(peer[0]), int(peer[1])),
                )
            )
            received = list(self.messages)
        if self.before_reply is not None:
            await self.before_reply(received)
        return "250 Message accepted for delivery"


class _CountingSMTP(SMTP):
    def connection_made(self, transport: Any) -> None:
        recorder = self.event_handler
        with recorder.lock:
            recorder.connections += 1
        super().connection_made(transport)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SMTPServer:
    """A real SMTP server on a loopback port, run in a thread of the test process."""

    def __init__(self, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._recorder = _Recorder()
        self._controller: _Controller | None = None

    @property
    def url(self) -> str:
        """Return the server as an ``EMAIL_URL`` for django-environ (worker processes)."""
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        """Return the messages accepted so far, in order."""
        with self._recorder.lock:
            return list(self._recorder.messages)

    @property
    def connections(self) -> int:
        """Return the number of SMTP connections clients opened since ``start``/``reset``."""
        with self._recorder.lock:
            return self._recorder.connections

    @property
    def delay(self) -> float:
        """Return the seconds the server takes to accept each message."""
        return self._recorder.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._recorder.delay = seconds

    def before_reply(self, action: Callable[[list[ReceivedMail]], Awaitable[None]] | None) -> None:
        """Await ``action(messages so far)`` after recording each mail, before its 250 reply.

        Only that client's conversation waits; the server keeps serving the others.
        """
        self._recorder.before_reply = action

    def before_recipient(self, action: Callable[[str], Awaitable[None]] | None) -> None:
        """Await ``action(address)`` at each accepted ``RCPT TO``, before its 250 reply."""
        self._recorder.before_recipient = action

    def django_settings(self) -> dict[str, Any]:
        """Return the Django e-mail settings that send through this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 5,
        }

    def start(self) -> None:
        """Listen on the port (again, after ``stop``)."""
        if self._controller is not None:
            return
        controller = _Controller(self._recorder, hostname=self.host, port=self.port)
        controller.start()
        self._controller = controller
        with self._recorder.lock:
            self._recorder.connections = 0  # start() opens one itself, to check the server

    def stop(self) -> None:
        """Go down: close the port and drop open connections."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, reply: str = "451 4.3.0 Try again later", *, count: int | None = None) -> None:
        """Answer DATA with ``reply`` for the next ``count`` messages (all, if None)."""
        with self._recorder.lock:
            self._recorder.data_reply = reply
            self._recorder.refusals_left = count

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such mailbox") -> None:
        """Answer RCPT TO ``address`` with ``reply``."""
        with self._recorder.lock:
            self._recorder.refused_recipients[address.lower()] = reply

    def accept(self) -> None:
        """Accept every message again."""
        with self._recorder.lock:
            self._recorder.data_reply = self._recorder.refusals_left = None
            self._recorder.refused_recipients.clear()

    def reset(self) -> None:
        """Forget the messages and connections recorded so far."""
        with self._recorder.lock:
            self._recorder.messages.clear()
            self._recorder.connections = 0

    def wait_for_messages(self, count: int, *, timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(messages := self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(messages)} of {count} messages arrived in {timeout} s")
            time.sleep(0.05)
        return messages

    def __enter__(self) -> SMTPServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SMTPServer]:
    """Run a real SMTP server on a free loopback port for the test."""
    with SMTPServer() as server:
        yield server


@pytest.fixture(name="smtp_settings")
def smtp_settings_fixture(smtp_server: SMTPServer, settings: Any) -> SMTPServer:
    """Point Django's SMTP backend at the test's SMTP server; return the server."""
    for name, value in smtp_server.django_settings().items():
        setattr(settings, name, value)
    return smtp_server
