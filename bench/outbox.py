"""Benchmark the alerts outbox's drain against a plain SMTP loop sending the same mails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/outbox.py --alerts 2000

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its commitments,
agreements, parties, users, subscriptions, scan runs and alerts with generated data; with
``--worker`` it also empties the Redis database named by ``CELERY_BROKER_URL``. Point both at
scratch ones.

It writes ``--alerts`` pending immediate alerts (``--users`` watchers of an agreement x its
commitments, written by the deadline scan as in production) and starts an aiosmtpd server on
a free loopback port that accepts everything. Then, on the same alerts
reset to pending between runs:

* ``plain loop``: the same messages (rendered by the sender's own code beforehand, not timed)
  sent over one ``smtplib`` connection per batch, with nothing else: the ceiling;
* ``in process``: :func:`alerts.services.delivery.alerts_send_pending` called again while its
  batch comes back full, as the ``send_alerts`` task does through the broker;
* ``worker`` (with ``--worker``): ``alerts.send_alerts`` tasks enqueued on Redis for a real
  ``celery worker``, timed until every alert is marked sent: the drain as it runs in
  production, re-queue hops included. As many tasks as a scan enqueues
  (``TRACKER_ALERT_SENDERS``) for a worker of as many processes, or ``--senders N``: N senders
  at once, whose claims skip each other's rows.

Each prints alerts per second and its ratio to the plain loop; the plain loop and the drain in
process also print the process's CPU per mail (the SMTP server's thread included, in both),
which moves less than their rates when the machine is loaded. The worker prints its own CPU
per mail (its processes', in the timed window) and the SMTP server thread's: what each mail
costs the machine's cores besides PostgreSQL's, and so how far more senders can go on them.
Last, the bench times durable commits of one row on the same database: a sender marks each
mail sent in a commit that must be flushed before the next mail leaves
(:class:`core.outbox._Marks`), so one sender sends at most that many mails a second, whatever
its CPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
# As in production (and in the other benches): cached templates, no query log. The worker
# inherits it.
os.environ["DJANGO_DEBUG"] = "false"

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

PROJECT_DIR = Path(__file__).resolve().parent.parent


class _Accept:
    """An SMTP handler that counts and drops every message."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.accepted += 1
        return "250 OK"


def _start_smtp() -> tuple[Controller, _Accept]:
    handler = _Accept()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return controller, handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--worker", action="store_true", help="also time a real Celery worker")
    parser.add_argument(
        "--senders",
        type=int,
        default=None,
        help="the worker's processes and the tasks enqueued (default: TRACKER_ALERT_SENDERS)",
    )
    args = parser.parse_args()

    controller, handler = _start_smtp()
    host, port = controller.hostname, controller.port
    os.environ["EMAIL_URL"] = f"smtp://{host}:{port}"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    now = _build(alerts=args.alerts, users=args.users)
    batch = settings.TRACKER_ALERT_BATCH_SIZE
    senders = args.senders or settings.TRACKER_ALERT_SENDERS
    print(f"{args.alerts} alerts, batches of {batch}, SMTP server {host}:{port}")

    server_cpu = _ThreadCPU(controller._thread)
    runs: list[tuple[str, Callable[[], tuple[float, float | None]]]] = [
        ("in process", lambda: _in_process(now=now))
    ]
    if args.worker:
        name = "worker" if senders == 1 else f"worker x{senders}"
        runs.append(
            (
                name,
                lambda: _worker(
                    smtp_url=os.environ["EMAIL_URL"],
                    senders=senders,
                    alerts=args.alerts,
                    server_cpu=server_cpu,
                ),
            )
        )
    plain, plain_cpu = _plain_loop(now=now, host=host, port=port, batch=batch)
    _report("plain loop", args.alerts, plain, plain, cpu=plain_cpu)
    for name, run in runs:
        _reset()
        handler.accepted = 0
        seconds, cpu = run()
        if handler.accepted != args.alerts:
            raise SystemExit(f"{name}: the server accepted {handler.accepted} mails")
        _report(name, args.alerts, seconds, plain, cpu=cpu)
    controller.stop()
    _commit_ceiling(plain_rate=args.alerts / plain)


