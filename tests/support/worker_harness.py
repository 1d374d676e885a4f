"""Run real Celery worker and beat processes on the test database and a Redis database.

The tests about the queue itself (exactly-once delivery, redelivery, crashes, two beats) need
the real parts: separate processes, the real Redis broker, data committed to the test
database. This module starts those processes, waits until they answer, stops them with a warm
shutdown (SIGTERM) or kills them with their pool children (SIGKILL, a crash), and keeps their
logs for failure messages. Every wait polls against a deadline.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.db import connection

from alerts.models import Alert, AlertState
from tests.support.smtp_server import SMTPServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379"
NODE_HOST = "ct-test"

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], *, timeout: float, what: str | Callable[[], str]) -> T:
    """Poll ``predicate`` until it returns a true value; raise ``TimeoutError`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            message = what() if callable(what) else what
            raise TimeoutError(f"Gave up after {timeout:.0f} s waiting for {message}")
        time.sleep(0.05)


def services_problem() -> str | None:
    """Return why the real-parts tests cannot run here (not PostgreSQL, no Redis), or None."""
    if connection.vendor != "postgresql":
        return (
            "the real Celery worker tests need the test database on PostgreSQL, shared with "
            "the worker processes: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> "
            "(or deselect them with -m 'not celery_worker'); the database is "
            f"{connection.vendor}"
        )
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"the real Celery worker tests need Redis at {REDIS_URL}: {exc}"
    return None


def shared_database_url() -> str:
    """Return a DATABASE_URL naming the database this test process uses (the test database)."""
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    user = quote(s.get("USER") or "", safe="")
    return (
        f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}"
        f"/{s['NAME']}"
    )


@dataclass
class CeleryProcess:
    """One ``celery worker`` or ``celery beat`` process and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def node(self) -> str:
        return f"{self.name}@{NODE_HOST}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def received(self, task_name: str) -> list[str]:
        """Return the ids of the ``task_name`` messages this worker received, repeats included."""
        return re.findall(rf"Task {re.escape(task_name)}\[([0-9a-f-]+)\] received", self.log())

    def kill(self, *, wait: bool = True) -> None:
        """Kill the process and its pool children at once (SIGKILL to the group), as a crash.

        With ``wait=False`` return at once (from another thread, e.g. an SMTP handler).
        """
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if wait:
            self.popen.wait(timeout=10)


class CeleryHarness:
    """Start Celery processes of the tracker on one broker, test database and SMTP server."""

    def __init__(
        self,
        *,
        broker_url: str,
        email_url: str,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.broker_url = broker_url
        self.log_dir = log_dir
        self.processes: list[CeleryProcess] = []
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"CELERY_TASK_ALWAYS_EAGER", "CELERY_RESULT_BACKEND"}
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tracker.settings",
                "DATABASE_URL": shared_database_url(),
                "CELERY_BROKER_URL": broker_url,
                "EMAIL_URL": email_url,
                "TRACKER_VAR_DIR": str(log_dir),
                "PYTHONUNBUFFERED": "1",
                **(env or {}),
            }
        )
        # The read and write URLs win over CELERY_BROKER_URL in this process's environment,
        # which Celery prefers to ``broker``.
        self.client = Celery("tracker-test-client")
        self.client.conf.update(broker_read_url=broker_url, broker_write_url=broker_url)

    def start_workers(self, *names: str, concurrency: int = 1) -> list[CeleryProcess]:
        """Start one ``celery -A tracker worker`` per name; return once all answer a ping."""
        processes = [
            self._spawn(
                name,
                [
                    "worker",
                    f"--hostname={name}@{NODE_HOST}",
                    f"--concurrency={concurrency}",
                    "--pool=prefork",
                    "--loglevel=INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                ],
            )
            for name in names
        ]
        for process in processes:
            self._wait_until_answers(process)
        return processes

    def start_beats(self, *names: str) -> list[CeleryProcess]:
        """Start one ``celery -A tracker beat`` (database scheduler) per name; wait for each."""
        processes = [
            self._spawn(
                name,
                [
                    "beat",
                    "--loglevel=INFO",
                    "--max-interval=1",
                    "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
                    f"--pidfile={self.log_dir / (name + '.pid')}",
                    f"--schedule={self.log_dir / (name + '-schedule')}",
                ],
            )
            for name in names
        ]
        for process in processes:
            self._wait_until_logged(process, "beat: Starting...")
        return processes

    def send(self, task_name: str, **kwargs: Any) -> str:
        """Enqueue ``task_name`` through the broker, as the web app or beat would; return its id."""
        return str(self.client.send_task(task_name, kwargs=kwargs).id)

    def logs(self) -> str:
        """Return every process's log, for a failure message."""
        return "\n".join(f"===== {p.name} =====\n{p.log()}" for p in self.processes)

    def stop(self, *processes: CeleryProcess, timeout: float = 20) -> None:
        """Warm-shut ``processes`` down together (SIGTERM); kill any still there at the deadline.

        A worker finishes its running task first, so once this returns nothing more is sent.
        """
        for process in processes:
            if process.alive():
                process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
            if process.alive():
                process.kill()

    def close(self) -> None:
        """Stop every process this harness started, even after a failed test."""
        self.stop(*self.processes)
        self.client.close()

    def _spawn(self, name: str, arguments: list[str]) -> CeleryProcess:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tracker", *arguments],
                cwd=PROJECT_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = CeleryProcess(name=name, popen=popen, log_path=log_path)
        self.processes.append(process)
        return process

    def _alive_or_raise(self, process: CeleryProcess) -> bool:
        if not process.alive():
            raise RuntimeError(
                f"{process.name} exited with {process.popen.returncode}; its log:\n{process.log()}"
            )
        return True

    def _wait_until_answers(self, process: CeleryProcess) -> None:
        def answers() -> bool:
            self._alive_or_raise(process)
            replies = self.client.control.ping(destination=[process.node], timeout=0.5, limit=1)
            return any(process.node in reply for reply in replies)

        wait_for(
            answers,
            timeout=45,
            what=lambda: f"{process.name} to answer a ping; its log:\n{process.log()}",
        )

    def _wait_until_logged(self, process: CeleryProcess, text: str) -> None:
        wait_for(
            lambda: self._alive_or_raise(process) and text in process.log(),
            timeout=45,
            what=lambda: f"{process.name} to log {text!r}; its log:\n{process.log()}",
        )


def flush_redis(db: int) -> str:
    """Empty Redis database ``db`` (queues and unacked messages of earlier runs); return its URL."""
    url = f"{REDIS_URL}/{db}"
    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    return url


@contextlib.contextmanager
def redis_db_lock(db: int, *, timeout: float = 300) -> Iterator[None]:
    """Hold this machine's lock on Redis database ``db``: one test at a time may use it.

    Test runs of several checkouts, or xdist workers, would otherwise flush each other's queues
    and steal each other's tasks. The lock is a file lock, released if the process dies.
    """
    path = Path(tempfile.gettempdir()) / f"commitment-tracker-redis-{db}.lock"
    with path.open("a") as handle:

        def acquired() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        wait_for(acquired, timeout=timeout, what=f"another test run to release {path}")
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(name="celery_harness")
def celery_harness_fixture(
    transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., CeleryHarness]]:
    """Return a factory of :class:`CeleryHarness`; stop their processes at teardown.

    Requesting ``transactional_db`` commits the test's data where the worker processes see it
    and stops them before the tables are flushed. Without PostgreSQL and Redis the test fails
    with the reason (under ``CI``, or when PostgreSQL is configured but Redis is missing); on a
    developer's SQLite run it is skipped with the reason.
    """
    problem = services_problem()
    if problem:
        if os.environ.get("CI") or connection.vendor == "postgresql":
            pytest.fail(problem)
        pytest.skip(problem)
    harnesses: list[CeleryHarness] = []
    with contextlib.ExitStack() as locks:

        def make(
            *, redis_db: int, email_url: str, env: Mapping[str, str] | None = None
        ) -> CeleryHarness:
            locks.enter_context(redis_db_lock(redis_db))
            harness = CeleryHarness(
                broker_url=flush_redis(redis_db), email_url=email_url, log_dir=tmp_path, env=env
            )
            harnesses.append(harness)
            return harness

        try:
            yield make
        finally:
            for harness in harnesses:
                harness.close()


def wait_until_all_sent(*, expected: int, harness: CeleryHarness, timeout: float = 60) -> None:
    """Wait until exactly ``expected`` alerts exist and every one of them is marked sent."""

    def states() -> Counter[str]:
        return Counter(Alert.objects.values_list("state", flat=True))

    wait_for(
        lambda: states() == Counter({AlertState.SENT: expected}),
        timeout=timeout,
        what=lambda: f"{expected} alerts sent; alert states {dict(states())}\n{harness.logs()}",
    )


def assert_each_alert_once(smtp_server: SMTPServer, *, duplicated: str = "") -> None:
    """Assert every alert row is sent and its mail arrived once, to its recipient, and no other.

    ``duplicated`` names the one Message-ID allowed (and required) to arrive twice: the mail
    in flight when a worker was killed.
    """
    alerts = list(Alert.objects.select_related("user"))
    assert alerts, "the test raised no alerts"
    states = Counter(alert.state for alert in alerts)
    assert states == {AlertState.SENT: len(alerts)}, f"alert states: {dict(states)}"
    recipients = {alert.message_id: alert.user.email for alert in alerts if alert.user}
    assert len(recipients) == len(alerts), "some alerts share a Message-ID or have no user"
    expected = Counter(recipients.keys())
    if duplicated:
        expected[duplicated] += 1
    messages = smtp_server.messages
    received = Counter(message.message_id for message in messages)
    assert received == expected, (
        f"lost: {sorted(expected - received)}; extra: {sorted(received - expected)}"
    )
    for message in messages:
        assert message.rcpt_tos == (recipients[message.message_id],), message.rcpt_tos
