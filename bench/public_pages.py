"""Benchmark a published agreement's public page (cached) against a static file of its size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_h4 .venv/bin/python bench/public_pages.py

``DATABASE_URL`` names the PostgreSQL server; the benchmark creates its own database there,
``ct_bench_public`` or the one ``--database`` names (dropped first if it exists, and dropped
at the end unless ``--keep-db``), migrates it and fills it through the services, as editors
would: one published agreement with ``--commitments`` commitments (100), each with a
citation, a rating of its obligor and, one in four, a deadline revision. The page is the
agreement's public page (``public:agreement``) where the public site has it, else the
agreement's embeddable card (``public:embed_agreement``); the output says which.

(a) in process: the page rendered with the public cache emptied before each request (the
uncached cost), median and p95 of ``--requests`` renders, beside the time of the SQL it runs:
its queries captured once (``CaptureQueriesContext``) and replayed through a cursor.

(b) under gunicorn, 2 sync workers, on 127.0.0.1, loaded by ``wrk`` at ``--concurrency``
connections for ``--duration`` seconds: the page (served from the public cache after each
worker's first render) and, from the same gunicorn, a static file of the page's size that
WhiteNoise serves (written to a temporary ``DJANGO_STATIC_ROOT``), in turn for ``--rounds``
rounds. Printed: both requests/s, errors, and each round's ratio; the target is the page at
0.8 of the static file's throughput or more (the median ratio), with 0 errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Settings are read at the first import of the tracker's modules: point them at the benchmark's
# own database before anything imports them.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "ct_bench_public"
STATIC_NAME = "bench/page-sized.html"


def data_load(commitments: int) -> str:
    """Migrate and fill the database through the services; return the page's path."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import NoReverseMatch, reverse

    from commitments.models import Citation, Party, Source
    from commitments.services.assessments import assessment_record
    from commitments.services.commitments import agreement_create, commitment_create
    from commitments.services.publishing import agreement_publish_unreviewed
    from commitments.services.revisions import revision_create

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    japan = Party.objects.create(key="japan", name="Japan", name_fr="Japon", kind="state")
    usa = Party.objects.create(key="usa", name="United States", name_fr="États-Unis", kind="state")
    agreement = agreement_create(
        key="bench-summit",
        title="Benchmark summit",
        title_fr="Sommet de référence",
        summary="An agreement with many commitments, for the public page benchmark.",
        kind="summit_outcome",
        date=dt.date(2025, 1, 10),
        time_zone="Asia/Tokyo",
        parties=[japan, usa],
    )
    source = Source.objects.create(
        key="bench-source",
        title="Joint statement",
        publisher="Bench",
        language="en",
        published_on=dt.date(2025, 1, 10),
        kind="official",
    )
    ratings = ["kept", "compromise", "in_the_works", "stalled", "broken", "not_verifiable"]
    for n in range(1, commitments + 1):
        obligor, other = (japan, usa) if n % 2 else (usa, japan)
        commitment = commitment_create(
            agreement=agreement,
            obligor=obligor,
            key=f"bench-{n}",
            title=f"Commitment {n}: {obligor.name} invests in project {n}",
            title_fr=f"Engagement {n} : investissement dans le projet {n}",
            description="Generated for the public page benchmark.",
            category="investment",
            deadline_kind="relative",
            offset_amount=90 + 9 * n,
            offset_unit="days",
            anchor_kind="agreement",
            co_obligors=[other] if n % 5 == 0 else [],
        )
        citation = Citation(source=source, commitment=commitment, quote=f"Item {n} is agreed.")
        citation.full_clean()
        citation.save()
        assessment_record(
            commitment=commitment,
            party=obligor,
            rating=ratings[n % len(ratings)],
            justification=f"What was done on item {n}.",
            assessed_on=dt.date(2025, 6, 1),
            evidence=citation,
        )
        if n % 4 == 0:
            revision_create(
                commitment=commitment,
                kind="extended",
                reason="The parties agreed on more time.",
                revised_on=dt.date(2025, 3, 1),
                new_due_date=dt.date(2027, 12, 31),
                evidence=citation,
            )
    agreement_publish_unreviewed(agreement=agreement)
    print(
        f"loaded 1 published agreement with {commitments} commitments (ratings, citations, "
        f"{commitments // 4} revisions) in {time.perf_counter() - started:.1f} s"
    )
    try:
        return reverse("public:agreement", kwargs={"lang": "en", "key": agreement.key})
    except NoReverseMatch:
        print("the public site has no agreement page here: benchmarking the agreement's card")
        return reverse("public:embed_agreement", kwargs={"lang": "en", "key": agreement.key})


