"""``/healthz``: is this web process able to reach the database and the broker?

The sections the apps register with ``on_healthz`` (the deadline scan's freshness) are
reported, not enforced: a stale beat is a page for an operator, not a reason for a load
balancer to take the web process out of rotation.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import broker_ok, database_ok, health_sections


def _reported(section: Any) -> dict[str, Any]:
    try:
        return section.report(timezone.now())
    except Exception as exc:  # reported, never fatal: the database check names the cause
        return {"state": "unknown", "error": type(exc).__name__}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, else 503 naming what failed.

    ``beat`` reports the deadline scan's freshness and never changes the status code.
    """
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(ok for ok, _detail in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "unavailable"}
    body.update({name: detail for name, (_ok, detail) in checks.items()})
    body.update(
        (section.name, _reported(section)) for section in health_sections() if section.on_healthz
    )
    return JsonResponse(body, status=200 if healthy else 503)
