"""Faults: the database restarted mid-scan, the broker down for a minute, a flaky SMTP server.

Each test breaks one part for real and fails on a lost or a duplicated alert:

1. PostgreSQL restarted (``pg_ctl restart -m fast``) while a worker's scan is halfway through
   its transaction: the task is retried and completes; every flag, alert and scan record is
   the retry's, none is the interrupted attempt's.
2. Redis, the Celery broker, stopped for a minute under a gunicorn web server, a worker and
   beat: every web request still answers (``/healthz`` says the broker is down); the alerts
   raised meanwhile are mailed once each after Redis is back.
3. An SMTP server answering 451 to every other message: the sender retries with backoff until
   every alert is delivered exactly once, its attempts counted.

The shared PostgreSQL and Redis are never touched: the tests start and break private ones (a
PostgreSQL cluster in a temporary directory, ``redis-server`` subprocesses on free ports) and
remove them at teardown. Select them with ``-m faults``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString
from zoneinfo import ZoneInfo

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from psycopg import sql

from alerts.models import Alert, AlertState, SubscriptionScope
from alerts.services.delivery import ALERT_OUTBOX, alerts_send_pending
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from api.services import api_token_create
from commitments.choices import TERMINAL
from tests.support.smtp_server import SMTPServer, free_port, smtp_server_fixture  # noqa: F401
from tests.support.worker_harness import (
    PROJECT_DIR,
    CeleryHarness,
    CeleryProcess,
    assert_each_alert_once,
    wait_for,
    wait_until_all_sent,
)

pytestmark = pytest.mark.faults

SCAN = "alerts.scan_deadlines"
SEND = "alerts.send_alerts"
#: How long the broker stays down in the Redis test: the minute the issue names.
OUTAGE_SECONDS = 60


def unavailable(reason: str) -> None:
    """Skip on a developer's machine that lacks a part; fail under CI, where nothing may skip."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


# ----------------------------------------------------------------- private PostgreSQL cluster