def _build(*, alerts: int, users: int) -> dt.datetime:
    """Replace the data with ``alerts`` pending immediate alerts; return the instant to send at."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from alerts.models import Alert
    from alerts.services.scan import scan
    from alerts.services.subscriptions import subscription_create
    from commitments.choices import Category, PartyKind
    from commitments.models import Party
    from commitments.services import commitments as svc

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE alerts_alert, alerts_scanrun, alerts_subscriptionlead, alerts_subscription,"
            " alerts_historicalsubscription, commitments_commitment_beneficiaries,"
            " commitments_historicalcommitment, commitments_commitment,"
            " commitments_agreement_parties, commitments_historicalagreement,"
            " commitments_agreement, commitments_party, auth_user CASCADE"
        )
    japan = Party.objects.create(key="japan", name="Japan", kind=PartyKind.STATE)
    agreement = svc.agreement_create(
        key="bench",
        title="Bench agreement",
        kind="summit_outcome",
        date=dt.date(2026, 1, 10),
        time_zone="Asia/Tokyo",
        parties=[japan],
    )
    per_user = -(-alerts // users)
    for n in range(per_user):
        svc.commitment_create(
            agreement=agreement,
            key=f"c-{n}",
            title=f"Commitment {n} to build the bench's harbour",
            obligor=japan,
            category=Category.MEETING,
            deadline_kind="fixed",
            deadline_date=dt.date(2026, 6, 30),
        )
    people = get_user_model().objects.bulk_create(
        get_user_model()(username=f"watcher{n}", email=f"watcher{n}@example.org")
        for n in range(users)
    )
    for user in people:
        subscription_create(
            user=user, scope="agreement", agreement=agreement, lead_days=[7], notify_overdue=False
        )
    # Written by the deadline scan, as in production: its rows, in its order (which decides
    # what a sender's run of a batch has in common).
    now = dt.datetime(2026, 6, 24, 3, 0, tzinfo=dt.UTC)
    scan(now=now)
    extra = Alert.objects.count() - alerts
    if extra < 0:
        raise SystemExit(f"the scan wrote {alerts + extra} alerts, not {alerts}")
    if extra > 0:
        Alert.objects.filter(pk__in=Alert.objects.order_by("-pk").values("pk")[:extra]).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE alerts_alert")
    return now


def _reset() -> None:
    from alerts.models import Alert, AlertState

    Alert.objects.update(state=AlertState.PENDING, attempts=0, sent_at=None, next_attempt_at=None)


def _plain_loop(*, now: dt.datetime, host: str, port: int, batch: int) -> tuple[float, float]:
    """Render every alert's mail with the sender's code (untimed); time sending them plainly.

    Return the seconds and the process's CPU seconds.
    """
    from django.core.mail import get_connection

    from alerts.models import Alert
    from alerts.services.delivery import DeliveryReport, _AlertMailer
    from alerts.services.mail import alert_mail_build

    pks = list(Alert.objects.order_by("pk").values_list("pk", flat=True))
    mailer = _AlertMailer(report=DeliveryReport())
    backend = get_connection()
    messages = []
    for alert in mailer.load(pks):
        message = alert_mail_build(alerts=[alert], now=now, mailer=backend).message()
        messages.append((message["From"], [alert.email], message.as_bytes(linesep="\r\n")))
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(messages), batch):
        with smtplib.SMTP(host, port) as client:
            for sender, recipients, data in messages[first : first + batch]:
                client.sendmail(sender, recipients, data)
    return time.perf_counter() - started, time.process_time() - cpu


def _in_process(*, now: dt.datetime) -> tuple[float, float]:
    from alerts.services.delivery import alerts_send_pending

    started, cpu = time.perf_counter(), time.process_time()
    while alerts_send_pending(now=now).full:
        pass
    return time.perf_counter() - started, time.process_time() - cpu


def _worker(
    *, smtp_url: str, senders: int, alerts: int, server_cpu: _ThreadCPU
) -> tuple[float, None]:
    """Enqueue ``senders`` send tasks for a real worker of as many processes; return the
    seconds until all alerts are sent. Print the worker's CPU per mail (its processes', read
    from ``/proc``) and the SMTP server thread's, over that time.

    The alerts were raised at a fixed past instant, so they are due at the worker's now.
    """
    import redis
    from celery import current_app

    from alerts.models import Alert, AlertState

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    env = {**os.environ, "EMAIL_URL": smtp_url}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", f"--concurrency={senders}",
         "--pool=prefork", "--loglevel=WARNING", "--without-mingle", "--without-gossip"],
        cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not current_app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not answer")
        pending = Alert.objects.exclude(state=AlertState.SENT)
        worker_cpu, smtp_cpu = _tree_cpu(worker.pid), server_cpu()
        started = time.perf_counter()
        for _ in range(senders):
            current_app.send_task("alerts.send_alerts")
        while pending.exists():
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        worker_cpu, smtp_cpu = _tree_cpu(worker.pid) - worker_cpu, server_cpu() - smtp_cpu
        print(
            f"{'':>13}worker CPU {worker_cpu / alerts * 1000:.2f} ms/mail,"
            f" SMTP server thread {smtp_cpu / alerts * 1000:.2f} ms/mail"
        )
        return seconds, None
    finally:
        worker.terminate()
        worker.wait(timeout=30)


class _ThreadCPU:
    """The CPU seconds one thread of this process has used, read when called."""

    def __init__(self, thread: threading.Thread | None) -> None:
        if thread is None or thread.ident is None:
            raise RuntimeError("the SMTP server's thread is not running")
        self._clock = time.pthread_getcpuclockid(thread.ident)

    def __call__(self) -> float:
        return time.clock_gettime(self._clock)


def _tree_cpu(pid: int) -> float:
    """Return the CPU seconds (user and system) of process ``pid`` and its children now."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        pids += [int(child) for child in children]
    return total


