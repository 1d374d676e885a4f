"""Benchmark every API read endpoint of the earlier issues against the SQL reading its data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python \
        bench/api_endpoints.py --rows 2000 --requests 30

``DATABASE_URL`` names the PostgreSQL server; the benchmark makes its own database there
(``ct_bench_api_endpoints`` or ``--database``; dropped first, and at the end unless
``--keep-db``), migrates it and fills it as ``bench/api.py`` does (``--rows`` commitments of
one agreement, with beneficiaries, citations, progress updates, co-obligors and ratings);
then, through the domain's services, a recurring commitment with ``--occurrences``
occurrences, a rating history of ``--ratings`` entries on one commitment, a deadline revision,
and two frozen reports of the agreement (a row per commitment and obligor), one corrected. The
agreement is published, so that the anonymous read (``API_PUBLIC_READ``) sees it.

Each line times one read endpoint in this process (Django's test client, a viewer's token;
median of ``--requests`` requests after a warm-up) and, on the same data in the same run, the
hand-written SQL that reads the same rows (psycopg, one statement, rows fetched; the anonymous
list's baseline is ``bench/api.py``'s full raw page, the same representation, checked equal
once the fields anonymous readers are not shown are blanked as the API blanks them). It prints
both medians, the ratio, and the number of rows each side read (they must agree: a line whose
counts differ says so). Issue 16 sets no target per endpoint
beyond the list's (``bench/api.py``: 1.3x); the ratios are the measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import (
    PAGE_SIZE,
    PATH,
    QUERY,
    STATE,
    UNTHROTTLED,
    _libpq,
    _same_page,
    _with_database,
    baseline_page,
    data_load,
    database_create,
    database_drop,
)

BENCH_DB = "ct_bench_api_endpoints"

#: The SQL each endpoint is held to: the rows it reads, in its order, in one statement.
SQL = {
    "detail": """
        SELECT c.*, u.username,
            (SELECT json_agg(o ORDER BY o.sequence) FROM commitments_occurrence o
             WHERE o.commitment_id = c.id AND o.sequence <= 24),
            (SELECT json_agg(r ORDER BY r.revised_on, r.id) FROM commitments_deadlinerevision r
             WHERE r.commitment_id = c.id),
            (SELECT json_agg(ci ORDER BY ci.id) FROM commitments_citation ci
             WHERE ci.commitment_id = c.id),
            (SELECT json_agg(p ORDER BY p.occurred_on DESC, p.id DESC)
             FROM commitments_progressupdate p WHERE p.commitment_id = c.id),
            (SELECT json_agg(a) FROM commitments_assessment a
             WHERE a.commitment_id = c.id AND a.current)
        FROM commitments_commitment c LEFT JOIN auth_user u ON u.id = c.owner_id
        WHERE c.id = %(commitment)s
    """,
    "occurrences": """
        SELECT (SELECT count(*) FROM commitments_occurrence WHERE commitment_id = %(commitment)s),
            o.* FROM commitments_occurrence o WHERE o.commitment_id = %(commitment)s
        ORDER BY o.sequence LIMIT 100
    """,
    "assessments": """
        SELECT (SELECT count(*) FROM commitments_assessment WHERE commitment_id = %(commitment)s),
            a.*, u.username, ci.quote, ci.locator, s.title
        FROM commitments_assessment a LEFT JOIN auth_user u ON u.id = a.author_id
        LEFT JOIN commitments_citation ci ON ci.id = a.evidence_id
        LEFT JOIN commitments_source s ON s.id = ci.source_id
        WHERE a.commitment_id = %(commitment)s ORDER BY a.assessed_on DESC, a.id DESC LIMIT 100
    """,
    "compliance": """
        SELECT c.id, c.key, c.title, pa.name, r.rating, r.justification, r.assessed_on,
            ci.quote, s.title
        FROM commitments_commitment c
        JOIN LATERAL (
            SELECT c.obligor_id AS party_id
            UNION SELECT o.party_id FROM commitments_commitment_co_obligors o
            WHERE o.commitment_id = c.id
        ) bound ON true
        JOIN commitments_party pa ON pa.id = bound.party_id
        LEFT JOIN LATERAL (
            SELECT a.* FROM commitments_assessment a
            WHERE a.commitment_id = c.id AND a.party_id = bound.party_id
                AND a.assessed_on <= %(as_of)s
            ORDER BY a.assessed_on DESC, a.id DESC LIMIT 1
        ) r ON true
        LEFT JOIN commitments_citation ci ON ci.id = r.evidence_id
        LEFT JOIN commitments_source s ON s.id = ci.source_id
        WHERE c.agreement_id = %(agreement)s
        ORDER BY pa.name, c.id
    """,
    "reports": """
        SELECT r.*, (SELECT count(*) FROM commitments_reportcorrection k
                     WHERE k.report_id = r.id)
        FROM commitments_report r WHERE r.agreement_id = %(agreement)s
        ORDER BY r.cutoff DESC, r.id DESC LIMIT 100
    """,
    "report": """
        SELECT w.*, (SELECT json_agg(k ORDER BY k.id) FROM commitments_reportcorrection k
                     WHERE k.row_id = w.id)
        FROM commitments_reportrow w WHERE w.report_id = %(report)s ORDER BY w.position
    """,
    "sources": """
        SELECT (SELECT count(*) FROM commitments_source), s.id, s.key, s.title, s.publisher,
            s.url, s.language, s.kind, s.published_on, s.retrieved_on
        FROM commitments_source s ORDER BY s.published_on DESC, s.id LIMIT 100
    """,
    "progress": """
        SELECT (SELECT count(*) FROM commitments_progressupdate), p.*, u.username,
            o.sequence, ci.quote, s.title
        FROM commitments_progressupdate p LEFT JOIN auth_user u ON u.id = p.author_id
        LEFT JOIN commitments_occurrence o ON o.id = p.occurrence_id
        LEFT JOIN commitments_citation ci ON ci.id = p.evidence_id
        LEFT JOIN commitments_source s ON s.id = ci.source_id
        ORDER BY p.occurred_on DESC, p.id DESC LIMIT 100
    """,
}


def world_extend(*, occurrences: int, ratings: int) -> dict[str, Any]:
    """Add, through the services, what the endpoints read beyond bench/api.py's rows."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from commitments.models import Agreement, Commitment, Party, Source
    from commitments.services import commitments as svc
    from commitments.services.assessments import assessment_record
    from commitments.services.reports import report_correct, report_freeze
    from commitments.services.revisions import revision_create
    from core.roles import EDITORS

    agreement = Agreement.objects.get(key="bench")
    japan, source = Party.objects.get(key="japan"), Source.objects.get(key="bench")
    editor = get_user_model().objects.create_user(username="bench-editor", password=None)
    editor.groups.add(Group.objects.get(name=EDITORS))
    recurring = svc.commitment_create(
        agreement=agreement,
        obligor=japan,
        key="bench-recurring",
        title="Purchases every month",
        category="purchase",
        deadline_kind="relative",
        offset_amount=1,
        offset_unit="months",
        anchor_kind="agreement",
        target_amount=1000,
        target_unit="USD",
        recurrence="every",
        recurrence_interval=1,
        recurrence_unit="months",
        recurrence_count=occurrences,
    )
    rated = Commitment.objects.filter(agreement=agreement).order_by("id")[0]
    for day in range(ratings):
        assessment_record(
            commitment=rated,
            party=Party.objects.get(pk=rated.obligor_id),
            rating="in_the_works" if day % 2 else "stalled",
            justification=f"Rating {day}",
            assessed_on=agreement.date + dt.timedelta(days=day + 1),
            user=editor,
        )
    revised = Commitment.objects.filter(agreement=agreement, recurrence="none").order_by("-id")[0]
    revision_create(
        commitment=revised,
        kind="extended",
        new_due_date=(revised.due_date or agreement.date) + dt.timedelta(days=90),
        reason="More time was agreed.",
        evidence_source=source,
        evidence_quote="The parties agreed to extend the deadline.",
        user=editor,
    )
    cutoff = agreement.date + dt.timedelta(days=ratings + 1)
    report_freeze(agreement=agreement, title="Interim", cutoff=cutoff, user=editor)
    report = report_freeze(agreement=agreement, title="Final", cutoff=cutoff, user=editor)
    row = report.rows.order_by("position").first()
    report_correct(
        report=report,
        row=row,
        field="justification",
        new_value="Corrected.",
        note="A typo.",
        user=editor,
    )
    Agreement.objects.filter(pk=agreement.pk).update(publication_state="published")
    with psycopg.connect(_libpq(os.environ["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute("ANALYZE")
    return {
        "agreement": agreement.pk,
        "commitment": rated.pk,
        "recurring": recurring.pk,
        "revised": revised.pk,
        "report": report.pk,
        "as_of": cutoff.isoformat(),
    }


def _rows(kind: str, body: Any) -> int:
    """The number of rows an endpoint's answer holds, as its SQL counts them."""
    if kind == "detail":
        return 1
    if kind == "compliance":
        return sum(len(party["rows"]) for party in body["parties"])
    if kind == "report":
        return len(body["rows"])
    if kind == "reports":
        return len(body["results"] if isinstance(body, dict) else body)
    return len(body["results"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--occurrences", type=int, default=240)
    parser.add_argument("--ratings", type=int, default=150)
    parser.add_argument("--requests", type=int, default=30, help="in-process requests each")
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server: postgres://user@host:port/db")
    django_url = _with_database(server_url, args.database, "conn_max_age=600")
    dsn = _libpq(_with_database(server_url, args.database))
    os.environ.update(
        DATABASE_URL=django_url, DJANGO_DEBUG="false", API_THROTTLE_RATE_TOKEN=UNTHROTTLED
    )
    os.environ["API_THROTTLE_RATE_ANON"] = UNTHROTTLED
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    database_create(server_url, args.database)
    try:
        key = data_load(args.rows)
        ids = world_extend(occurrences=args.occurrences, ratings=args.ratings)
        measure(key, dsn, ids, args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database_drop(server_url, args.database)


def measure(key: str, dsn: str, ids: dict[str, Any], requests: int) -> None:
    """Time each endpoint and its SQL in turn, in this process; print a line each."""
    from django.conf import settings
    from django.test import Client

    from commitments.api.views import _redact
    from commitments.visibility import NOT_PUBLIC_FIELDS

    settings.API_PUBLIC_READ = True
    viewer = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_HOST="127.0.0.1")
    anonymous = Client(HTTP_HOST="127.0.0.1")
    agreement, commitment = ids["agreement"], ids["commitment"]
    api = "/api/v1"
    lines: list[tuple[str, str, Client, str]] = [
        ("commitment list, anonymous (API_PUBLIC_READ)", f"{PATH}?{QUERY}", anonymous, "page"),
        (
            "commitment detail (revisions, stages)",
            f"{api}/commitments/{ids['revised']}/",
            viewer,
            "detail",
        ),
        (
            "recurring commitment detail (occurrences)",
            f"{api}/commitments/{ids['recurring']}/",
            viewer,
            "detail",
        ),
        (
            "occurrences, a page of 100",
            f"{api}/commitments/{ids['recurring']}/occurrences/?page_size=100",
            viewer,
            "occurrences",
        ),
        (
            "assessments (rating history), a page of 100",
            f"{api}/commitments/{commitment}/assessments/?page_size=100",
            viewer,
            "assessments",
        ),
        (
            "compliance as of a date",
            f"{api}/agreements/{agreement}/compliance/?as_of={ids['as_of']}",
            viewer,
            "compliance",
        ),
        ("reports", f"{api}/agreements/{agreement}/reports/", viewer, "reports"),
        (
            "report with corrections",
            f"{api}/agreements/{agreement}/reports/{ids['report']}/",
            viewer,
            "report",
        ),
        ("sources, a page of 100", f"{api}/sources/?page_size=100", viewer, "sources"),
        (
            "progress updates, a page of 100",
            f"{api}/progress-updates/?page_size=100",
            viewer,
            "progress",
        ),
    ]
    params = {**ids, "commitment": commitment}
    print(f"\nin process, median of {requests} requests each (ours) and of the SQL (baseline)")
    print(f"    {'endpoint':48} {'ours ms':>9} {'SQL ms':>9} {'ratio':>7}  rows ours/SQL")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, url, client, kind in lines:
            first = client.get(url)
            if first.status_code != 200:
                raise SystemExit(f"{url} answered {first.status_code}: {first.content[:300]!r}")
            body = json.loads(first.content)
            baseline: Callable[[], Any]
            if kind == "page":
                base_body = json.loads(
                    baseline_page(
                        conn, base="http://127.0.0.1", state=STATE, page_size=PAGE_SIZE, page=1
                    )
                )
                # What an anonymous reader is not shown, blanked as the API blanks it.
                _redact(base_body, NOT_PUBLIC_FIELDS)
                _same_page(body, base_body)
                ours_rows, base_rows = len(body["results"]), len(base_body["results"])
                baseline = lambda: baseline_page(  # noqa: E731
                    conn, base="http://127.0.0.1", state=STATE, page_size=PAGE_SIZE, page=1
                )
            else:
                if kind == "detail":
                    params["commitment"] = int(url.rstrip("/").rsplit("/", 1)[1])
                else:
                    params["commitment"] = ids["recurring"] if kind == "occurrences" else commitment
                sql, values = SQL[kind], dict(params)
                base_rows = len(conn.execute(sql, values).fetchall())
                ours_rows = _rows(kind, body)
                baseline = lambda sql=sql, values=values: conn.execute(  # noqa: E731
                    sql, values
                ).fetchall()
            timings: dict[str, list[float]] = {"ours": [], "baseline": []}
            calls = {"ours": lambda url=url, client=client: client.get(url), "baseline": baseline}
            for _ in range(3):
                for call in calls.values():
                    call()
            for _ in range(requests):
                for side, call in calls.items():
                    started = time.perf_counter()
                    call()
                    timings[side].append((time.perf_counter() - started) * 1000)
            ours, base = statistics.median(timings["ours"]), statistics.median(timings["baseline"])
            agree = "" if ours_rows == base_rows else "  ROW COUNTS DIFFER"
            print(
                f"    {name:48} {ours:9.2f} {base:9.2f} {ours / base:6.2f}x  "
                f"{ours_rows}/{base_rows}{agree}"
            )


if __name__ == "__main__":
    main()
