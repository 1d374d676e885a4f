"""Benchmark the public site: every page uncached against its own SQL, and the cached page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/public_pages.py --database ct_h3_bench \
        [--commitments 1000] [--pages agreement,feed] [--no-gunicorn] [--reuse-db --keep-db]

``DATABASE_URL`` names the PostgreSQL server; the benchmark creates its own database there,
``ct_bench_public`` or the one ``--database`` names (dropped first if it exists, and dropped
at the end unless ``--keep-db``; ``--reuse-db`` keeps one a previous ``--keep-db`` run filled
with the same ``--commitments``), migrates it and fills it through the services, as editors
would: one published agreement with ``--commitments`` commitments (100), each with a
citation, a rating of its obligor and, one in four, a deadline revision; a frozen report of
it with a correction, and a correction of one commitment.

(a) in process, every public page and feed (``--pages`` to pick some): the page rendered with
the public cache emptied before each request (its uncached cost), median of ``--requests``
renders, beside the time of the SQL it runs, its queries captured once
(``CaptureQueriesContext``) and replayed through a cursor in the same loop, on the same data.
Printed for each: both medians, the number of queries, the ratio page / SQL, the target
(``TARGET``: 1.5×, the dashboard agreement page's) and whether it is met. The agreement page
also gets its cached time (served by ``publicsite.cache``).

(b) under gunicorn (skipped with ``--no-gunicorn``), 2 sync workers, on 127.0.0.1, loaded by
``wrk`` at ``--concurrency`` connections for ``--duration`` seconds: the agreement page
(served from the public cache after each worker's first render) and, from the same gunicorn,
a static file of the page's size that WhiteNoise serves (written to a temporary
``DJANGO_STATIC_ROOT``), in turn for ``--rounds`` rounds. Printed: both requests/s, errors,
and each round's ratio; the target is the page at 0.8 of the static file's throughput or more
(the median ratio), with 0 errors.
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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Settings are read at the first import of the tracker's modules: point them at the benchmark's
# own database before anything imports them.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "ct_bench_public"
AGREEMENT_KEY = "bench-summit"
STATIC_NAME = "bench/page-sized.html"
#: Every public page's target: its uncached time at most this many times its SQL's.
TARGET = 1.5


def data_load(commitments: int) -> None:
    """Migrate and fill the database through the services."""
    import django

    django.setup()
    from django.core.management import call_command

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
        key=AGREEMENT_KEY,
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
                # Past the computed due date, whatever it is: an extension must move it later.
                new_due_date=commitment.due_date + dt.timedelta(days=180),
                evidence=citation,
            )
    agreement_publish_unreviewed(agreement=agreement)
    history_load(agreement)
    print(
        f"loaded 1 published agreement with {commitments} commitments (ratings, citations, "
        f"{commitments // 4} revisions, a report, corrections) in "
        f"{time.perf_counter() - started:.1f} s"
    )


def history_load(agreement: Any) -> None:
    """Freeze a report of ``agreement`` and correct it; correct one commitment's title."""
    from commitments.models import Correction
    from commitments.services.reports import report_correct, report_freeze

    report = report_freeze(
        agreement=agreement, title="Interim report", cutoff=dt.date(2025, 12, 31)
    )
    report_correct(
        report=report,
        row=None,
        field="report",
        new_value="Updated summary",
        note="A party was missing from the summary.",
        corrected_on=dt.date(2026, 1, 15),
    )
    commitment = agreement.commitments.order_by("id").first()
    Correction.objects.create(
        agreement=agreement,
        commitment=commitment,
        field="title",
        old_value="Commitment one",
        new_value=commitment.title,
        note="The title was misread from the statement.",
        corrected_at=report.created,
    )


def database_filled(commitments: int) -> bool:
    """Whether the database already holds the benchmark's agreement with ``commitments``."""
    import django

    django.setup()
    from django.db.utils import ProgrammingError

    from commitments.models import Agreement, Commitment

    try:
        agreement = Agreement.objects.filter(key=AGREEMENT_KEY).first()
    except ProgrammingError:  # not migrated
        return False
    return (
        agreement is not None
        and Commitment.objects.filter(agreement=agreement).count() == commitments
        and agreement.reports.exists()
    )


