"""Benchmark the dashboard's pages of issues 12–14 against the SQL that reads their data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_bench_pages \
        .venv/bin/python bench/pages.py --rows 100000 --repeat 15

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its data with
generated rows (``bench/scan.py``'s generator, then the additions below). Point it at a
scratch database.

On top of ``--rows`` generated commitments (``--rows / 1000`` agreements, so 1,000 commitments
in each at 100k) it writes, with ``INSERT ... SELECT``:

* one recurring commitment (its agreement is "the agreement" below) with 120 occurrences,
  50 deadline revisions (each with its evidence), three co-obligors, six ratings for each
  of its four obligors, 40 progress updates (half on an occurrence) and five links
  to other commitments;
* three ratings for every other commitment of the agreement, and a report frozen from them;
* a source of 400 paragraphs (about 200 kB of text) with 200 placed citations.

Then, as a logged-in superuser (an editor), it asks each page ``--repeat`` times through
Django's test client: the commitment page, the occurrence page, the revise and rating forms,
the report's freeze (POST, rolled back each time), detail (from its cache, and rendered
afresh with the cache emptied first) and CSV and PDF downloads, the workbench and its htmx
deadline preview, the source list and detail, and the commitment list (first page, filtered,
and a deep page). Its baseline is the SQL the page ran: the statements
captured from one request, replayed through a cursor (each result fetched) the same number of
times in the same process, so the ratio is what Django, the views and the templates add on
top of the database's own work. The query count is shown beside it (``tests/dashboard/
test_query_budgets_pages.py`` holds each page to a constant count).

It prints, per page: median and p95 milliseconds, the SQL baseline's median, the number of
queries, the ratio (page / SQL), the 1.5x target and whether it is met. The PDF is rendered by
WeasyPrint: its ratio measures typesetting, which no query plan can match; it is reported,
not targeted, and run ``--pdf-repeat`` times only.
"""

from __future__ import annotations

import argparse
import re
import statistics
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from scan import (  # bench/scan.py: the shared data generator; sets Django up
    build,
    execute,
    p95,
    timed,
)

TARGET = 1.5
UNTARGETED = {"report PDF"}