def postgres_bindir() -> Path | None:
    """Return the directory of PostgreSQL's server programs (initdb, pg_ctl), or None."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        candidates.append(Path(result.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    # Debian keeps them out of PATH, one directory per major version: newest first.
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


class PrivateCluster:
    """A throw-away PostgreSQL cluster of this test run, to restart at will.

    It lives in a new directory under the system's temporary directory, listens on a free
    loopback port and its own socket directory, and trusts local connections. As root it runs
    as the ``postgres`` user (``initdb`` refuses root). ``fsync`` is off: the cluster is
    deleted at the end, and a fast restart still writes every committed change out.
    """

    def __init__(self, *, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ct-faults-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "server.log"
        self.port = free_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str) -> str:
        """Return a ``DATABASE_URL`` for ``database`` in this cluster."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """Open a connection to ``database`` as the superuser."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=autocommit,
            connect_timeout=10,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def create(self) -> None:
        """Initialise the cluster and start it."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-locale", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("start", "-o", options)

    def restart(self) -> None:
        """Restart the server, disconnecting every client and aborting their transactions."""
        self._pg_ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        """Stop the server (if it runs) and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str, *, template: str = "template1") -> None:
        with self.connect("postgres") as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )

    def _pg_ctl(self, action: str, *args: str) -> None:
        # -l: the server's output goes to the log file, not to this process's pipes.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "90",
                  *args, action)

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [*self.run_as, str(self.bindir / program), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(
                f"{program} {' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}\nserver log:\n{self.log()}"
            )


def manage(*args: str, database_url: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` on ``database_url`` in a subprocess; fail the test if it fails."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DATABASE_URL": database_url,
        "TRACKER_VAR_DIR": str(log_dir),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


#: Watchers of the scan test, each watching four agreements with a 7-day lead.
SCAN_WATCHERS = 6
SCAN_LEAD_DAYS = 7
SCAN_ROWS = 100_000

# Built with INSERT ... SELECT generate_series (as bench/scan.py does): 100 000 commitments in
# 200 agreements over four time zones, due from two years back to two years ahead, every
# twentieth without a deadline, a tenth fulfilled, none flagged yet. A first scan moves about
# 85 000 of them, which takes seconds.
_FILL: tuple[LiteralString, ...] = (
    "INSERT INTO commitments_party (key, name, name_fr, kind, country_code, created, updated)"
    " SELECT 'p-' || g, 'Party ' || g, '', 'state', '', now(), now()"
    " FROM generate_series(1, 20) g",
    "INSERT INTO commitments_agreement (key, title, kind, date, place, time_zone, summary,"
    " created, updated)"
    " SELECT 'a-' || g, 'Agreement ' || g, 'framework', CURRENT_DATE - 800, '',"
    " (ARRAY['Asia/Tokyo', 'Europe/Paris', 'America/New_York', 'UTC'])[1 + g %% 4], '',"
    " now(), now() FROM generate_series(1, 200) g",
    "INSERT INTO commitments_commitment (agreement_id, key, title, description, obligor_id,"
    " category, target_unit, deadline_kind, deadline_date, offset_unit, anchor_kind,"
    " period_unit, deadline_phrase, due_date, due_at, status, deadline_state, created, updated)"
    " SELECT a.id, 'c-' || g.n, 'Commitment ' || g.n, '', p.id, 'meeting', '',"
    " CASE WHEN g.n %% 20 = 0 THEN 'none' ELSE 'fixed' END,"
    " CASE WHEN g.n %% 20 = 0 THEN NULL ELSE g.due END, '', '', '', '',"
    " CASE WHEN g.n %% 20 = 0 THEN NULL ELSE g.due END,"
    " CASE WHEN g.n %% 20 = 0 THEN NULL"
    " ELSE ((g.due + 1)::timestamp AT TIME ZONE a.time_zone) - interval '1 microsecond' END,"
    " CASE WHEN g.n %% 10 = 3 THEN 'fulfilled' ELSE 'not_started' END, 'none', now(), now()"
    " FROM (SELECT n, CURRENT_DATE + ((n::bigint * 7919) %% 1461 - 730)::int AS due,"
    " 1 + n %% 200 AS agreement_no, 1 + n %% 20 AS party_no"
    " FROM generate_series(1, %(rows)s) n) g"
    " JOIN commitments_agreement a ON a.key = 'a-' || g.agreement_no"
    " JOIN commitments_party p ON p.key = 'p-' || g.party_no",
    "INSERT INTO auth_user (username, email, password, first_name, last_name, is_superuser,"
    " is_staff, is_active, date_joined)"
    " SELECT 'watcher' || g, 'watcher' || g || '@example.org', '!', '', '', false, false, true,"
    " now() FROM generate_series(1, %(watchers)s) g",
    # Each watcher watches four of twelve agreements, each agreement has two watchers.
    "INSERT INTO alerts_subscription (user_id, scope, agreement_id, mode, created)"
    " SELECT u.id, 'agreement', a.id, 'immediate', now() FROM generate_series(1, %(watchers)s) g"
    " CROSS JOIN generate_series(0, 3) k JOIN auth_user u ON u.username = 'watcher' || g"
    " JOIN commitments_agreement a ON a.key = 'a-' || (1 + (g + k) %% 12)",
    "INSERT INTO alerts_subscriptionlead (subscription_id, days)"
    " SELECT id, %(lead)s FROM alerts_subscription",
)


@pytest.fixture(scope="module")
def scan_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateCluster]:
    """Start a private cluster holding a migrated, filled template database ``scan_template``."""
    bindir = postgres_bindir()
    if bindir is None:
        unavailable(
            "the PostgreSQL fault test starts a private cluster and needs PostgreSQL's server "
            "programs (initdb, pg_ctl; Debian: apt-get install postgresql)"
        )
    assert bindir is not None
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        unavailable("as root, the private cluster runs as the 'postgres' user, through runuser")
    cluster = PrivateCluster(bindir=bindir)
    try:
        cluster.create()
        cluster.create_database("scan_template")
        manage(
            "migrate",
            "--verbosity=0",
            database_url=cluster.url("scan_template"),
            log_dir=tmp_path_factory.mktemp("migrate"),
        )
        with cluster.connect("scan_template") as fill:
            values = {"rows": SCAN_ROWS, "watchers": SCAN_WATCHERS, "lead": SCAN_LEAD_DAYS}
            for statement in _FILL:
                fill.execute(statement, values)
            fill.execute("VACUUM ANALYZE")
        yield cluster
    finally:
        cluster.destroy()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# ----------------------------------------------------------------- private Redis


class PrivateRedis:
    """A ``redis-server`` subprocess of this test, without persistence: stopping it loses
    every queued message, as a crashed broker would."""

    def __init__(self, *, executable: str, directory: Path) -> None:
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def answers(self) -> bool:
        try:
            return bool(
                redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1).ping()
            )
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Start the server on its port (the same one after ``stop``); wait until it answers."""
        with (self.directory / "redis.log").open("ab") as log:
            self.popen = subprocess.Popen(
                [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        popen = self.popen
        wait_for(
            lambda: (popen.poll() is None and self.answers()) or self._exited(popen),
            timeout=30,
            what=f"redis-server to answer on port {self.port}",
        )

    def stop(self) -> None:
        """Stop the server and wait until it is gone."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self.popen = None

    def _exited(self, popen: subprocess.Popen[bytes]) -> bool:
        if popen.poll() is not None:
            log = (self.directory / "redis.log").read_text(errors="replace")
            raise RuntimeError(f"redis-server exited with {popen.returncode}:\n{log}")
        return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """Run a private Redis server for the test; stop it at teardown."""
    executable = shutil.which("redis-server")
    if executable is None:
        unavailable(
            "the fault tests start a private broker and need redis-server "
            "(Debian: apt-get install redis-server)"
        )
    assert executable is not None
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(executable=executable, directory=directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------- 1. PostgreSQL restarted


@dataclass(frozen=True)
class BlockedScan:
    """The scan's database session, waiting on a lock this test holds."""

    pid: int
    has_written: bool
    query: str


def blocked_scan(cluster: PrivateCluster, database: str) -> BlockedScan | None:
    """Return the session of ``database`` waiting on a lock, if there is one."""
    with cluster.connect("postgres") as monitor:
        row = monitor.execute(
            "SELECT pid, backend_xid IS NOT NULL, query FROM pg_stat_activity"
            " WHERE datname = %s AND wait_event_type = 'Lock'",
            [database],
        ).fetchone()
    return BlockedScan(pid=row[0], has_written=row[1], query=row[2]) if row else None


def hold_the_scan(stage: str, blocker: psycopg.Connection[Any]) -> str:
    """Take, in ``blocker``'s open transaction, a lock the scan will wait for at ``stage``.

    ``flags``: a commitment the scan moves to on-track, the last of its flag updates, so the
    scan stops with the overdue and due-soon flags written. ``outbox``: an uncommitted alert
    row with the key of one the scan writes, so the scan stops inside its outbox insert, with
    every flag written. Return the start of the SQL statement expected to wait.
    """
    terminal = sorted(TERMINAL)
    if stage == "flags":
        row = blocker.execute(
            "SELECT id FROM commitments_commitment WHERE due_at > now() + interval '90 days'"
            " AND status <> ALL(%s) ORDER BY due_at DESC LIMIT 1 FOR UPDATE",
            [terminal],
        ).fetchone()
        assert row, "no commitment for the scan to flag on track"
        return 'UPDATE "commitments_commitment"'
    row = blocker.execute(
        "SELECT s.user_id, u.email, c.id, c.due_date FROM alerts_subscription s"
        " JOIN auth_user u ON u.id = s.user_id"
        " JOIN commitments_commitment c ON c.agreement_id = s.agreement_id"
        " WHERE c.status <> ALL(%s)"
        " AND c.due_at BETWEEN now() + interval '1 day' AND now() + interval '6 days'"
        " ORDER BY c.id LIMIT 1",
        [terminal],
    ).fetchone()
    assert row, "no commitment for the scan to raise an alert about"
    blocker.execute(
        "INSERT INTO alerts_alert (user_id, email, commitment_id, due_date, threshold, digest,"
        " state, attempts, last_error, created) VALUES (%s, %s, %s, %s, %s, false, 'pending',"
        " 0, '', now())",
        [*row, SCAN_LEAD_DAYS],
    )
    return 'INSERT INTO "alerts_alert"'


def scan_outcome(cluster: PrivateCluster, database: str) -> dict[str, Any]:
    """Read back what the scan left: its runs, each commitment's flag, the alert rows.

    The expected state and alerts are computed here in SQL from the rules (not by the scan's
    code): ``none`` for closed rows or rows with no due instant, ``overdue`` before
    ``now``, ``due_soon`` within TRACKER_DUE_SOON_DAYS, else ``on_track``; one 7-day alert
    per watcher of the agreement and open commitment due within seven days of ``now``.
    """
    with cluster.connect(database) as db:
        runs = db.execute("SELECT now, changed, alerts, escalations FROM alerts_scanrun").fetchall()
        outcome: dict[str, Any] = {"runs": runs}
        if len(runs) != 1:
            return outcome
        now = runs[0][0]
        params = {
            "now": now,
            "soon": now + dt.timedelta(days=settings.TRACKER_DUE_SOON_DAYS),
            "lead_edge": now + dt.timedelta(days=SCAN_LEAD_DAYS),
            "terminal": sorted(TERMINAL),
            "lead": SCAN_LEAD_DAYS,
        }
        outcome["flags"] = db.execute(
            "WITH expected AS (SELECT deadline_state, flagged_at,"
            " CASE WHEN status = ANY(%(terminal)s) OR due_at IS NULL THEN 'none'"
            " WHEN due_at < %(now)s THEN 'overdue' WHEN due_at <= %(soon)s THEN 'due_soon'"
            " ELSE 'on_track' END AS should FROM commitments_commitment)"
            " SELECT count(*) FILTER (WHERE deadline_state <> should),"
            " count(*) FILTER (WHERE should <> 'none' AND flagged_at IS DISTINCT FROM %(now)s),"
            " count(*) FILTER (WHERE should = 'none' AND flagged_at IS NOT NULL),"
            " count(*) FILTER (WHERE should <> 'none') FROM expected",
            params,
        ).fetchone()
        outcome["expected_alerts"] = Counter(
            db.execute(
                "SELECT s.user_id, c.id, c.due_date, l.days FROM alerts_subscription s"
                " JOIN alerts_subscriptionlead l ON l.subscription_id = s.id"
                " JOIN commitments_commitment c ON c.agreement_id = s.agreement_id"
                " WHERE s.scope = 'agreement' AND l.days = %(lead)s"
                " AND c.status <> ALL(%(terminal)s) AND c.due_at >= %(now)s"
                " AND c.due_at <= %(lead_edge)s",
                params,
            ).fetchall()
        )
        outcome["alerts"] = db.execute(
            "SELECT a.id, a.user_id, a.commitment_id, a.due_date, a.threshold, a.created,"
            " a.state, u.email FROM alerts_alert a JOIN auth_user u ON u.id = a.user_id"
        ).fetchall()
    return outcome


def alert_states(cluster: PrivateCluster, database: str) -> Counter[str]:
    with cluster.connect(database) as db:
        return Counter(dict(db.execute("SELECT state, count(*) FROM alerts_alert GROUP BY state")))


@pytest.mark.celery_worker
def test_postgresql_restarted_mid_scan_retries_the_scan_and_leaves_nothing_half_written(
    scan_cluster, private_redis, smtp_server, tmp_path
):
    """Fast restarts of PostgreSQL abort a worker's scan halfway, twice; a retry does it all.

    The test holds a lock the scan must wait for at its flag updates, waits until the scan's
    session is blocked there with rows already written, and restarts the server: the task
    fails with OperationalError and Celery retries it. The retry is stopped the same way
    inside its outbox insert, every flag written, and the server restarted again. Then:
    exactly one scan run; every commitment's flag is right for that run's instant and carries
    that instant (a flag of an aborted attempt would carry an earlier one); the alert rows are
    exactly the expected ones, once each, raised at that instant; and each is mailed once.
    """
    database = "scan_restarted"
    scan_cluster.create_database(database, template="scan_template")
    harness = CeleryHarness(
        broker_url=private_redis.url(),
        email_url=smtp_server.url,
        log_dir=tmp_path,
        env={"DATABASE_URL": scan_cluster.url(database)},
    )
    try:
        (worker,) = harness.start_workers("w1")
        task_id = ""
        for stage in ("flags", "outbox"):
            # The retry comes seconds after the restart, and spends seconds on its flags
            # before its outbox insert: the second lock is in place long before it is needed.
            blocker = scan_cluster.connect(database, autocommit=False)
            try:
                waiting_statement = hold_the_scan(stage, blocker)
                task_id = task_id or harness.send(SCAN)
                blocked = wait_for(
                    lambda: blocked_scan(scan_cluster, database),
                    timeout=120,
                    what=lambda: f"the scan to wait on the test's lock\n{harness.logs()}",
                )
                assert blocked is not None
                assert blocked.query.startswith(waiting_statement), blocked.query
                assert blocked.has_written, "the scan was stopped before it wrote anything"
                scan_cluster.restart()
            finally:
                blocker.close()

        succeeded = f"Task {SCAN}[{task_id}] succeeded"
        wait_for(
            lambda: succeeded in worker.log(),
            timeout=180,
            what=lambda: f"the retried scan to succeed\n{harness.logs()}",
        )
        wait_for(
            lambda: set(alert_states(scan_cluster, database)) == {AlertState.SENT},
            timeout=120,
            what=lambda: f"the alerts to be sent\n{harness.logs()}",
        )
        harness.stop(worker)
    finally:
        harness.close()

    log = worker.log()
    retries = re.findall(rf"Task {re.escape(SCAN)}\[{task_id}\] retry: .*", log)
    assert len(retries) >= 2, f"the scan was not retried after each restart\n{log}"
    assert all("OperationalError" in retry for retry in retries), retries
    assert worker.received(SCAN) == [task_id] * (1 + len(retries)), log
    assert log.count(succeeded) == 1, log

    outcome = scan_outcome(scan_cluster, database)
    assert len(outcome["runs"]) == 1, f"scan runs: {outcome['runs']}"
    ((now, changed, alerts_written, escalations),) = outcome["runs"]
    wrong_state, wrong_time, flagged_needlessly, should_change = outcome["flags"]
    assert (wrong_state, wrong_time, flagged_needlessly) == (0, 0, 0), outcome["flags"]
    assert changed == should_change > SCAN_ROWS // 2
    alerts = outcome["alerts"]
    written = Counter((user, commitment, due, threshold)
                      for _pk, user, commitment, due, threshold, *_ in alerts)
    assert written == outcome["expected_alerts"], (
        f"missing: {sorted(outcome['expected_alerts'] - written)}; "
        f"extra or twice: {sorted(written - outcome['expected_alerts'])}"
    )
    assert (alerts_written, escalations) == (len(alerts), 0)
    assert len(alerts) >= 20, "too few alerts to tell anything"
    assert {row[5] for row in alerts} == {now}, "an alert of the aborted attempt survived"
    preview = manage(
        "scan_deadlines", "--dry-run", f"--now={now.isoformat()}",
        database_url=scan_cluster.url(database), log_dir=tmp_path,
    ).stdout
    assert ": 0 commitment(s) flagged" in preview and "; 0 alert(s)" in preview, preview

    message_ids = {
        Alert(pk=pk, commitment_id=commitment, due_date=due, threshold=threshold).message_id:
        address
        for pk, _user, commitment, due, threshold, _created, _state, address in alerts
    }
    expected = Counter(message_ids.keys())
    received = Counter(message.message_id for message in smtp_server.messages)
    assert received == expected, (
        f"lost: {sorted(expected - received)}; extra: {sorted(received - expected)}"
    )
    for message in smtp_server.messages:
        assert message.rcpt_tos == (message_ids[message.message_id],)


# ----------------------------------------------------------------- 2. Redis down for a minute


@dataclass(frozen=True)
class Answer:
    """One web request and its answer (status 0: no HTTP answer at all)."""

    method: str
    path: str
    status: int
    body: str


class WebClient:
    """Send requests to a web server as an API client (token) or a dashboard user (session)."""

    def __init__(self, *, base_url: str, token: str, session_cookie: str) -> None:
        self.base_url = base_url
        self.token = token
        self.session_cookie = session_cookie
        self.answers: list[Answer] = []

    def api(self, method: str, path: str, data: dict[str, Any] | None = None) -> Answer:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        return self._send(method, path, headers, body)

    def page(self, path: str) -> Answer:
        cookie = f"{settings.SESSION_COOKIE_NAME}={self.session_cookie}"
        return self._send("GET", path, {"Cookie": cookie}, None)

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Answer:
        request = urllib.request.Request(  # noqa: S310 (a loopback http:// URL of the test)
            self.base_url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                answer = Answer(method, path, response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            answer = Answer(method, path, error.code, error.read().decode(errors="replace"))
        except OSError as error:  # refused, reset, timed out: no HTTP answer at all
            answer = Answer(method, path, 0, repr(error))
        self.answers.append(answer)
        return answer


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[Any]:
    """Return a function starting ``scripts/web.sh`` (gunicorn) with an environment; stop it at
    teardown."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> str:
        port = free_port()
        log_path = tmp_path / "gunicorn.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                # The web process as deployed: gunicorn with two workers, through its script.
                [str(PROJECT_DIR / "scripts" / "web.sh"), f"127.0.0.1:{port}"],
                cwd=PROJECT_DIR,
                env={**env, "WEB_WORKERS": "2"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(popen)
        base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if popen.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log_path.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(f"{base_url}/healthz", timeout=10)  # noqa: S310
            except urllib.error.HTTPError:
                return True  # it answered, if only with a 503
            except OSError:
                return False
            return True

        wait_for(answers, timeout=60, what=lambda: log_path.read_text(errors="replace"))
        return base_url

    try:
        yield start
    finally:
        for popen in processes:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
                try:
                    popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(popen.pid, signal.SIGKILL)
                    popen.wait(timeout=10)


def fixed_in(days: int) -> dict[str, Any]:
    """Return the input fields of a deadline on the day ``days`` from today in Tokyo."""
    today = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date()
    return {
        "deadline_kind": "fixed",
        "deadline_date": today + dt.timedelta(days=days),
        "offset_amount": None,
        "offset_unit": "",
        "anchor_kind": "",
    }


def lost_connection(process: CeleryProcess) -> bool:
    """Return whether the worker has logged that its broker connection is gone."""
    return "Connection to broker lost" in process.log()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_redis_down_for_a_minute_web_keeps_serving_and_alerts_go_once_after(
    private_redis, web_server, smtp_server, make_commitment, editor, django_user_model, tmp_path
):
    """gunicorn, a worker and beat run on a private Redis, which is stopped for a minute.

    Meanwhile API status and deadline changes that raise alerts, API reads and dashboard pages
    all answer 2xx, ``/healthz`` answers 503 naming the broker, and no mail goes out. Redis
    comes back empty (no persistence: every queued message is gone); beat's next send and the
    reconnected worker then mail every alert raised during the outage, each exactly once.
    """
    if connection.vendor != "postgresql":
        unavailable(
            "the Redis fault test shares its database with gunicorn and Celery processes: set "
            f"DATABASE_URL to a PostgreSQL database (the database is {connection.vendor})"
        )
    watchers = 3
    baseline = make_commitment(**fixed_in(5))
    soon = [make_commitment(**fixed_in(5)) for _ in range(3)]
    later = [make_commitment(**fixed_in(60)) for _ in range(3)]
    # A watermark before anyone watches: beat's periodic scans then raise nothing on their
    # own, and only the changes below raise alerts.
    scan(now=timezone.now())
    for n in range(watchers):
        user = django_user_model.objects.create_user(
            username=f"watcher{n}", email=f"watcher{n}@example.org"
        )
        subscription_create(
            user=user, scope=SubscriptionScope.ALL, lead_days=[7], notify_overdue=False
        )
    every_two_seconds = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="fault-send", task=SEND, interval=every_two_seconds)
    _token, key = api_token_create(user=editor, name="faults", now=timezone.now())
    browser = Client()
    browser.force_login(editor)
    session_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value

    harness = CeleryHarness(
        broker_url=private_redis.url(), email_url=smtp_server.url, log_dir=tmp_path
    )
    try:
        web = WebClient(
            base_url=web_server({**harness.env, "DJANGO_DEBUG": "false"}),
            token=key,
            session_cookie=session_cookie,
        )
        (worker,) = harness.start_workers("w1")
        (beat,) = harness.start_beats("beat")

        # Before: a status change's alerts go out through beat, Redis and the worker.
        started = web.api("POST", f"/api/v1/commitments/{baseline.pk}/status/",
                          {"status": "in_progress"})
        assert started.status == 201, started
        wait_until_all_sent(expected=watchers, harness=harness)
        mails_before = len(smtp_server.messages)
        last_alert_before = Alert.objects.order_by("-pk").values_list("pk", flat=True).first()

        private_redis.stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        wait_for(lambda: lost_connection(worker), timeout=30,
                 what=lambda: f"the worker to notice the broker is gone\n{worker.log()}")
        web.answers.clear()
        health = []
        changes: list[tuple[str, str, dict[str, Any]]] = [
            *[("POST", f"/api/v1/commitments/{c.pk}/status/", {"status": "in_progress"})
              for c in soon],
            *[("PATCH", f"/api/v1/commitments/{c.pk}/",
               {"deadline_rule": {"kind": "fixed", "date": f"{fixed_in(3)['deadline_date']}"}})
              for c in later],
        ]
        reads = [
            ("api", "/api/v1/commitments/?page_size=50"),
            ("api", f"/api/v1/commitments/{soon[0].pk}/"),
            ("page", "/"),
            ("page", "/commitments/"),
            ("page", f"/commitments/{later[0].pk}/"),
        ]
        while time.monotonic() < outage_ends:
            if changes:
                web.api(*changes.pop(0))
            for kind, path in reads:
                if kind == "api":
                    web.api("GET", path)
                else:
                    web.page(path)
            health.append(web.api("GET", "/healthz"))
            time.sleep(0.5)  # pace the requests: the outage lasts a minute whatever we send
        raised = Alert.objects.filter(pk__gt=last_alert_before or 0)
        raised_states = Counter(raised.values_list("state", flat=True))
        mails_during = len(smtp_server.messages) - mails_before
        processes_alive = worker.alive() and beat.alive()

        private_redis.start()
        wait_until_all_sent(expected=watchers * 7, harness=harness, timeout=240)
        harness.stop(beat, worker)
        health_after = web.api("GET", "/healthz")
    finally:
        harness.close()

    answered = [a for a in web.answers if a.path != "/healthz"]
    failed = [a for a in answered if not 200 <= a.status < 300]
    assert not failed, f"{len(failed)} of {len(answered)} requests failed: {failed[:5]}"
    assert {a.method for a in answered} == {"GET", "POST", "PATCH"}
    assert {a.status for a in health} == {503}, [a.body for a in health[:3]]
    assert all(json.loads(a.body)["broker"] != "ok" for a in health)
    assert health_after.status == 200, health_after
    assert not changes, f"changes left undone during the outage: {changes}"
    assert raised_states == {AlertState.PENDING: watchers * 6}, raised_states
    assert mails_during == 0, "a mail went out while the broker was down"
    assert processes_alive, harness.logs()
    assert_each_alert_once(smtp_server)


# ----------------------------------------------------------------- 3. SMTP fails every other


@dataclass(frozen=True)
class Offer:
    """One message the SMTP server was given, and its answer."""

    message_id: str
    rcpt_tos: tuple[str, ...]
    code: int


class EveryOtherRefused:
    """aiosmtpd handler: answer 451 to the first, third, fifth... message, accept the others."""

    REFUSAL = "451 4.3.0 Temporary failure, try again later"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offers: list[Offer] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        with self.lock:
            refuse = len(self.offers) % 2 == 0
            self.offers.append(
                Offer(
                    message_id=str(message["Message-ID"]),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    code=451 if refuse else 250,
                )
            )
        return self.REFUSAL if refuse else "250 Message accepted for delivery"

    def snapshot(self) -> list[Offer]:
        with self.lock:
            return list(self.offers)


@pytest.fixture
def flaky_smtp(settings: Any) -> Iterator[EveryOtherRefused]:
    """Run the every-other-refusing SMTP server; point Django's SMTP backend at it."""
    handler = EveryOtherRefused()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield handler
    finally:
        controller.stop()


@pytest.mark.django_db
def test_smtp_failing_every_other_message_delivers_each_alert_exactly_once(
    flaky_smtp, make_commitment, django_user_model
):
    """The sender meets a 451 on every other mail; with backoff, each alert arrives once.

    The sender runs as the periodic task would, each time at the earliest instant a deferred
    alert is due again (time is passed in, so no test waits out the real backoff). Every run
    offers exactly the alerts that are due and no other; a refused alert's next attempt is
    one backoff step later; in the end every alert is sent, its Message-ID accepted once, and
    its attempts equal the times the server saw it.
    """
    due = [make_commitment(**fixed_in(5)) for _ in range(4)]
    for n in range(6):
        user = django_user_model.objects.create_user(
            username=f"watcher{n}", email=f"watcher{n}@example.org"
        )
        subscription_create(
            user=user, scope=SubscriptionScope.ALL, lead_days=[7], notify_overdue=False
        )
    now = timezone.now()
    assert scan(now=now, commitment_ids=[c.pk for c in due]).alerts == 24

    for _run in range(12):
        pending = list(Alert.objects.filter(state=AlertState.PENDING))
        if not pending:
            break
        now = max(now, min(a.next_attempt_at or now for a in pending))
        eligible = {a.message_id: a for a in pending if (a.next_attempt_at or now) <= now}
        seen = len(flaky_smtp.snapshot())
        report = alerts_send_pending(now=now)
        offered = flaky_smtp.snapshot()[seen:]
        assert sorted(o.message_id for o in offered) == sorted(eligible), "offered early or not"
        refused = {o.message_id for o in offered if o.code == 451}
        assert (report.sent, report.deferred, report.failed) == (
            len(offered) - len(refused), len(refused), 0
        )
        for message_id in refused:
            alert = Alert.objects.get(pk=eligible[message_id].pk)
            assert alert.state == AlertState.PENDING
            assert alert.next_attempt_at == now + ALERT_OUTBOX.retry_delay(attempts=alert.attempts)
            assert alert.last_error.startswith("SMTP 451")
    else:
        pytest.fail("alerts still pending after 12 runs")

    alerts = list(Alert.objects.select_related("user"))
    offers = flaky_smtp.snapshot()
    assert Counter(a.state for a in alerts) == {AlertState.SENT: 24}
    accepted = Counter(o.message_id for o in offers if o.code == 250)
    assert accepted == Counter(a.message_id for a in alerts), "lost or sent twice"
    tries = Counter(o.message_id for o in offers)
    assert {a.message_id: a.attempts for a in alerts} == dict(tries)
    assert [o.code for o in offers] == [451, 250] * (len(offers) // 2), "not every other"
    assert len(offers) > 24, "no mail was refused"
    for offer in offers:
        (alert,) = [a for a in alerts if a.message_id == offer.message_id]
        assert offer.rcpt_tos == (alert.email,)