def page_paths() -> dict[str, str]:
    """Return each public page type's name and the path of one of its pages (English)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from commitments.models import Agreement, Party, Source

    agreement = Agreement.objects.get(key=AGREEMENT_KEY)
    # The commitment with the most history: a revision (one in four), a rating, a citation.
    commitment = agreement.commitments.get(key="bench-4")
    report = agreement.reports.order_by("id").first()
    party = Party.objects.get(key="japan")
    source = Source.objects.get(key="bench-source")

    def url(name: str, **kwargs: Any) -> str:
        return reverse(f"public:{name}", kwargs={"lang": "en", **kwargs})

    permalink = f"{settings_site_url()}{url('commitment', key=commitment.key)}"
    return {
        "overview": url("overview"),
        f"agreement ({agreement.commitments.count()} commitments)": url(
            "agreement", key=agreement.key
        ),
        "commitment (revision, rating, history)": url("commitment", key=commitment.key),
        "party": url("party", key=party.key),
        "source": url("source", key=source.key),
        "report": url("report", key=agreement.key, report_id=report.pk),
        "methodology": url("methodology"),
        "search": url("search") + "?" + urlencode({"q": "project"}),
        "corrections": url("corrections"),
        "week": url("week"),
        "feed: site": url("feed"),
        "feed: agreement": url("feed_agreement", key=agreement.key),
        "feed: party": url("feed_party", key=party.key),
        "feed: commitment": url("feed_commitment", key=commitment.key),
        "embed: agreement": url("embed_agreement", key=agreement.key),
        "embed: commitment": url("embed_commitment", key=commitment.key),
        "oembed": url("oembed") + "?" + urlencode({"url": permalink, "format": "json"}),
        "sitemap": reverse("sitemap"),
    }


def settings_site_url() -> str:
    from django.conf import settings

    return str(settings.SITE_URL).rstrip("/")


def page_time(client: Any, path: str, requests: int) -> dict[str, Any]:
    """Time ``path`` uncached and the SQL it runs, alternately; return medians and the body."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        first = client.get(path)
    if first.status_code != 200:
        raise SystemExit(f"{path} answered {first.status_code}")
    queries = [q["sql"] for q in captured.captured_queries]
    for _ in range(5):
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
    return {
        "page": statistics.median(page_ms),
        "sql": statistics.median(sql_ms),
        "queries": len(queries),
        "body": first.content,
    }


def in_process(pages: dict[str, str], requests: int) -> bytes:
    """Print each page's uncached time against its SQL; return the agreement page's body."""
    from django.core.cache import cache
    from django.test import Client

    from bench.api import _summary

    client = Client(HTTP_HOST="127.0.0.1")
    print(
        f"\n(a) in process, uncached (public cache emptied before each request), "
        f"median of {requests} requests; target: page / SQL <= {TARGET}"
    )
    print(f"    {'page':40} {'bytes':>8} {'queries':>7} {'page ms':>9} {'SQL ms':>8} {'ratio':>6}")
    misses = []
    skipped = 0
    agreement_body = b""
    agreement_path = ""
    for name, path in pages.items():
        result = page_time(client, path, requests)
        if result["queries"] == 0:
            # No SQL to compare with (a static page such as the methodology): not judged.
            print(
                f"    {name:40} {len(result['body']):8d} {0:7d} {result['page']:9.2f} "
                f"{'-':>8} {'-':>6}  (no query: not judged)"
            )
            skipped += 1
            continue
        ratio = result["page"] / result["sql"]
        met = ratio <= TARGET
        if not met:
            misses.append(name)
        if name.startswith("agreement"):
            agreement_body, agreement_path = result["body"], path
        print(
            f"    {name:40} {len(result['body']):8d} {result['queries']:7d} "
            f"{result['page']:9.2f} {result['sql']:8.2f} {ratio:5.2f}x "
            f"{'meets' if met else 'MISSES'}"
        )
    judged = len(pages) - skipped
    print(
        f"    {judged - len(misses)} of {judged} pages meet the target"
        + (f"; missed: {', '.join(misses)}" if misses else "")
    )
    if agreement_path:
        cache.clear()
        client.get(agreement_path)
        hit_ms = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(agreement_path)
            hit_ms.append((time.perf_counter() - started) * 1000)
        hit = _summary(hit_ms)
        print(
            f"    agreement page from the public cache: median {hit[0]:.2f} ms, p95 {hit[1]:.2f} ms"
        )
    return agreement_body


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
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the database as a previous --keep-db run left it, if it holds the same data",
    )
    parser.add_argument(
        "--pages", default="", help="only the pages whose name contains one of these (a,b)"
    )
    parser.add_argument("--no-gunicorn", action="store_true", help="skip (b), the wrk load")
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
    reused = False
    if args.reuse_db:
        from django.db import OperationalError

        try:
            reused = database_filled(args.commitments)
        except OperationalError:  # no such database yet
            reused = False
    try:
        if reused:
            print(f"reusing {args.database}: {args.commitments} commitments already loaded")
        else:
            from django.db import connections

            connections.close_all()
            database_create(server_url, args.database)
            data_load(args.commitments)
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
        pages = page_paths()
        if args.pages:
            wanted = [w.strip() for w in args.pages.split(",") if w.strip()]
            pages = {n: p for n, p in pages.items() if any(w in n for w in wanted)}
        print(f"load average (uptime): {os.getloadavg()}")
        body = in_process(pages, args.requests)
        agreement_path = next((p for n, p in pages.items() if n.startswith("agreement")), None)
        from django.db import connections

        connections.close_all()
        if not args.no_gunicorn and agreement_path:
            under_gunicorn(
                agreement_path,
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