def scalar(sql: str, params: list | dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def enrich() -> dict[str, int]:
    """Write the commitment, ratings, report and source the pages show; return their ids."""
    from commitments.models import Agreement
    from commitments.services.reports import report_freeze

    commitment = scalar("SELECT min(id) FROM commitments_commitment WHERE recurrence = 'every'")
    agreement = scalar(
        "SELECT agreement_id FROM commitments_commitment WHERE id = %s", [commitment]
    )
    params = {"c": commitment, "a": agreement}
    execute(
        "INSERT INTO commitments_occurrence (commitment_id, sequence, due_date, due_at,"
        " status, deadline_state, deadline_suspended, created, updated)"
        " SELECT c.id, k, o.due, ((o.due + 1)::timestamp AT TIME ZONE a.time_zone)"
        " - interval '1 microsecond', CASE WHEN k %% 7 = 0 THEN 'fulfilled' ELSE"
        " 'not_started' END, 'none', false, now(), now()"
        " FROM commitments_commitment c JOIN commitments_agreement a ON a.id = c.agreement_id"
        " CROSS JOIN generate_series(13, 120) k"
        " CROSS JOIN LATERAL (SELECT (c.original_due_date + make_interval(months => k - 1))::date"
        " AS due) o WHERE c.id = %(c)s",
        params,
    )
    execute("UPDATE commitments_commitment SET recurrence_count = 120 WHERE id = %(c)s", params)
    execute(
        "INSERT INTO commitments_source (key, title, publisher, url, language, published_on,"
        " kind, text, original, original_name, content_type, sha256, created, updated)"
        " SELECT 'bench-long', 'A long communiqué', 'Bench', 'https://example.org/long', 'en',"
        " DATE '2024-01-02', 'press', string_agg('Paragraph ' || g || ': the parties shall '"
        " || repeat('hold the meeting and report on the outcome ', 11) || 'by 31 March 2027.',"
        " E'\\n\\n' ORDER BY g), '', '', '', '', now(), now() FROM generate_series(1, 400) g"
    )
    source = scalar("SELECT id FROM commitments_source WHERE key = 'bench-long'")
    params["s"] = source
    # 200 citations on the long text: one every other paragraph, each quoting its opening.
    execute(
        "INSERT INTO commitments_citation (source_id, commitment_id, quote, translation,"
        ' translation_language, locator, start, "end", created, updated)'
        " SELECT %(s)s, c.id, substr(s.text, p.start + 1, 60), '', '', 'para. ' || p.n,"
        " p.start, p.start + 60, now(), now()"
        " FROM commitments_source s"
        " CROSS JOIN LATERAL (SELECT n, (n - 1) * (length(s.text) + 2) / 400 AS start"
        " FROM generate_series(1, 400, 2) n) p"
        " JOIN LATERAL (SELECT id FROM commitments_commitment WHERE agreement_id = %(a)s"
        " ORDER BY id OFFSET (p.n / 2) %% 100 LIMIT 1) c ON true"
        " WHERE s.id = %(s)s",
        params,
    )
    # 50 revisions, each with its own evidence.
    execute(
        "INSERT INTO commitments_citation (source_id, commitment_id, quote, translation,"
        " translation_language, locator, created, updated)"
        " SELECT %(s)s, %(c)s, 'Revision evidence ' || g, '', '', 'p. ' || g, now(), now()"
        " FROM generate_series(1, 50) g",
        params,
    )
    execute(
        "INSERT INTO commitments_deadlinerevision (commitment_id, kind, revised_on,"
        " old_due_date, old_precision, new_due_date, new_precision, reason, evidence_id, created)"
        " SELECT %(c)s, 'extended', DATE '2024-01-01' + (row_number() OVER (ORDER BY ci.id))::int,"
        " c.due_date, 'day', c.due_date, 'day', 'Bench revision', ci.id, now()"
        " FROM commitments_citation ci JOIN commitments_commitment c ON c.id = ci.commitment_id"
        " WHERE ci.commitment_id = %(c)s AND ci.quote LIKE 'Revision evidence %%'",
        params,
    )
    execute(
        "INSERT INTO commitments_commitment_co_obligors (commitment_id, party_id)"
        " SELECT %(c)s, p.id FROM commitments_party p"
        " WHERE p.id <> (SELECT obligor_id FROM commitments_commitment WHERE id = %(c)s)"
        " ORDER BY p.id LIMIT 3",
        params,
    )
    execute(
        "INSERT INTO commitments_assessment (commitment_id, party_id, rating, assessed_on,"
        " justification, created, current, reviewed_on, review_due)"
        " SELECT %(c)s, o.party_id,"
        " (ARRAY['in_the_works', 'stalled', 'not_verifiable'])[1 + k %% 3],"
        " DATE '2024-01-01' + 30 * k, 'Rating ' || k, now(), k = 6, DATE '2024-01-01' + 30 * k,"
        " false FROM (SELECT obligor_id AS party_id FROM commitments_commitment WHERE id = %(c)s"
        " UNION SELECT party_id FROM commitments_commitment_co_obligors"
        " WHERE commitment_id = %(c)s) o CROSS JOIN generate_series(1, 6) k",
        params,
    )
    execute(
        "INSERT INTO commitments_progressupdate (commitment_id, occurrence_id, occurred_on,"
        " status_from, status_to, note, created, author_id, evidence_id)"
        " SELECT %(c)s, CASE WHEN g %% 2 = 0 THEN o.id END, DATE '2024-01-01' + 10 * g, '', '',"
        " 'Progress note ' || g, now(), (SELECT min(id) FROM auth_user),"
        " (SELECT min(id) FROM commitments_citation WHERE commitment_id = %(c)s)"
        " FROM generate_series(1, 40) g LEFT JOIN commitments_occurrence o"
        " ON o.commitment_id = %(c)s AND o.sequence = g",
        params,
    )
    execute(
        "INSERT INTO commitments_commitmentrelation (from_commitment_id, to_commitment_id, kind)"
        " SELECT %(c)s, id, 'related' FROM commitments_commitment"
        " WHERE agreement_id = %(a)s AND id <> %(c)s ORDER BY id LIMIT 5",
        params,
    )
    # Three ratings for each commitment of the agreement (the compliance table and report).
    execute(
        "INSERT INTO commitments_assessment (commitment_id, party_id, rating, assessed_on,"
        " justification, created, current, reviewed_on, review_due)"
        " SELECT c.id, c.obligor_id, r.rating, r.day, 'Generated rating ' || r.n, now(),"
        " r.n = 3, r.day, false FROM commitments_commitment c"
        " CROSS JOIN (VALUES (1, 'in_the_works', DATE '2024-02-01'),"
        " (2, 'stalled', DATE '2024-03-01'), (3, 'not_verifiable', DATE '2024-04-01'))"
        " AS r(n, rating, day) WHERE c.agreement_id = %(a)s AND c.id <> %(c)s",
        params,
    )
    execute("ANALYZE")
    report = report_freeze(
        agreement=Agreement.objects.get(pk=agreement),
        title="Bench report",
        cutoff=scalar("SELECT date FROM commitments_agreement WHERE id = %s", [agreement]).replace(
            year=2025
        ),
    )
    execute("ANALYZE commitments_reportrow")
    return {"agreement": agreement, "commitment": commitment, "source": source, "report": report.pk}


class Rollback(Exception):
    """Raised to undo what a timed write did."""


def rolled_back(action: Callable[[], object]) -> Callable[[], None]:
    """Return ``action`` run in a transaction that is always rolled back."""

    def run() -> None:
        try:
            with transaction.atomic():
                action()
                raise Rollback
        except Rollback:
            pass

    return run


def pages(ids: dict[str, int], client: Client) -> dict[str, tuple[Callable[[], object], bool]]:
    """Return each page's request, and whether it writes (then it runs rolled back)."""
    from commitments.models import Commitment

    c, a, s, r = ids["commitment"], ids["agreement"], ids["source"], ids["report"]
    obligor = Commitment.objects.get(pk=c).obligor_id
    deep = max(1, Commitment.objects.count() // 25 - 10)

    def get(url: str) -> Callable[[], object]:
        def request() -> object:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            return response

        return request

    def uncached(request: Callable[[], object]) -> Callable[[], object]:
        """Return ``request`` made with the cache emptied first: the report rendered afresh."""

        def cold() -> object:
            cache.clear()
            return request()

        return cold

    def post(url: str, data: dict[str, str], expect: int) -> Callable[[], object]:
        def request() -> object:
            response = client.post(url, data)
            if response.status_code != expect:
                raise SystemExit(f"POST {url} answered {response.status_code}")
            return response

        return request

    return {
        "commitment": (get(reverse("dashboard:commitment", args=[c])), False),
        "occurrence": (get(reverse("dashboard:occurrence", args=[c, 30])), False),
        "revise form": (get(reverse("dashboard:commitment_revise", args=[c])), False),
        "rating form": (get(reverse("dashboard:commitment_rate", args=[c])), False),
        "report freeze (POST)": (
            post(
                reverse("dashboard:report_freeze", args=[a]),
                {"title": "Bench freeze", "cutoff": "2025-01-01"},
                302,
            ),
            True,
        ),
        "report detail": (get(reverse("dashboard:report", args=[a, r])), False),
        "report detail, uncached": (uncached(get(reverse("dashboard:report", args=[a, r]))), False),
        "report CSV": (get(reverse("dashboard:report_csv", args=[a, r])), False),
        "report PDF": (get(reverse("dashboard:report_pdf", args=[a, r])), False),
        "workbench": (get(reverse("dashboard:workbench", args=[s]) + f"?agreement={a}"), False),
        "workbench preview (POST)": (
            post(
                reverse("dashboard:workbench_preview", args=[s]),
                {
                    "agreement": str(a),
                    "prefix": "c-0",
                    "c-0-deadline_kind": "fixed",
                    "c-0-deadline_date": "2027-03-31",
                },
                200,
            ),
            False,
        ),
        "source list": (get(reverse("dashboard:sources")), False),
        "source detail": (get(reverse("dashboard:source", args=[s])), False),
        "commitment list": (get(reverse("dashboard:commitments")), False),
        "commitment list, filtered": (
            get(reverse("dashboard:commitments") + f"?obligor={obligor}&status=not_started"),
            False,
        ),
        f"commitment list, page {deep}": (
            get(reverse("dashboard:commitments") + f"?page={deep}"),
            False,
        ),
    }


#: A server-side cursor's declaration, as Django's ``iterator()`` runs it on PostgreSQL.
DECLARE = re.compile(r'^DECLARE "[^"]+" .*? CURSOR .*?FOR ', re.DOTALL)


def replay(statements: list[str]) -> Callable[[], None]:
    """Return a run of ``statements`` through a cursor, each result fetched.

    A query the page read through a server-side cursor is run as the plain query (fetching
    everything at once is what the cursor's batches add up to).
    """
    statements = [DECLARE.sub("", sql, count=1) for sql in statements]

    def run() -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pdf-repeat", type=int, default=3, help="runs of the PDF (slow)")
    parser.add_argument("--skip-build", action="store_true", help="reuse the data of a last run")
    parser.add_argument("--only", default="", help="time only the pages whose name holds this")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/pages.py needs DATABASE_URL pointing at PostgreSQL")

    call_command("migrate", verbosity=0)
    if args.skip_build:
        from commitments.models import Report

        report = Report.objects.get(title="Bench report")
        ids = {
            "agreement": report.agreement_id,
            "report": report.pk,
            "source": scalar("SELECT id FROM commitments_source WHERE key = 'bench-long'"),
            "commitment": scalar(
                "SELECT commitment_id FROM commitments_deadlinerevision"
                " WHERE reason = 'Bench revision' LIMIT 1"
            ),
        }
    else:
        build(args.rows)
        ids = enrich()
    editor, _ = get_user_model().objects.get_or_create(
        username="bench-editor", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(editor)

    rows = scalar("SELECT count(*) FROM commitments_commitment")
    print(f"\n{rows} commitments; {args.repeat} runs each; target: page <= {TARGET}x its SQL")
    header = (
        f"{'page':<30} {'median ms':>9} {'p95 ms':>8} {'SQL ms':>8} {'queries':>7}"
        f" {'x SQL':>6} {'target':>6}  met"
    )
    print(header)
    print("-" * len(header))
    met_all = True
    for name, (request, writes) in pages(ids, client).items():
        if args.only and args.only not in name:
            continue
        action = rolled_back(request) if writes else request
        action()  # warm caches and templates
        with CaptureQueriesContext(connection) as captured:
            action()
        statements = [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
        ]
        sql = replay(statements)
        repeat = args.pdf_repeat if "PDF" in name else args.repeat
        baseline = timed(rolled_back(sql) if writes else sql, repeat)
        samples = timed(action, repeat)
        ratio = statistics.median(samples) / statistics.median(baseline)
        targeted = name not in UNTARGETED
        met = ratio <= TARGET
        met_all = met_all and (met or not targeted)
        print(
            f"{name:<30} {statistics.median(samples) * 1000:>9.1f} {p95(samples) * 1000:>8.1f}"
            f" {statistics.median(baseline) * 1000:>8.1f} {len(statements):>7}"
            f" {ratio:>6.2f} {TARGET if targeted else '-':>6}"
            f"  {('yes' if met else 'NO') if targeted else 'n/a'}"
        )
    print(f"\nevery targeted page within {TARGET}x its SQL: {'yes' if met_all else 'NO'}")


if __name__ == "__main__":
    main()
