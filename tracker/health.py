"""``/healthz``: is this web process able to reach the database and the broker?"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return False, type(exc).__name__
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    from tracker.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return False, type(exc).__name__
    return True, "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, else 503 naming what failed."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(ok for ok, _detail in checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: detail for name, (_ok, detail) in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)
