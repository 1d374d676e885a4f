"""The bench scripts stay runnable (issue 16 measures with them).

They had rotted unseen: a domain import that read the settings before the script had set
them up, a generator that no longer fitted the schema, and a script named ``public.py``
that shadowed a library module for every script beside it. These checks are cheap; running
each bench at full size is not a test (see the README's bench table).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "bench").glob("*.py"))


def test_there_are_bench_scripts():
    assert {path.stem for path in SCRIPTS} >= {"api", "dashboard", "load", "scan", "outbox"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_no_bench_script_shadows_an_installed_module(script):
    """A script's directory comes first on ``sys.path`` when it runs, so a script named like
    an installed module replaces it for the libraries that import it (aiosmtpd imports
    ``public``). The project's own apps are imported from the root, which the scripts put
    first."""
    saved = list(sys.path)
    try:
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != script.parent]
        spec = importlib.util.find_spec(script.stem)
    finally:
        sys.path[:] = saved
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    assert spec is None or (origin is not None and ROOT in origin.parents), (
        f"bench/{script.name} shadows the installed module {script.stem} ({origin})"
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_each_bench_script_starts(script):
    """``--help`` imports the script and everything it imports at the top."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout


def _generator():
    """Return ``bench/scan.py`` as a module (its ``build`` writes the generated rows)."""
    spec = importlib.util.spec_from_file_location("bench_scan", ROOT / "bench" / "scan.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db(transaction=False)
def test_the_shared_generator_fits_the_schema():
    """``bench/scan.py``'s generator (bench/dashboard.py, bench/load.py and bench/outbox.py
    build on it) writes its rows by SQL: a new column without a default breaks it."""
    if connection.vendor != "postgresql":
        pytest.skip("the generator writes PostgreSQL; CI runs the suite on PostgreSQL")
    _generator().build(60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM commitments_commitment")
        assert cursor.fetchone()[0] == 60
        cursor.execute("SELECT count(*) FROM alerts_subscription")
        assert cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=False)
def test_the_shared_generator_stores_deadlines_as_the_services_do():
    """A generated row's computed deadline fields are those the services would store: left
    otherwise, the first write of a benchmark to each row recomputes them and rescans it,
    which real rows never do, and the benchmark measures that instead."""
    if connection.vendor != "postgresql":
        pytest.skip("the generator writes PostgreSQL; CI runs the suite on PostgreSQL")
    from commitments.models import Commitment
    from commitments.services.deadlines import commitment_apply_rule

    _generator().build(60)
    commitments = list(Commitment.objects.select_related("agreement").order_by("pk"))
    assert {c.deadline_kind for c in commitments} == {"fixed", "none"}
    for commitment in commitments:
        assert commitment_apply_rule(commitment=commitment) == [], commitment.key
