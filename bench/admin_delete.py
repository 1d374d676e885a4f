"""Benchmark the admin's deletion of an agreement with many commitments against its SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_h5_bench .venv/bin/python \\
        bench/admin_delete.py --commitments 1000

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its agreements,
commitments and everything hanging from them with generated data. Point it at a scratch
database.

It builds one agreement whose first two commitments are made through the services (one
recurring with its occurrences; each with a citation, a rating, their history rows), then
copies those commitments' rows up to ``--commitments`` (every row that points at them, as
Django's deletion collector finds them). No deadline revision: a revision's evidence citation
is protected (``on_delete=PROTECT``), so an agreement with a revised commitment cannot be
deleted at all; its confirmation page lists what protects it instead. Then, as a superuser
through the test client:

* ``confirm``: GET of the admin's delete confirmation page of the agreement, against
  ``SQL confirm``: one ``count(*)`` per table of the rows the deletion would remove;
* ``delete``: POST of the confirmation (the agreement and everything under it deleted), against
  ``SQL delete``: the same rows deleted by hand-written ``DELETE`` statements, in a transaction
  rolled back (run first, on the same data).

The target (issue #16) is at most 2 s for the confirmation page of 1,000 commitments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
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
from django.db.models.deletion import Collector  # noqa: E402

TARGET_SECONDS = 2.0


def execute(sql: str, params: list | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else cursor.rowcount


def build(count: int) -> Any:
    """Replace the domain data with one agreement of ``count`` commitments; return it."""
    from django.contrib.auth import get_user_model

    from commitments.services.assessments import assessment_record
    from tests import factories

    tables = [
        row[0]
        for row in execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND (tablename LIKE 'commitments\\_%%' OR tablename LIKE 'alerts\\_%%'"
            " OR tablename LIKE 'webhooks\\_%%') AND tablename NOT LIKE '%%importrun%%'"
        )
    ]
    execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    model = get_user_model()
    user = model.objects.filter(username="bench").first() or model.objects.create_superuser(
        username="bench",
        password="bench",  # noqa: S106
        email="b@example.org",
    )
    japan = factories.party_make(key="japan", name="Japon")
    usa = factories.party_make(key="usa", name="États-Unis")
    agreement = factories.agreement_make(parties=[japan, usa], key="big-agreement")
    source = factories.source_make(key="statement")
    recurring = factories.recurring_commitment_make(
        agreement=agreement, obligor=japan, key="c-0", title="Achats annuels"
    )
    revised = factories.commitment_make(
        agreement=agreement, obligor=japan, key="c-1", title="Réunion ministérielle"
    )
    for template in (recurring, revised):
        factories.citation_make(source=source, commitment=template)
        assessment_record(
            commitment=template,
            party=japan,
            rating="stalled",
            justification="Les achats suivent le calendrier.",
            user=user,
            now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        )
    rows: dict[Any, list[Any]] = {}
    for number, template in enumerate((recurring, revised)):
        _copies(template, range(2 + number, count, 2), rows)
    for m, objs in rows.items():
        m.objects.bulk_create(objs, batch_size=1000)
    execute("ANALYZE")
    found = {m.__name__: len(objs) for m, objs in rows.items()}
    print(f"copied rows per model: {found}")
    return agreement, user


def _copies(template: Any, numbers: range, rows: dict[Any, list[Any]]) -> None:
    """Copy the template and every row pointing at it (first level), once per number."""
    from commitments.models import Commitment

    template.refresh_from_db()
    collector = Collector(using="default")
    collector.collect([template])
    related = {m: list(objs) for m, objs in collector.data.items() if m is not Commitment}
    copies = []
    for n in numbers:
        copy = Commitment.objects.get(pk=template.pk)
        copy.pk = None
        copy.key, copy.title = f"c-{n}", f"{template.title} {n}"
        copies.append(copy)
    Commitment.objects.bulk_create(copies, batch_size=500)
    history = list(Commitment.history.filter(id=template.pk))
    for copy in copies:
        for record in history:
            clone = _clone(record)
            clone.history_id, clone.id = None, copy.pk
            rows.setdefault(type(record), []).append(clone)
        for m, objs in related.items():
            fks = [
                f
                for f in m._meta.concrete_fields
                if f.is_relation and f.related_model is Commitment
            ]
            for obj in objs:
                clone = _clone(obj)
                clone.pk = None
                for fk in fks:
                    if getattr(clone, fk.attname) == template.pk:
                        setattr(clone, fk.attname, copy.pk)
                rows.setdefault(m, []).append(clone)


def _clone(obj: Any) -> Any:
    clone = type(obj)()
    clone.__dict__.update({k: v for k, v in obj.__dict__.items() if k != "_state"})
    return clone


def sql_plan(agreement_id: int) -> list[tuple[str, str]]:
    """Return (table, where) for every table the deletion touches, leaves first."""
    from commitments.models import Agreement

    collector = Collector(using="default")
    collector.collect([Agreement.objects.get(pk=agreement_id)])
    plan = []
    for m, objs in collector.data.items():
        ids = ",".join(str(o.pk) for o in objs) or "NULL"
        plan.append((m._meta.db_table, f"{m._meta.pk.column} IN ({ids})"))
    for qs in collector.fast_deletes:
        sql, params = qs.values("pk").query.sql_with_params()
        plan.append((qs.model._meta.db_table, f"{qs.model._meta.pk.column} IN ({sql})", params))
    return plan


def sql_confirm(agreement_id: int) -> float:
    """Count the rows of every table the deletion would remove, one query each."""
    from commitments.models import Agreement

    started = time.perf_counter()
    # The collection itself, hand-written: one count per table of the cascade.
    execute(
        "SELECT (SELECT count(*) FROM commitments_commitment WHERE agreement_id = %s),"
        " (SELECT count(*) FROM commitments_citation WHERE commitment_id IN"
        "  (SELECT id FROM commitments_commitment WHERE agreement_id = %s)"
        "  OR agreement_id = %s),"
        " (SELECT count(*) FROM commitments_occurrence WHERE commitment_id IN"
        "  (SELECT id FROM commitments_commitment WHERE agreement_id = %s)),"
        " (SELECT count(*) FROM commitments_deadlinerevision WHERE commitment_id IN"
        "  (SELECT id FROM commitments_commitment WHERE agreement_id = %s)),"
        " (SELECT count(*) FROM commitments_assessment WHERE commitment_id IN"
        "  (SELECT id FROM commitments_commitment WHERE agreement_id = %s))",
        [agreement_id] * 6,
    )
    Agreement.objects.get(pk=agreement_id)
    return time.perf_counter() - started


def sql_delete(agreement_id: int) -> float:
    """Delete what the admin deletes with one DELETE per table, then roll back."""
    plan = sql_plan(agreement_id)
    started = time.perf_counter()
    with transaction.atomic():
        execute("SET CONSTRAINTS ALL DEFERRED")
        for table, where, *params in plan:
            execute(f"DELETE FROM {table} WHERE {where}", params[0] if params else None)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def line(name: str, seconds: float, base: float, target: float | None) -> None:
    verdict = ""
    if target is not None:
        verdict = f"  (target <= {target:.1f} s: {'met' if seconds <= target else 'NOT met'})"
    print(f"{name:>12}: {seconds:8.3f} s  {seconds / base:8.1f}x its SQL ({base:.3f} s){verdict}")


def main() -> None:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commitments", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="pyinstrument the confirmation")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    agreement, user = build(args.commitments)
    print(f"{args.commitments} commitments; load {os.getloadavg()}")
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's view of the template context, "testserver"
    client = Client()
    client.force_login(user)
    url = reverse("admin:commitments_agreement_delete", args=[agreement.pk])

    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
        client.get(url)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return

    base_confirm = sql_confirm(agreement.pk)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        confirm = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"the confirmation page answered {response.status_code}")
    print(f"confirmation: {len(response.content) / 1e3:.0f} kB, {len(queries)} queries")
    context = response.context or {}
    needed = sorted(str(name) for name in context.get("perms_lacking") or ())
    protected = len(context.get("protected") or ())
    print(f"  refused for want of delete permissions on: {needed}; protected: {protected}")
    # Ratings are never deleted by hand (their admin has no delete permission): without them
    # the agreement can be deleted.
    from commitments.models import Agreement, Assessment

    Assessment.objects.filter(commitment__agreement=agreement).delete()
    base_delete = sql_delete(agreement.pk)
    started = time.perf_counter()
    response = client.post(url, {"post": "yes"})
    delete = time.perf_counter() - started
    deleted = not Agreement.objects.filter(pk=agreement.pk).exists()
    print(f"delete (ratings removed first) answered {response.status_code}; deleted: {deleted}")
    line("confirm", confirm, base_confirm, TARGET_SECONDS)
    line("delete", delete, base_delete, None)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
