"""Load the whole tracker, web and worker, with a mix of API reads, writes and dashboard pages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_load \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/load.py

It needs ``wrk`` (``apt-get install -y wrk``), PostgreSQL and Redis, all on loopback.
``DATABASE_URL`` names the PostgreSQL server: the benchmark creates its own database
``ct_bench_load`` there, or ``--database`` (dropped first if it exists, and at the end unless
``--keep-db``).
WARNING: it empties the Redis database of ``CELERY_BROKER_URL`` (queues of earlier runs).

1. Data: ``--rows`` commitments from ``bench/scan.py``'s generator (agreements in eight time
   zones, 20 parties, 300 users watching by every scope, a quarter of the rows owned), plus
   one citation each, a source for evidence, a viewer and an editor with API tokens.
2. The scan alone: a first scan flags every row (untimed); its alerts and its record are then
   deleted, so the next scan is again a first scan (no watermark: it writes the whole outbox).
   That first scan is timed once here, in this process with nothing else running, then its
   work is deleted again for the worker to redo under load.
3. Baseline: ``bench/api.py``'s raw psycopg page (100 overdue commitments with their nested
   rows; checked equal to the API's page first) under gunicorn with 2 workers, loaded by
   ``wrk`` alone for ``--baseline-duration`` seconds.
4. The load: ``scripts/web.sh`` (gunicorn, 2 workers), ``scripts/worker.sh`` (one Celery
   worker) and ``scripts/beat.sh``, the processes ``make run`` and Docker start, on the
   benchmark database, Redis and an SMTP sink in this process. The viewer logs in through the
   login form once; ``wrk`` then drives the mix in :data:`MIX` at ``--concurrency``
   connections for ``--duration`` seconds (after a 2-second warm-up). At the window's start
   ``alerts.scan_deadlines`` is enqueued, and again each time a scan finishes, so the first
   full scan and then scan after scan run while the requests do (on the worker's processes,
   beside the mail batches each scan enqueues). Where the server runs without
   autovacuum, each finished scan is followed by ``ANALYZE alerts_alert``, which autovacuum
   would do within a minute (``--no-analyze`` leaves it out, to see the sender plan its claims
   for the empty outbox of before the first scan).

It prints requests/s, p50/p95/p99 for the whole mix (``wrk``'s latency distribution) and for
each kind of request (timed in the Lua script: one connection per ``wrk`` thread, so every
response answers the request just before it), the scans completed in the window with their
durations, then ratios: the API list page in the mix against the baseline page alone, the
mix's throughput against the baseline's, the first scan under load against the same scan
alone. The last line is one JSON object with every figure. Errors are socket errors,
timeouts (``REQUEST_TIMEOUT``), any status other than the one a request expects (a
redirect to the login page included), and ERROR lines in the web, worker and beat logs; a
scan the task retried (a database error) is shown with its reason. The exit status is 1 if
there is any error, or if the window's first scan does not finish within
``FIRST_SCAN_TIMEOUT``.

Throttling is lifted through ``API_THROTTLE_RATE_TOKEN`` (the run measures the endpoints, not
the 429s); Django keeps its connections with ``?conn_max_age=`` (``--conn-max-age``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# ROOT before bench/: the Django app ``api`` must win over bench/api.py, named ``bench.api`` here.
sys.path.insert(0, str(ROOT))

BENCH_DB = "ct_bench_load"
UNTHROTTLED = "1000000000/minute"
#: wrk gives up on a request after this long; gunicorn kills a worker stuck for as long.
REQUEST_TIMEOUT = 30
WARM_UP = 2
#: How long the first scan of the window may take, load or not, before the run fails.
FIRST_SCAN_TIMEOUT = 600
#: The page bench/api.py's baseline answers: 100 overdue commitments by due date.
LIST_QUERY = "page_size=100&deadline_state=overdue&ordering=due_date"
#: Request kinds and their weights (per hundred requests).
MIX = {
    "api_list": 20,  # GET the list page of the baseline (viewer token)
    "api_filter": 10,  # GET other filters, a random page (viewer token)
    "api_detail": 20,  # GET one random commitment (viewer token)
    "api_patch": 8,  # PATCH a random commitment's description (editor token)
    "api_status": 7,  # POST a status change; one in four fulfilled, with evidence (editor token)
    "dash_overview": 5,  # GET / (viewer's session)
    "dash_list": 10,  # GET /commitments/?deadline_state=overdue, a random page
    "dash_detail": 20,  # GET /commitments/<random id>/
}
EXPECTED = {"api_patch": 200, "api_status": 201}  # every other kind: 200

WRK_SCRIPT = r"""
-- The request mix of bench/load.py. One connection per wrk thread: each response() answers
-- the request() made just before it in the same thread, which gives every request its kind,
-- status and latency.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock_id, load_timespec *tp);
]]
local clock = ffi.new("load_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_no", #threads)
end

local cumulative, total, expected, build = {}, 0, {}, {}

-- args: mix (name:weight:status,...), first id, last id, viewer token, editor token,
-- session cookie, evidence source id, the API filter's query and its pages, the dashboard
-- list's pages
function init(args)
  kinds = {}
  for name, weight, status in string.gmatch(args[1], "([%w_]+):(%d+):(%d+)") do
    total = total + tonumber(weight)
    kinds[#kinds + 1] = name
    cumulative[#kinds] = total
    expected[#kinds] = tonumber(status)
  end
  first_id, last_id = tonumber(args[2]), tonumber(args[3])
  local viewer = {["Authorization"] = "Token " .. args[4]}
  local editor = {["Authorization"] = "Token " .. args[5], ["Content-Type"] = "application/json"}
  local browser = {["Cookie"] = args[6]}
  local source, filter_query = args[7], args[8]
  local filter_pages, list_pages = tonumber(args[9]), tonumber(args[10])
  math.randomseed(thread_no * 7919 + os.time())
  sample_kind, sample_status, sample_us, error_bodies = {}, {}, {}, {}
  answered, writes, sent_kind, sent_at = 0, 0, 1, 0

  build.api_list = function(id)
    return wrk.format("GET", "/api/v1/commitments/?LIST_QUERY", viewer)
  end
  build.api_filter = function(id)
    return wrk.format("GET", "/api/v1/commitments/?" .. filter_query .. "&page="
      .. math.random(1, filter_pages), viewer)
  end
  build.api_detail = function(id)
    return wrk.format("GET", "/api/v1/commitments/" .. id .. "/", viewer)
  end
  build.api_patch = function(id)
    writes = writes + 1
    return wrk.format("PATCH", "/api/v1/commitments/" .. id .. "/", editor, string.format(
      '{"description": "Edited under load: write %d of connection %d."}', writes, thread_no))
  end
  build.api_status = function(id)
    writes = writes + 1
    local body
    if writes % 4 == 0 then
      body = string.format('{"status": "fulfilled", "note": "Load test %d.%d", "evidence": '
        .. '{"source": %s, "quote": "Delivered in full (load test).", "locator": "p. 2"}}',
        thread_no, writes, source)
    else
      body = string.format('{"status": "in_progress", "note": "Load test %d.%d"}',
        thread_no, writes)
    end
    return wrk.format("POST", "/api/v1/commitments/" .. id .. "/status/", editor, body)
  end
  build.dash_overview = function(id) return wrk.format("GET", "/", browser) end
  build.dash_list = function(id)
    local page = math.random(1, list_pages)
    return wrk.format("GET", "/commitments/?deadline_state=overdue&page=" .. page, browser)
  end
  build.dash_detail = function(id)
    return wrk.format("GET", "/commitments/" .. id .. "/", browser)
  end
end

function request()
  local r, kind = math.random() * total, 1
  while r >= cumulative[kind] do kind = kind + 1 end
  sent_kind, sent_at = kind, now_us()
  return build[kinds[kind]](math.random(first_id, last_id))
end

function response(status, headers, body)
  answered = answered + 1
  sample_kind[answered] = sent_kind
  sample_status[answered] = status
  sample_us[answered] = now_us() - sent_at
  if status ~= expected[sent_kind] and #error_bodies < 5 then
    error_bodies[#error_bodies + 1] = kinds[sent_kind] .. " " .. status .. " "
      .. string.sub(body or "", 1, 300):gsub("%s+", " ")
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_LOAD_SAMPLES"), "w"))
  for _, thread in ipairs(threads) do
    local names, k, s, t = thread:get("kinds"), thread:get("sample_kind"),
      thread:get("sample_status"), thread:get("sample_us")
    for i = 1, thread:get("answered") do
      out:write(names[k[i]], " ", s[i], " ", t[i], "\n")
    end
    for _, e in ipairs(thread:get("error_bodies")) do out:write("ERROR ", e, "\n") end
  end
  out:close()
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, '
    .. '"p95_us": %d, "p99_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"timeout": %d, "status_over_399": %d}\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
""".replace("LIST_QUERY", LIST_QUERY)


@dataclass
class Setup:
    """What the run needs from the data: id range, tokens, the login and the scan alone."""

    first_id: int
    last_id: int
    overdue: int
    source_id: int
    viewer: str
    password: str
    viewer_key: str
    editor_key: str
    scan_alone_s: float
    scan_alone_alerts: int


# ----------------------------------------------------------------------------- database


def _with_database(url: str, name: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", query, ""))


def _libpq(url: str) -> str:
    """Return a psycopg connection string for a ``postgres://`` URL (no Django options)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def _database_recreate(server_url: str, name: str, *, create: bool) -> None:
    with psycopg.connect(_libpq(_with_database(server_url, "postgres")), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            c.execute(f'CREATE DATABASE "{name}"')


def data_setup(rows: int) -> Setup:
    """Build the data, then time a first scan alone and leave the outbox for the worker."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from alerts.services.scan import scan
    from api.services import api_token_create
    from bench.scan import build, execute, vacuum
    from commitments.models import Source
    from core.roles import EDITORS, VIEWERS

    call_command("migrate", verbosity=0)
    build(rows)
    started = time.perf_counter()
    source = Source.objects.create(
        key="bench-load",
        title="Load test source",
        publisher="Bench",
        language="en",
        published_on=dt.date(2024, 1, 1),
        kind="official",
    )
    execute(
        "INSERT INTO commitments_citation (source_id, agreement_id, commitment_id, quote,"
        " translation, translation_language, locator, created, updated)"
        " SELECT %s, NULL, id, 'The parties undertake item ' || id || '.', '', '', 'p. 1',"
        " now(), now() FROM commitments_commitment",
        [source.pk],
    )
    users = get_user_model().objects
    password = secrets.token_urlsafe(18)
    viewer = users.create_user(username="bench-load-viewer", password=password)
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    editor = users.create_user(username="bench-load-editor", password=None)
    editor.groups.add(Group.objects.get(name=EDITORS))
    _token, viewer_key = api_token_create(user=viewer, name="bench-load", now=timezone.now())
    _token, editor_key = api_token_create(user=editor, name="bench-load", now=timezone.now())
    print(f"citations, source and users in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    flagged = scan(now=timezone.now())
    print(f"flagged every row in {time.perf_counter() - started:.1f} s: {flagged.summary()}")
    execute("TRUNCATE alerts_alert, alerts_scanrun")
    vacuum()
    started = time.perf_counter()
    alone = scan(now=timezone.now())
    scan_alone_s = time.perf_counter() - started
    print(f"first scan alone (flags right, whole outbox): {scan_alone_s:.1f} s: {alone.summary()}")
    execute("TRUNCATE alerts_alert, alerts_scanrun")
    vacuum()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id), count(*) FILTER (WHERE deadline_state = 'overdue')"
            " FROM commitments_commitment"
        )
        first_id, last_id, overdue = cursor.fetchone()
    return Setup(
        first_id=first_id,
        last_id=last_id,
        overdue=overdue,
        source_id=source.pk,
        viewer=viewer.username,
        password=password,
        viewer_key=viewer_key,
        editor_key=editor_key,
        scan_alone_s=scan_alone_s,
        scan_alone_alerts=alone.alerts,
    )


def filter_query(today: str) -> str:
    """Return the API query of the ``api_filter`` requests (a page number is added)."""
    return f"status=in_progress&due_after={today}&ordering=due_date"


def full_pages(setup: Setup, today: str) -> tuple[int, int]:
    """Return how many full pages the ``api_filter`` and ``dash_list`` requests can ask for.

    Full pages only: the writes take a few commitments out of these lists while the load runs.
    """
    from django.test import Client

    from dashboard.views import PAGE_SIZE

    client = Client(HTTP_AUTHORIZATION=f"Token {setup.viewer_key}", HTTP_HOST="127.0.0.1")
    answer = client.get(f"/api/v1/commitments/?{filter_query(today)}")
    if answer.status_code != 200:
        raise SystemExit(f"the API answered {answer.status_code}: {answer.content[:300]!r}")
    count, size = answer.json()["count"], len(answer.json()["results"])
    return max(1, count // max(size, 1)), max(1, setup.overdue // PAGE_SIZE)


def same_page_check(setup: Setup, dsn: str) -> None:
    """Refuse to compare unless the baseline answers the API's list page, field for field."""
    from django.test import Client

    from bench.api import baseline_page

    answer = Client(HTTP_AUTHORIZATION=f"Token {setup.viewer_key}", HTTP_HOST="127.0.0.1").get(
        f"/api/v1/commitments/?{LIST_QUERY}"
    )
    if answer.status_code != 200:
        raise SystemExit(f"the API answered {answer.status_code}: {answer.content[:300]!r}")
    ours = json.loads(answer.content)
    with psycopg.connect(dsn, autocommit=True) as conn:
        base = json.loads(
            baseline_page(conn, base="http://127.0.0.1", state="overdue", page_size=100, page=1)
        )

    def link(url: str | None) -> tuple[str, dict[str, list[str]]] | None:
        parts = None if url is None else urlsplit(url)
        return None if parts is None else (parts.path, urllib.parse.parse_qs(parts.query))

    differing = [k for k in ("count", "results") if ours.get(k) != base.get(k)] + [
        k for k in ("next", "previous") if link(ours.get(k)) != link(base.get(k))
    ]
    if differing:
        raise SystemExit(f"the baseline page differs from the API's in {differing}")


# ----------------------------------------------------------------------------- processes


class MailSink:
    """An SMTP server on loopback that accepts and counts every message (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages = 0
        self.port = _free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 Message accepted"

    def __enter__(self) -> MailSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass
class Process:
    """One process this benchmark started, in its own session, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive_or_exit(self) -> None:
        if self.popen.poll() is not None:
            raise SystemExit(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM (a warm shutdown: a worker ends its task), then SIGKILL its group."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


def start(name: str, argv: list[str], env: Mapping[str, str], log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name=name, popen=popen, log=log)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, ready: Any, process: Process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.alive_or_exit()
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} not ready within {timeout:.0f} s:\n{process.tail()}")


def _answers(url: str, headers: Mapping[str, str] | None = None) -> bool:
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        return bool(answer.status == 200)


def login(base: str, username: str, password: str) -> str:
    """Log in through the login form, as a browser does; return the Cookie header to send."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=10) as page:
        form = page.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if match is None:
        raise SystemExit("the login page has no CSRF token")
    fields = {
        "csrfmiddlewaretoken": match.group(1),
        "username": username,
        "password": password,
        "next": "/",
    }
    with opener.open(
        f"{base}/accounts/login/", data=urllib.parse.urlencode(fields).encode(), timeout=30
    ) as landed:
        if landed.status != 200 or urlsplit(landed.url).path != "/":
            raise SystemExit(f"the login did not land on the overview: {landed.url}")
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"no session cookie after the login: {sorted(cookies)}")
    return f"sessionid={cookies['sessionid']}"


# ----------------------------------------------------------------------------- wrk


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


def run_wrk(
    url: str,
    *,
    mix: Mapping[str, int],
    args: list[str],
    concurrency: int,
    duration: int,
    work_dir: Path,
) -> dict[str, Any]:
    """Drive ``mix`` at ``url``; return wrk's figures and each kind's, with every error."""
    script = work_dir / "mix.lua"
    script.write_text(WRK_SCRIPT)
    samples = work_dir / "samples.txt"
    spec = ",".join(f"{k}:{w}:{EXPECTED.get(k, 200)}" for k, w in mix.items())
    output = subprocess.run(
        [
            "wrk",
            "-t",
            str(concurrency),
            "-c",
            str(concurrency),
            "-d",
            f"{duration}s",
            "--timeout",
            f"{REQUEST_TIMEOUT}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            spec,
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_LOAD_SAMPLES": str(samples)},
    ).stdout
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    summary = json.loads(line[len("BENCH ") :])
    seconds = summary["duration_us"] / 1e6
    latencies: dict[str, list[float]] = {kind: [] for kind in mix}
    statuses: dict[str, Counter[int]] = {kind: Counter() for kind in mix}
    error_samples = []
    for sample in samples.read_text().splitlines():
        if sample.startswith("ERROR "):
            error_samples.append(sample[len("ERROR ") :])
            continue
        kind, status, micros = sample.split()
        latencies[kind].append(int(micros) / 1000)
        statuses[kind][int(status)] += 1
    kinds = {}
    for kind, values in latencies.items():
        ordered = sorted(values)
        expected = EXPECTED.get(kind, 200)
        kinds[kind] = {
            "requests": len(ordered),
            "rps": round(len(ordered) / seconds, 1),
            **{
                f"p{p}_ms": round(_percentile(ordered, p), 1) if ordered else None
                for p in (50, 95, 99)
            },
            "max_ms": round(ordered[-1], 1) if ordered else None,
            "errors": sum(n for s, n in statuses[kind].items() if s != expected),
            "statuses": {str(s): n for s, n in sorted(statuses[kind].items())},
        }
    socket_errors = sum(summary[k] for k in ("connect", "read", "write", "timeout"))
    status_errors = sum(k["errors"] for k in kinds.values())
    answered = sum(k["requests"] for k in kinds.values())
    return {
        "requests": summary["requests"],
        "rps": round(summary["requests"] / seconds, 1),
        "p50_ms": summary["p50_us"] / 1000,
        "p95_ms": summary["p95_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "max_ms": summary["max_us"] / 1000,
        "errors": socket_errors + status_errors + abs(summary["requests"] - answered),
        "socket_errors": {k: summary[k] for k in ("connect", "read", "write", "timeout")},
        "unexpected_status": status_errors,
        "kinds": kinds,
        "error_samples": error_samples,
    }


# ----------------------------------------------------------------------------- the scan


class ScanDriver(threading.Thread):
    """Enqueue ``alerts.scan_deadlines`` at once, then again whenever a scan has finished.

    With ``analyze``, each finished scan is followed by ``ANALYZE alerts_alert``, as
    autovacuum would do within its naptime on a server where it is on. Without statistics of
    the outbox the first scan filled, the sender's claim query is planned for an empty
    table and reads every pending alert for each mail.
    """

    def __init__(self, dsn: str, *, analyze: bool) -> None:
        super().__init__(name="scan-driver", daemon=True)
        self.dsn = dsn
        self.analyze = analyze
        self.enqueued = 0
        self.analyze_s: list[float] = []
        self.failure: BaseException | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        from tracker.celery import app

        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                seen = -1
                while not self._stop_event.is_set():
                    row = conn.execute("SELECT count(*) FROM alerts_scanrun").fetchone()
                    done = int(row[0]) if row else 0
                    if done > seen:
                        if self.analyze and seen >= 0:
                            started = time.perf_counter()
                            conn.execute("ANALYZE alerts_alert")
                            self.analyze_s.append(time.perf_counter() - started)
                        app.send_task("alerts.scan_deadlines")
                        self.enqueued += 1
                        seen = done
                    self._stop_event.wait(0.2)
        except BaseException as exc:  # reported by the main thread
            self.failure = exc

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=60)


def scan_runs(dsn: str) -> list[tuple[dt.datetime, dt.datetime, int, int]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT now, ran_at, changed, alerts FROM alerts_scanrun ORDER BY id"
        ).fetchall()


def wait_for_scans(dsn: str, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(scan_runs(dsn)) >= count:
            return True
        time.sleep(0.5)
    return False


def scan_task_seconds(worker: Process) -> list[float | None]:
    """Return the run time of each ``alerts.scan_deadlines`` the worker logged, in order.

    The task's time, from its start to its commit: ``ScanRun.ran_at`` is stamped before the
    commit of what may be a hundred thousand outbox rows.
    """
    pattern = re.compile(r"Task alerts\.scan_deadlines\[[^]]+\] succeeded in ([0-9.]+)s")
    return [float(m.group(1)) for m in pattern.finditer(worker.text())]


def scan_task_retries(worker: Process) -> list[str]:
    """Return the reason of each retry of ``alerts.scan_deadlines`` the worker logged."""
    pattern = re.compile(r"Task alerts\.scan_deadlines\[[^]]+\] retry: (.*)")
    return [m.group(1)[:160] for m in pattern.finditer(worker.text())]


# ----------------------------------------------------------------------------- memory


#: No gunicorn worker and no Celery worker process may grow above this (issue 16).
RSS_LIMIT_MB = 250
#: The mix's other targets (issue 16): 3x the 26.5 req/s last measured before it.
TARGET_P95_MS = 300
TARGET_P99_MS = 600
TARGET_RPS = 80


def _described(overrides: Mapping[str, str]) -> str:
    """Name the environment a script ran with beyond the common one (its defaults if none)."""
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "its defaults"


def _children(pid: int) -> list[int]:
    """Return the ids of ``pid``'s children (every thread's list: Linux's /proc)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _status_kb(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (kB) of ``pid`` from /proc/<pid>/status, or {} once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split(":", 1) for line in lines if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) for name, value in fields}


def _cpu_seconds(pid: int) -> float | None:
    """Return the CPU time (user + system) ``pid`` has used, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _command(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(Path(a.decode(errors="replace")).name for a in argv[:3] if a)


class MemorySampler(threading.Thread):
    """Sample the memory and CPU time of each started process and every descendant of it.

    Every ``interval`` seconds: VmRSS and VmHWM (the kernel's own peak, which catches what
    falls between two samples) of each process under the given roots (gunicorn's master and
    its workers; the Celery worker's main process and its pool's children). The peak of a
    process is the larger of its highest VmHWM and VmRSS seen. CPU time is counted for those
    and for the PostgreSQL backends serving ``database`` (``pg_stat_activity``), from
    :meth:`window_start` on: where the machine's CPU went, web, worker or database.
    """

    def __init__(
        self, roots: Mapping[str, int], *, dsn: str, database: str, interval: float = 0.5
    ) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.roots = dict(roots)
        self.dsn = dsn
        self.database = database
        self.interval = interval
        self.peak_kb: dict[tuple[str, int], int] = {}
        self.commands: dict[tuple[str, int], str] = {}
        self.parents: dict[tuple[str, int], bool] = {}
        self.cpu_first: dict[tuple[str, int], float] = {}
        self.cpu_last: dict[tuple[str, int], float] = {}
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def _cpu(self, key: tuple[str, int]) -> None:
        seconds = _cpu_seconds(key[1])
        if seconds is not None:
            self.cpu_first.setdefault(key, seconds)
            self.cpu_last[key] = seconds

    def sample(self, conn: psycopg.Connection[Any] | None = None) -> None:
        with self._lock:
            for name, root in self.roots.items():
                todo = [(root, True)]
                while todo:
                    pid, is_root = todo.pop()
                    kb = _status_kb(pid)
                    if kb:
                        key = (name, pid)
                        self.peak_kb[key] = max(self.peak_kb.get(key, 0), *kb.values())
                        self.commands.setdefault(key, _command(pid))
                        self.parents[key] = is_root
                        self._cpu(key)
                    todo += [(child, False) for child in _children(pid)]
            if conn is not None:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    [self.database],
                ).fetchall()
                for (pid,) in rows:
                    self._cpu(("postgres", int(pid)))

    def window_start(self) -> None:
        """Count CPU time from now on."""
        with self._lock:
            self.cpu_first = dict(self.cpu_last)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each group (web, worker, postgres) used since :meth:`window_start`."""
        used: Counter[str] = Counter()
        for key, last in self.cpu_last.items():
            used[key[0]] += last - self.cpu_first.get(key, last)
        return {name: round(used[name], 1) for name in ("web", "worker", "postgres")}

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop_event.is_set():
                self.sample(conn)
                self._stop_event.wait(self.interval)
            self.sample(conn)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def report(self) -> list[dict[str, Any]]:
        """Each process seen: its group, pid, command, whether it is the root, its peak MB."""
        return [
            {
                "group": name,
                "pid": pid,
                "command": self.commands[(name, pid)],
                "root": self.parents[(name, pid)],
                "peak_mb": round(kb / 1024, 1),
            }
            for (name, pid), kb in sorted(self.peak_kb.items())
        ]


# ----------------------------------------------------------------------------- report


def log_errors(processes: list[Process]) -> list[str]:
    """Return the lines of the processes' logs that report an error."""
    pattern = re.compile(r"\bERROR\b|CRITICAL|Traceback|WORKER TIMEOUT")
    return [
        f"{p.name}: {line}"
        for p in processes
        for line in p.text().splitlines()
        if pattern.search(line)
    ]


def print_table(title: str, result: Mapping[str, Any]) -> None:
    print(f"\n{title}")
    print(
        f"  {'request':<15}{'count':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}"
    )
    rows = [("all (wrk)", result), *result["kinds"].items()]
    for name, r in rows:
        if not r["requests"]:
            continue
        print(
            f"  {name:<15}{r['requests']:>8}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
            f"{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}{r['errors']:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="commitments to generate")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    parser.add_argument("--baseline-duration", type=int, default=10, help="seconds of baseline")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="Django CONN_MAX_AGE (?conn_max_age= on DATABASE_URL); default: the settings'",
    )
    parser.add_argument(
        "--web-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of scripts/web.sh only (WEB_WORKERS, WEB_THREADS, WEB_WORKER_CLASS)",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of scripts/worker.sh only (WORKER_CONCURRENCY, ...)",
    )
    parser.add_argument(
        "--database", default=BENCH_DB, help="the benchmark's own database (dropped, recreated)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--skip-same-page-check",
        action="store_true",
        help="compare with the baseline even if its page differs from the API's (diagnosis only)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the processes' logs even after a clean run"
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="do not ANALYZE the outbox after each scan where autovacuum is off",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py needs wrk: apt-get install -y wrk")
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server: postgres://user@host:port/db")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url.startswith("redis://"):
        raise SystemExit("Set CELERY_BROKER_URL to a Redis database: redis://host:6379/N")
    django_url = _with_database(
        server_url,
        args.database,
        "" if args.conn_max_age is None else f"conn_max_age={args.conn_max_age}",
    )
    web_env = dict(pair.split("=", 1) for pair in args.web_env)
    worker_env = dict(pair.split("=", 1) for pair in args.worker_env)
    dsn = _libpq(_with_database(server_url, args.database))
    work_dir = Path(tempfile.mkdtemp(prefix="ct-bench-load-"))
    (work_dir / "static").mkdir()  # STATIC_ROOT under TRACKER_VAR_DIR, which whitenoise wants
    sink = MailSink()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DATABASE_URL": django_url,
        "BENCH_API_DSN": dsn,
        "DJANGO_DEBUG": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "API_THROTTLE_RATE_TOKEN": UNTHROTTLED,
        "API_THROTTLE_RATE_USER": UNTHROTTLED,
        "TRACKER_VAR_DIR": str(work_dir),
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    os.environ.update(env)
    import django

    django.setup()
    load_before = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before the run")

    import redis

    redis.Redis.from_url(broker_url, socket_connect_timeout=5).flushdb()
    _database_recreate(server_url, args.database, create=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Off, the tables the scan fills keep the statistics of before it until an ANALYZE.
        autovacuum = str(conn.execute("SHOW autovacuum").fetchall()[0][0])
    processes: list[Process] = []
    ok = False
    try:
        with sink as mails:
            setup = data_setup(args.rows)
            if not args.skip_same_page_check:
                same_page_check(setup, dsn)
            from django.db import connections

            connections.close_all()
            today = dt.datetime.now(dt.UTC).date().isoformat()
            filter_pages, list_pages = full_pages(setup, today)
            wrk_args = [
                str(setup.first_id),
                str(setup.last_id),
                setup.viewer_key,
                setup.editor_key,
                "",
                str(setup.source_id),
                filter_query(today),
                str(filter_pages),
                str(list_pages),
            ]
            gunicorn = str(Path(sys.executable).with_name("gunicorn"))

            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            baseline_process = start(
                "baseline",
                [
                    gunicorn,
                    "bench.api:baseline_app",
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                ],
                env,
                work_dir,
            )
            processes.append(baseline_process)
            wait_until("the baseline", lambda: _answers(f"{base}/?{LIST_QUERY}"), baseline_process)
            baseline_mix = {"api_list": 1}
            run_wrk(
                base,
                mix=baseline_mix,
                args=wrk_args,
                concurrency=args.concurrency,
                duration=WARM_UP,
                work_dir=work_dir,
            )
            baseline = run_wrk(
                base,
                mix=baseline_mix,
                args=wrk_args,
                concurrency=args.concurrency,
                duration=args.baseline_duration,
                work_dir=work_dir,
            )
            baseline_process.stop()

            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            web = start(
                "web",
                [str(ROOT / "scripts/web.sh"), f"127.0.0.1:{port}"],
                {**env, **web_env},
                work_dir,
            )
            worker = start(
                "worker",
                [
                    str(ROOT / "scripts/worker.sh"),
                    "--hostname=bench-load@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
                {**env, **worker_env},
                work_dir,
            )
            beat = start(
                "beat",
                [
                    str(ROOT / "scripts/beat.sh"),
                    f"--pidfile={work_dir / 'beat.pid'}",
                    f"--schedule={work_dir / 'beat-schedule'}",
                ],
                env,
                work_dir,
            )
            processes += [web, worker, beat]
            wait_until("the web server", lambda: _answers(f"{base}/healthz"), web)
            from tracker.celery import app

            node = f"bench-load@{socket.gethostname()}"
            wait_until(
                "the worker", lambda: bool(app.control.ping(destination=[node], timeout=1)), worker
            )
            wait_until("beat", lambda: "beat: Starting..." in beat.text(), beat)
            memory = MemorySampler(
                {"web": web.popen.pid, "worker": worker.popen.pid}, dsn=dsn, database=args.database
            )
            memory.start()
            wrk_args[4] = login(base, setup.viewer, setup.password)

            warm = run_wrk(
                base,
                mix=MIX,
                args=wrk_args,
                concurrency=args.concurrency,
                duration=WARM_UP,
                work_dir=work_dir,
            )
            driver = ScanDriver(dsn, analyze=autovacuum == "off" and not args.no_analyze)
            window_start = dt.datetime.now(dt.UTC)
            memory.window_start()
            driver.start()
            mix = run_wrk(
                base,
                mix=MIX,
                args=wrk_args,
                concurrency=args.concurrency,
                duration=args.duration,
                work_dir=work_dir,
            )
            window_end = dt.datetime.now(dt.UTC)
            mails_in_window = mails.messages
            memory.stop()
            driver.stop()
            # The first scan must finish. The next may be queued behind batches of mails on
            # the worker's processes: it gets a short grace, then the worker is stopped.
            first_done = wait_for_scans(dsn, 1, timeout=FIRST_SCAN_TIMEOUT)
            wait_for_scans(dsn, driver.enqueued, timeout=10)
            for process in (beat, worker, web):
                process.stop(timeout=30)
            runs = scan_runs(dsn)
            with psycopg.connect(dsn, autocommit=True) as conn:
                outbox = dict(
                    conn.execute(
                        "SELECT state, count(*) FROM alerts_alert GROUP BY state"
                    ).fetchall()
                )
                writes = conn.execute("SELECT count(*) FROM commitments_progressupdate").fetchone()
            load_after = os.getloadavg()
            errors_logged = log_errors(processes)
            mails_received = mails.messages

        # The worker logs a task's time when it ends, and its processes run scans side by
        # side: the times come in the order the runs ended, which ``ran_at`` (stamped just
        # before the run's commit) gives; a run with no logged time has None.
        seconds = scan_task_seconds(worker)
        retries = scan_task_retries(worker)
        ended = sorted(range(len(runs)), key=lambda i: runs[i][1])
        took_by_run: list[float | None] = [None] * len(runs)
        for run_index, took in zip(ended, seconds, strict=False):
            took_by_run[run_index] = took
        in_window = [
            (run, took)
            for run, took in zip(runs, took_by_run, strict=True)
            if window_start <= run[0] <= window_end
        ]
        first = in_window[0][0] if in_window else None
        first_s = in_window[0][1] if in_window else None
        first_start_s = (first[0] - window_start).total_seconds() if first else None
        later = [took * 1000 for _run, took in in_window[1:] if took is not None]
        completed = [
            run
            for run, took in in_window
            if took is not None and run[0] + dt.timedelta(seconds=took) <= window_end
        ]
        list_p50 = mix["kinds"]["api_list"]["p50_ms"]
        ratios = {
            "api_list_p50_vs_baseline_p50": round(list_p50 / baseline["p50_ms"], 2),
            "mix_rps_vs_baseline_rps": round(mix["rps"] / baseline["rps"], 2),
            "first_scan_under_load_vs_alone": (
                round(first_s / setup.scan_alone_s, 2) if first_s is not None else None
            ),
        }
        memory_peaks = memory.report()
        cpu = memory.cpu_seconds()
        largest_mb = max((p["peak_mb"] for p in memory_peaks), default=0.0)
        #: Issue 16's targets for the mix, each with its figure from this run.
        targets = {
            "p95_ms": (mix["p95_ms"], "<=", TARGET_P95_MS),
            "p99_ms": (mix["p99_ms"], "<=", TARGET_P99_MS),
            "rps": (mix["rps"], ">=", TARGET_RPS),
            "errors": (mix["errors"], "<=", 0),
            "largest_process_mb": (largest_mb, "<=", RSS_LIMIT_MB),
        }
        met = {
            name: (value <= limit if op == "<=" else value >= limit)
            for name, (value, op, limit) in targets.items()
        }
        errors = mix["errors"] + warm["errors"] + baseline["errors"] + len(errors_logged)
        problems = []
        if errors:
            problems.append(f"{errors} errors")
        if driver.failure is not None:
            problems.append(f"the scan driver failed: {driver.failure!r}")
        if not first_done or first is None:
            problems.append(f"the first scan did not finish within {FIRST_SCAN_TIMEOUT} s")
        ok = not problems

        print(
            f"\n{args.rows} commitments ({setup.overdue} overdue), {os.cpu_count()} CPUs "
            f"shared with other work: load average {load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after; PostgreSQL autovacuum {autovacuum}"
        )
        print_table(
            f"baseline: bench/api.py's raw psycopg page of 100 overdue commitments, gunicorn "
            f"2 workers, wrk {args.concurrency} connections, {args.baseline_duration} s, "
            f"nothing else running",
            baseline,
        )
        print_table(
            f"the mix: scripts/web.sh ({_described(web_env)}) + scripts/worker.sh "
            f"({_described(worker_env)}) + scripts/beat.sh, wrk {args.concurrency} connections, "
            f"{args.duration} s, scans back to back",
            mix,
        )
        print(
            f"\nscans: {driver.enqueued} enqueued, {len(in_window)} started in the window, "
            f"{len(completed)} completed in it, {len(runs)} in all"
        )
        if first is not None and first_s is not None:
            print(
                f"  first (full outbox, {first[3]} alerts): started {first_start_s:.1f} s into "
                f"the window, took {first_s:.1f} s under load, {setup.scan_alone_s:.1f} s "
                f"alone ({setup.scan_alone_alerts} alerts)"
            )
        for reason in retries:
            print(f"  a scan was retried (the task retries database errors): {reason}")
        if driver.analyze_s:
            print(
                f"  autovacuum is off: ANALYZE alerts_alert after each scan took "
                f"{statistics.median(driver.analyze_s) * 1000:.0f} ms (median of "
                f"{len(driver.analyze_s)}; --no-analyze to leave it out)"
            )
        if later:
            print(
                f"  later ({len(later)}): median {statistics.median(later):.0f} ms, "
                f"max {max(later):.0f} ms"
            )
        print(
            f"progress updates written: {writes[0] if writes else 0}; outbox: {outbox}; "
            f"mails received by the SMTP sink: {mails_in_window} in the window, "
            f"{mails_received} in all"
        )
        print("\npeak resident memory (VmHWM / VmRSS sampled every 0.5 s during the mix):")
        for peak in memory_peaks:
            role = "main" if peak["root"] else "child"
            print(
                f"  {peak['group']:<7}{role:<6}pid {peak['pid']:<8}{peak['peak_mb']:>8.1f} MB"
                f"  {peak['command']}"
            )
        window_s = (window_end - window_start).total_seconds()
        print(
            f"CPU used in the {window_s:.0f} s window (of {os.cpu_count()} CPUs, shared): "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items())
        )
        print("\ntargets (issue 16):")
        for name, (value, op, limit) in targets.items():
            print(f"  {name:<20}{value:>10}  {op} {limit:<8}{'met' if met[name] else 'NOT MET'}")
        print("\nratios (ours / baseline, same data, this process):")
        print(
            f"  API list page p50 in the mix / raw psycopg page p50 alone: "
            f"{ratios['api_list_p50_vs_baseline_p50']:.2f}"
        )
        print(
            f"  mix req/s / raw psycopg page req/s:                     "
            f"{ratios['mix_rps_vs_baseline_rps']:.2f}"
        )
        if ratios["first_scan_under_load_vs_alone"] is not None:
            print(
                f"  first scan under load / alone:                          "
                f"{ratios['first_scan_under_load_vs_alone']:.2f}"
            )
        for sample in (mix["error_samples"] + warm["error_samples"])[:10]:
            print(f"  unexpected answer: {sample}")
        for line in errors_logged[:20]:
            print(f"  logged: {line}")
        print(f"\n{'OK: no errors' if ok else 'FAILED: ' + '; '.join(problems)}")
        print(
            json.dumps(
                {
                    "bench": "load",
                    "ok": ok,
                    "rows": args.rows,
                    "duration_s": args.duration,
                    "concurrency": args.concurrency,
                    "cpus": os.cpu_count(),
                    "load_average_before": round(load_before[0], 2),
                    "load_average_after": round(load_after[0], 2),
                    "mix": {k: v for k, v in mix.items() if k != "error_samples"},
                    "baseline": {k: v for k, v in baseline.items() if k != "error_samples"},
                    "warm_up_errors": warm["errors"],
                    "autovacuum": autovacuum,
                    "scans": {
                        "enqueued": driver.enqueued,
                        "finished": len(runs),
                        "started_in_window": len(in_window),
                        "completed_in_window": len(completed),
                        "first_s": first_s,
                        "first_started_after_s": first_start_s,
                        "first_alerts": first[3] if first else None,
                        "retries": retries,
                        "first_alone_s": round(setup.scan_alone_s, 3),
                        "later_ms": [round(x, 1) for x in later],
                        "analyze_after_scan_s": [round(x, 3) for x in driver.analyze_s],
                    },
                    "progress_updates": writes[0] if writes else 0,
                    "outbox": outbox,
                    "mails_in_window": mails_in_window,
                    "mails": mails_received,
                    "logged_errors": len(errors_logged),
                    "ratios": ratios,
                    "web_env": web_env,
                    "worker_env": worker_env,
                    "memory": memory_peaks,
                    "cpu_seconds": cpu,
                    "targets": {
                        name: {"value": value, "op": op, "limit": limit, "met": met[name]}
                        for name, (value, op, limit) in targets.items()
                    },
                }
            )
        )
    finally:
        for process in processes:
            process.stop(timeout=30)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            _database_recreate(server_url, args.database, create=False)
        if ok and not args.keep_logs:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"logs kept in {work_dir}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
