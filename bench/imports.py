"""Benchmark the commitments CSV import (preview and real import) against a plain bulk write.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_h5_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/imports.py --rows 10000

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its commitments,
agreements, parties, sources and import runs with generated data; ``--worker`` flushes the
Redis database of ``CELERY_BROKER_URL``. Point both at scratch databases.

It generates a CSV file of ``--rows`` commitment rows with every column of the import template
(English and French titles and descriptions, obligors, other obligors and beneficiaries,
categories, amounts written as "750 bn" or « 1,2 milliard », effective dates, deadline phrases
in English and French read by the parser, explicit rules, rows anchored on an earlier row of the
file, one citation each with its quote from the source's archived text, translation and
locator) over 10 agreements, 20 parties and 10 sources. Then, in this process, on the same file:

* ``preview``: :func:`commitments.services.imports.commitments_import` with ``dry_run`` (every
  row checked and saved, then rolled back), as the admin's preview runs it;
* ``import``: a queued :class:`~commitments.models.ImportRun` executed by
  :func:`~commitments.services.imports.import_run_execute`, as the Celery task runs it;
* ``baseline``: the very rows the import wrote (commitments, their party lists, citations,
  history rows), deleted and written again with ``bulk_create``: what the rows cost without
  reading, validating, computing or telling anyone; the ratio is the price of all of that;
* ``worker`` (with ``--worker``): the file posted through ``import_run_start`` and run by a real
  ``celery worker`` on Redis, timed from the enqueue until the run is done.

The target (issue #16) is at least 100 rows/s for the preview and the import.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

TARGET_ROWS_PER_S = 100.0
AGREEMENTS = 10
PARTIES = 20
PHRASES = [
    ("within 90 days", "en"),
    ("dans les 180 jours", "fr"),
    ("by the end of 2026", "en"),
    ("d'ici fin mars 2027", "fr"),
    ("by 31 December 2026", "en"),
    ("au plus tard le 30 juin 2027", "fr"),
    ("within six months", "en"),
    ("dans un délai de deux ans", "fr"),
]
AMOUNTS = [("750 bn", "USD"), ("1,2 milliard", "EUR"), ("550000000000", "USD"), ("", "")]
CATEGORIES = ["meeting", "purchase", "investment", "tariff", "other"]
DOMAIN_TABLES = (
    "commitments_importrun, commitments_historicalcitation, commitments_citation,"
    " commitments_commitment_beneficiaries, commitments_commitment_co_obligors,"
    " commitments_historicalcommitment, commitments_commitment, commitments_agreement_parties,"
    " commitments_historicalagreement, commitments_agreement, commitments_source,"
    " commitments_party"
)


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def sentence(n: int) -> str:
    return f"Article {n}. Les parties s'engagent à mettre en œuvre la mesure numéro {n} du cadre."


def build(rows: int) -> bytes:
    """Replace the domain data with the file's references; return the CSV file's bytes."""
    from django.contrib.auth import get_user_model

    from commitments.models import Party, Source
    from commitments.services.commitments import agreement_create

    execute(f"TRUNCATE {DOMAIN_TABLES} CASCADE")
    parties = [
        Party.objects.create(key=f"p-{n}", name=f"Party {n}", name_fr=f"Partie {n}", kind="state")
        for n in range(PARTIES)
    ]
    per_source = rows // AGREEMENTS + 1
    for n in range(AGREEMENTS):
        agreement_create(
            key=f"a-{n}",
            title=f"Agreement {n}",
            kind="summit_outcome",
            date=dt.date(2025, 10, 28),
            time_zone="Europe/Paris",
            parties=parties[:4],
        )
        Source.objects.create(
            key=f"s-{n}",
            title=f"Déclaration commune {n}",
            publisher="Ministère",
            url=f"https://example.org/s-{n}",
            language="fr",
            published_on=dt.date(2025, 10, 28),
            kind="official",
            text="\n".join(sentence(n * per_source + i) for i in range(per_source)),
        )
    model = get_user_model()
    if not model.objects.filter(username="bench").exists():
        model.objects.create_superuser(username="bench", password="bench", email="b@example.org")  # noqa: S106
    execute("ANALYZE")

    from commitments.services.imports import TEMPLATE_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TEMPLATE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for i in range(rows):
        agreement = i % AGREEMENTS
        amount, unit = AMOUNTS[i % len(AMOUNTS)]
        row = {
            "key": f"c-{i}",
            "agreement": f"a-{agreement}",
            "title": f"Measure {i} of the framework",
            "description": f"The parties implement measure {i} of the joint statement.",
            "title_fr": f"Mesure {i} du cadre",
            "description_fr": f"Les parties mettent en œuvre la mesure {i} de la déclaration.",
            "obligor": f"p-{i % 4}",
            "co_obligors": f"p-{(i + 1) % 4}",
            "beneficiaries": f"p-{4 + i % 16};p-{4 + (i + 3) % 16}",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "target_amount": amount,
            "target_unit": unit,
            "effective_from": "2025-11-01" if i % 3 == 0 else "",
            "citation_source": f"s-{agreement}",
            "citation_quote": sentence(agreement * per_source + i // AGREEMENTS),
            "citation_translation": f"The parties undertake to implement measure {i}.",
            "citation_translation_language": "en",
            "citation_locator": f"§ {i // AGREEMENTS + 1}",
        }
        if i % 10 == 9 and i >= 10:
            # Anchored on an earlier row of the file (same agreement).
            row.update(
                deadline_phrase="30 days after the review",
                deadline_kind="relative",
                offset_amount="30",
                offset_unit="days",
                anchor_kind="commitment",
                anchor_commitment=f"c-{i - 10}",
            )
        elif i % 10 == 5:
            row.update(deadline_kind="fixed", deadline_date="2026-09-30", deadline_precision="day")
        else:
            phrase, language = PHRASES[i % len(PHRASES)]
            row.update(deadline_phrase=phrase, language=language)
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def clear_commitments() -> None:
    execute(
        "TRUNCATE commitments_importrun, commitments_historicalcitation, commitments_citation,"
        " commitments_commitment_beneficiaries, commitments_commitment_co_obligors,"
        " commitments_historicalcommitment, commitments_commitment CASCADE"
    )
    execute("ANALYZE")


def preview(data: bytes) -> tuple[float, Any]:
    from django.contrib.auth import get_user_model

    from commitments.services.imports import commitments_import, table_read

    user = get_user_model().objects.get(username="bench")
    started = time.perf_counter()
    report = commitments_import(dataset=table_read(data=data), user=user, dry_run=True)
    return time.perf_counter() - started, report


def run_import(data: bytes) -> tuple[float, Any]:
    from django.contrib.auth import get_user_model

    from commitments.models import ImportRun
    from commitments.services.imports import import_run_execute

    user = get_user_model().objects.get(username="bench")
    run = ImportRun.objects.create(file_name="bench.csv", file_data=data, user=user)
    started = time.perf_counter()
    done = import_run_execute(run_id=run.pk)
    return time.perf_counter() - started, done


def baseline() -> float:
    """Delete what the import wrote and write the same rows again with ``bulk_create``."""
    from commitments.models import Citation, Commitment

    through = [Commitment.beneficiaries.through, Commitment.co_obligors.through]
    models = [
        Commitment,
        Commitment.history.model,
        Citation,
        Citation.history.model,
        *through,
    ]
    snapshot = {model: list(model.objects.all()) for model in models}
    clear_commitments()
    started = time.perf_counter()
    with transaction.atomic():
        for model in models:
            model.objects.bulk_create(snapshot[model], batch_size=2000)
    seconds = time.perf_counter() - started
    counts = {model.__name__: len(rows) for model, rows in snapshot.items()}
    print(f"   baseline rows written: {counts}")
    return seconds


def worker_import(data: bytes) -> tuple[float, Any]:
    import redis
    from celery import current_app
    from django.contrib.auth import get_user_model

    from commitments.services.imports import import_run_start

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--concurrency=1",
         "--pool=prefork", "--loglevel=WARNING", "--without-mingle", "--without-gossip"],
        cwd=PROJECT_DIR, env=dict(os.environ), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not current_app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not answer")
        user = get_user_model().objects.get(username="bench")
        started = time.perf_counter()
        with transaction.atomic():
            run = import_run_start(file_name="bench.csv", data=data, user=user)
        while True:
            run.refresh_from_db()
            if run.finished_running:
                break
            time.sleep(0.1)
        return time.perf_counter() - started, run
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def check(ok: bool, errors: Any) -> None:
    if not ok:
        raise SystemExit(f"the import failed: {list(errors)[:5]}")


def line(name: str, rows: int, seconds: float, base: float) -> None:
    rate = rows / seconds
    met = "met" if rate >= TARGET_ROWS_PER_S else "NOT met"
    print(
        f"{name:>9}: {seconds:8.2f} s  {rate:8.1f} rows/s  {seconds / base:6.1f}x the baseline"
        f"  (target >= {TARGET_ROWS_PER_S:.0f} rows/s: {met})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--worker", action="store_true", help="also run it on a Celery worker")
    parser.add_argument("--profile", choices=["preview", "import"], help="pyinstrument one step")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    data = build(args.rows)
    print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB of CSV; load {os.getloadavg()}")

    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
        seconds, _ = (preview if args.profile == "preview" else run_import)(data)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"{args.profile}: {seconds:.2f} s, {args.rows / seconds:.1f} rows/s")
        return

    preview_s, report = preview(data)
    check(report.ok, report.errors)
    import_s, run = run_import(data)
    check(run.status == "done" and run.created_count == args.rows, run.errors)
    base_s = baseline()
    print(f" baseline: {base_s:8.2f} s  {args.rows / base_s:8.1f} rows/s  (bulk_create)")
    line("preview", args.rows, preview_s, base_s)
    line("import", args.rows, import_s, base_s)
    if args.worker:
        clear_commitments()
        worker_s, run = worker_import(data)
        check(run.status == "done", run.errors)
        line("worker", args.rows, worker_s, base_s)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