def _commit_ceiling(*, plain_rate: float, commits: int = 200) -> None:
    """Time ``commits`` durable one-row commits, as a sender's marks are; print the ceiling.

    Each is an autocommit ``UPDATE`` that changes nothing of the oldest alert: it still writes
    a row version, so its commit waits for the WAL to be flushed, as a mark's does.
    """
    from django.db import connection

    from alerts.models import Alert

    pk = Alert.objects.order_by("pk").values_list("pk", flat=True)[0]
    with connection.cursor() as cursor:
        started = time.perf_counter()
        for _ in range(commits):
            cursor.execute("UPDATE alerts_alert SET attempts = attempts WHERE id = %s", [pk])
        seconds = (time.perf_counter() - started) / commits
    print(
        f"durable commit: {seconds * 1000:.2f} ms, so one sender sends at most"
        f" {1 / seconds:.0f} mails/s ({1 / seconds / plain_rate:.2f} of the plain loop)"
    )


def _report(
    name: str, alerts: int, seconds: float, plain: float, *, cpu: float | None = None
) -> None:
    print(
        f"{name:>11}: {seconds:7.2f} s  {alerts / seconds:8.1f} alerts/s"
        + (f"  CPU {cpu / alerts * 1000:.2f} ms/mail" if cpu is not None else "")
        + f"  ({plain / seconds:.2f} of the plain loop"
        + (
            ""
            if seconds == plain
            else f"; target >= 0.8: {'met' if plain / seconds >= 0.8 else 'NOT met'}"
        )
        + ")"
    )


if __name__ == "__main__":
    main()