def in_process(path: str, requests: int) -> bytes:
    """Time the uncached page and the SQL it runs; return the page's body."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.api import _summary

    client = Client(HTTP_HOST="127.0.0.1")
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        first = client.get(path)
    if first.status_code != 200:
        raise SystemExit(f"{path} answered {first.status_code}")
    queries = [q["sql"] for q in captured.captured_queries]
    for _ in range(10):
        cache.clear()
        client.get(path)
    page_ms: list[float] = []
    sql_ms: list[float] = []
    with connection.cursor() as cursor:
        for _ in range(requests):
            cache.clear()
            started = time.perf_counter()
            client.get(path)
            page_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            for sql in queries:
                cursor.execute(sql)
                cursor.fetchall()
            sql_ms.append((time.perf_counter() - started) * 1000)
    page, sql = _summary(page_ms), _summary(sql_ms)
    cache.clear()
    hit_ms = []
    client.get(path)
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        hit_ms.append((time.perf_counter() - started) * 1000)
    hit = _summary(hit_ms)
    print(f"\n(a) in process, {requests} requests, {path} ({len(first.content)} bytes)")
    print(f"    uncached page   median {page[0]:7.2f} ms   p95 {page[1]:7.2f} ms")
    print(
        f"    its SQL alone   median {sql[0]:7.2f} ms   p95 {sql[1]:7.2f} ms   "
        f"({len(queries)} queries replayed through a cursor)"
    )
    print(f"    SQL share of the uncached page: {sql[0] / page[0]:.0%} (medians)")
    print(f"    cached page     median {hit[0]:7.2f} ms   p95 {hit[1]:7.2f} ms")
    return first.content


def under_gunicorn(
    path: str, body: bytes, *, django_url: str, concurrency: int, duration: int, rounds: int
) -> None:
    """Load the page and the static file of its size, from one gunicorn, in turn, with wrk."""
    # bench/api.py's load helpers (it reads Django's settings: imported once they are set).
    from bench.api import WRK_SCRIPT, _free_port, _wait_ready, _wrk

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with (
        tempfile.TemporaryDirectory() as static_root,
        tempfile.NamedTemporaryFile("w", suffix=".lua") as script,
    ):
        static_file = Path(static_root) / STATIC_NAME
        static_file.parent.mkdir(parents=True)
        # The same number of bytes, and HTML, so both answers weigh the same on the wire.
        static_file.write_bytes(body)
        script.write(WRK_SCRIPT)
        script.flush()
        env = {
            **os.environ,
            "DATABASE_URL": django_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_STATIC_ROOT": static_root,
            "PYTHONPATH": str(ROOT),
        }
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        targets = {"page": f"{base}{path}", "static": f"{base}/static/{STATIC_NAME}"}
        command = [gunicorn, "tracker.wsgi:application", "--workers", "2"]
        command += ["--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level", "warning"]
        process = subprocess.Popen(command, env=env)
        results: dict[str, list[dict]] = {name: [] for name in targets}
        try:
            for url in targets.values():
                _wait_ready(url, {}, process)
                _wrk(url, key=None, concurrency=concurrency, duration=2, script=script.name)
            for _ in range(rounds):
                for name, url in targets.items():
                    results[name].append(
                        _wrk(
                            url,
                            key=None,
                            concurrency=concurrency,
                            duration=duration,
                            script=script.name,
                        )
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        f"\n(b) gunicorn, 2 sync workers, wrk {concurrency} connections for {duration} s, "
        f"{rounds} round(s) taking turns; {len(body)} bytes each"
    )
    ratios = []
    errors = 0
    for n in range(rounds):
        for name in targets:
            r = results[name][n]
            errors += r["non_2xx"] + r["socket_errors"]
            print(
                f"    {name:7} {r['rps']:8.1f} req/s   p50 {r['p50']:7.2f} ms   "
                f"p95 {r['p95']:7.2f} ms   non-2xx {r['non_2xx']}   "
                f"socket errors {r['socket_errors']}"
            )
        ratios.append(results["page"][n]["rps"] / results["static"][n]["rps"])
        print(f"    round {n + 1}: page / static throughput {ratios[-1]:.2f}")
    ratio = statistics.median(ratios)
    verdict = "meets" if ratio >= 0.8 and errors == 0 else "MISSES"
    print(
        f"    page / static throughput: median {ratio:.2f}, best {max(ratios):.2f}, "
        f"errors {errors} ({verdict} the target of 0.8 or more with 0 errors)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commitments", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100, help="in-process requests")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds a round")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds, page and file in turn")
    parser.add_argument("--conn-max-age", type=int, default=600, help="Django CONN_MAX_AGE")
    parser.add_argument(
        "--database", default=BENCH_DB, help="name of the benchmark's own database (made anew)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server: postgres://user@host:port/db")
    parts = urlsplit(server_url)
    django_url = urlunsplit(
        (parts.scheme, parts.netloc, f"/{args.database}", f"conn_max_age={args.conn_max_age}", "")
    )
    # Before anything reads Django's settings (bench.api does): the benchmark's own database.
    os.environ["DATABASE_URL"] = django_url
    os.environ["DJANGO_DEBUG"] = "false"
    from bench.api import database_create, database_drop

    # The default per-process cache: what a single web process gets without CACHE_URL.
    os.environ.pop("CACHE_URL", None)
    database_create(server_url, args.database)
    try:
        path = data_load(args.commitments)
        body = in_process(path, args.requests)
        from django.db import connections

        connections.close_all()
        under_gunicorn(
            path,
            body,
            django_url=django_url,
            concurrency=args.concurrency,
            duration=args.duration,
            rounds=args.rounds,
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database_drop(server_url, args.database)


if __name__ == "__main__":
    main()
