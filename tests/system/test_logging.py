"""Log lines: one JSON object each in production, tagged with the request, free of secrets."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.services import api_token_create
from tracker.logging import JsonFormatter, RequestIdFilter, request_id

LOGIN_PASSWORD = "Correct-Horse-Battery-9917"
WRONG_PASSWORD = "Wrong-Horse-Battery-4471"
BAD_TOKEN = "not-a-token-but-secret-looking-4f9a1c"


def make_record(message: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("tracker.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_record_renders_as_one_json_object_on_one_line():
    # Outside any request (a fresh context: an earlier test's request may have set the id
    # in this thread's context without a response to close it).
    line = contextvars.Context().run(
        JsonFormatter().format, make_record("Scanned %d commitments\nin %s", 12, "0.3 s")
    )

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "tracker.test"
    assert entry["message"] == "Scanned 12 commitments\nin 0.3 s"
    assert entry["request_id"] == "-"
    assert entry["time"].endswith("+00:00")


def test_an_exception_is_kept_in_the_same_object():
    try:
        raise ValueError("boom")
    except ValueError:
        line = JsonFormatter().format(make_record("failed", exc_info=sys.exc_info()))

    entry = json.loads(line)
    assert "ValueError: boom" in entry["exception"]


def test_the_json_format_is_chosen_by_the_environment_and_plain_is_the_local_default():
    config: dict[str, Any] = settings.LOGGING
    assert config["formatters"]["json"]["()"] == "tracker.logging.JsonFormatter"
    handler = config["handlers"]["console"]
    expected = "json" if settings.LOG_FORMAT == "json" else "plain"
    assert handler["formatter"] == expected


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    caplog.handler.addFilter(RequestIdFilter())  # as the console handler in settings has

    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-1234")

    assert response["X-Request-ID"] == "req-1234"
    record = next(r for r in caplog.records if r.name == "django.request")
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-1234"
    assert request_id.get() == "-"


@pytest.mark.django_db
def test_a_forged_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level": "ERROR"}')
    assert len(response["X-Request-ID"]) == 32
    assert "\n" not in response["X-Request-ID"]


@pytest.mark.django_db
def test_no_secret_reaches_the_logs_of_failed_logins_and_bad_tokens(
    client, editor, caplog, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    editor.set_password(LOGIN_PASSWORD)
    editor.save(update_fields=["password"])
    _token, key = api_token_create(user=editor, name="logs", now=timezone.now())
    caplog.set_level(logging.DEBUG)

    client.post("/accounts/login/", {"username": "editor", "password": WRONG_PASSWORD})
    client.post("/admin/login/", {"username": "editor", "password": WRONG_PASSWORD})
    client.post("/accounts/login/", {"username": "editor", "password": LOGIN_PASSWORD})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {BAD_TOKEN}")
    assert api.get("/api/v1/commitments/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/commitments/999999/").status_code == 404

    assert caplog.records, "nothing was logged, so the check below would prove nothing"
    formatter = JsonFormatter()
    logged = caplog.text + "".join(formatter.format(r) for r in caplog.records)
    for secret in (LOGIN_PASSWORD, WRONG_PASSWORD, BAD_TOKEN, key, settings.SECRET_KEY):
        assert secret not in logged
