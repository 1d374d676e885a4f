"""Health checks: the generic probes, and the sections each app registers in its ``ready()``.

``/healthz`` and ``manage.py celery_health`` read the registry, so an app that keeps a queue
or a periodic job reports it without the project naming its models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.db import connection
from django.db.models import Count, Min, QuerySet


@dataclass(frozen=True)
class HealthSection:
    """One part of ``celery_health``'s report, contributed by the app that owns it.

    ``report`` returns a JSON-ready dict for an instant; ``line`` renders it as one line of
    text; ``problems`` names what in it must make the command exit 1. With ``on_healthz`` the
    section is also shown by ``/healthz``, where it never changes the status code.
    """

    name: str
    report: Callable[[dt.datetime], dict[str, Any]]
    line: Callable[[dict[str, Any]], str]
    problems: Callable[[dict[str, Any]], list[str]] = lambda report: []
    on_healthz: bool = False


_sections: dict[str, HealthSection] = {}


def health_register(section: HealthSection) -> None:
    """Add ``section`` to the report; registering a name again replaces it (a reload)."""
    _sections[section.name] = section


def health_sections() -> list[HealthSection]:
    """Return the registered sections in the order they were registered."""
    return list(_sections.values())


def database_ok() -> tuple[bool, str]:
    """Return whether the database answers, and ``"ok"`` or the error's class name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return False, type(exc).__name__
    return True, "ok"


def broker_ok() -> tuple[bool, str]:
    """Return whether the Celery broker accepts a connection, and ``"ok"`` or the error."""
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return False, type(exc).__name__
    return True, "ok"


def workers_ping(*, timeout: float) -> dict[str, Any]:
    """Return the names of the Celery workers that answer a ping within ``timeout`` seconds.

    ``state`` is ``"ok"``, ``"none"`` when no worker answered, or ``"unknown"`` with the
    ``error`` when the ping could not be sent (the broker is down): an outage either way.
    """
    try:
        replies = current_app.control.ping(timeout=timeout) or []
    except Exception as exc:  # a transport without broadcast, or a broker that is down
        return {"state": "unknown", "error": type(exc).__name__, "names": []}
    names = sorted(name for reply in replies for name in reply)
    return {"state": "ok" if names else "none", "names": names}


def workers_problems(report: dict[str, Any]) -> list[str]:
    """Name the outage in a ``workers_ping`` report: no worker answered, or none could be asked."""
    if report["state"] == "none":
        return ["no worker answered"]
    if report["state"] == "unknown":
        return [f"no worker could be asked: the broker is unreachable ({report['error']})"]
    return []


def queue_health(
    rows: QuerySet[Any], *, now: dt.datetime, pending: str, failed: str
) -> dict[str, Any]:
    """Return how many ``rows`` wait, how long the oldest has waited, and how many failed."""
    waiting = rows.filter(state=pending).aggregate(count=Count("id"), oldest=Min("created"))
    oldest = waiting["oldest"]
    return {
        "pending": waiting["count"],
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else None,
        "failed": rows.filter(state=failed).count(),
    }


def queue_line(label: str) -> Callable[[dict[str, Any]], str]:
    """Return the renderer of a ``queue_health`` report as one line starting with ``label``."""

    def line(queue: dict[str, Any]) -> str:
        oldest = queue["oldest_pending_seconds"] if queue["pending"] else "-"
        return f"{label}: {queue['pending']} pending (oldest {oldest} s), {queue['failed']} failed"

    return line


def celery_health(*, now: dt.datetime, ping_timeout: float = 2.0) -> dict[str, Any]:
    """Return the workers and every registered section, for operators."""
    report: dict[str, Any] = {"workers": workers_ping(timeout=ping_timeout)}
    for section in health_sections():
        report[section.name] = section.report(now)
    return report


def celery_health_problems(report: dict[str, Any]) -> list[str]:
    """Return what in a ``celery_health`` report must page an operator."""
    problems = workers_problems(report["workers"])
    for section in health_sections():
        problems.extend(section.problems(report[section.name]))
    return problems
