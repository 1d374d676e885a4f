"""No secret or token in the logs: everything the tracker writes, captured where it is written.

The log lines are read from the real console handler of ``settings.LOGGING`` (its filters,
the JSON formatter production uses) and from gunicorn's access log, started as ``make run``
starts it, while the tracker handles tokens, passwords, calendar-feed secrets, webhook
secrets and errors.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from commitments import selectors
from feeds.services import calendar_feed_revoke, calendar_feed_rotate
from tests.support.security_support import PASSWORD, WEBHOOK_SECRET, World, build_world
from tracker.access_log import RedactingLogger
from tracker.logging import JsonFormatter, redact_secrets

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
WRONG_PASSWORD = "Wrong-Horse-Battery-4471"


@pytest.fixture
def world(django_user_model, agreement, make_commitment, source, settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return build_world(django_user_model, agreement, make_commitment, source)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the tracker logs, as the console handler writes it in production (JSON)."""
    root = logging.getLogger()
    console = next(handler for handler in root.handlers if handler.name == "console")
    assert isinstance(console, logging.StreamHandler)
    # Nothing else writes (runserver's request log aside): this is all the output there is.
    for name, logger in logging.root.manager.loggerDict.items():
        writers = [h for h in getattr(logger, "handlers", [])
                   if not isinstance(h, logging.NullHandler)]
        assert name == "django.server" or not writers, (name, writers)
    buffer = io.StringIO()
    stream = console.setStream(buffer)
    formatter, level = console.formatter, root.level
    console.setFormatter(JsonFormatter())
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        console.setStream(stream)  # type: ignore[arg-type]
        console.setFormatter(formatter)
        root.setLevel(level)


def assert_clean(text: str, secrets: list[str]) -> None:
    assert text.strip(), "nothing was logged, so the check below would prove nothing"
    for secret in secrets:
        assert secret not in text


def test_tests_run_as_production_does_with_debug_off():
    """The error pages and log handlers below are the production ones only without DEBUG."""
    assert settings.DEBUG is False
    config: dict[str, Any] = settings.LOGGING
    assert any("redact_secrets" in handler.get("filters", [])
               for handler in config["handlers"].values())


def test_api_calls_logins_and_failures_log_no_credential(world, log_output):
    key = world.token_keys[world.editor.username]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    commitment_url = reverse("api:commitment-detail", args=[world.commitment.pk])
    assert api.get(commitment_url).status_code == 200
    assert api.patch(commitment_url, {"title": ""}, format="json").status_code == 400
    assert api.get(reverse("api:commitment-detail", args=[999999])).status_code == 404
    viewer = APIClient()
    viewer.credentials(HTTP_AUTHORIZATION=f"Token {world.token_keys[world.viewer.username]}")
    assert viewer.patch(commitment_url, {"title": "x"}, format="json").status_code == 403
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Token {key[::-1]}")
    assert wrong.get(commitment_url).status_code == 401
    made = api.post("/api/v1/webhooks/", {"target_url": "http://127.0.0.1:9/logs",
                                          "secret": "logged-nowhere-9f8e7d6c5b"}, format="json")
    assert made.status_code == 201, made.content

    for url in ("/accounts/login/", "/admin/login/"):
        Client().post(url, {"username": "ed", "password": WRONG_PASSWORD})
        Client().post(url, {"username": "ed", "password": PASSWORD})

    assert_clean(log_output.getvalue(), [key, key[::-1], world.token_keys[world.viewer.username],
                                         PASSWORD, WRONG_PASSWORD, "logged-nowhere-9f8e7d6c5b",
                                         WEBHOOK_SECRET, *world.secrets()])


def test_failed_logins_are_stored_without_the_password(world):
    """django-axes keeps failed logins in the database, shown in the admin: masked."""
    Client().post("/accounts/login/", {"username": "ed", "password": WRONG_PASSWORD})
    rows = [*AccessAttempt.objects.values_list("post_data", "get_data"),
            *AccessFailureLog.objects.values_list("username", "path_info")]
    assert any("password=" in str(row) for row in rows)
    assert WRONG_PASSWORD not in str(rows)


def test_making_api_tokens_logs_no_key(world, log_output, admin_client):
    out = io.StringIO()
    call_command("create_api_token", "vi", "--name", "cron", stdout=out, stderr=io.StringIO())
    command_key = out.getvalue().strip()
    assert len(command_key) > 30
    response = admin_client.post(
        reverse("admin:api_apitoken_add"),
        {"user": world.viewer.pk, "name": "partner", "expires_at_0": "2099-01-01",
         "expires_at_1": "00:00:00"},
        follow=True,
    )
    shown = " ".join(str(message) for message in response.context["messages"])
    admin_key = shown.split(" is ")[1].split(" ")[0]
    APIClient(HTTP_AUTHORIZATION=f"Token {command_key}").get("/api/v1/nowhere/")
    assert_clean(log_output.getvalue(), [command_key, admin_key])


def test_calendar_feed_secrets_are_cut_from_log_lines(world, log_output):
    """A feed's path is its credential; Django logs the path of every 4xx and 5xx."""
    feed_secret = world.feed_secrets[world.viewer.username]
    url = reverse("api:feeds:calendar", args=[feed_secret])
    anonymous = Client()
    assert anonymous.get(url).status_code == 200
    assert anonymous.post(url).status_code == 405  # logged: the secret is still valid
    assert Client(enforce_csrf_checks=True).post(url).status_code == 403

    feed = world.viewer.calendar_feeds.get()
    new_secret = calendar_feed_rotate(feed=feed, now=feed.created)
    assert anonymous.get(url).status_code == 404
    new_url = reverse("api:feeds:calendar", args=[new_secret])
    calendar_feed_revoke(feed=feed, now=feed.created)
    assert anonymous.get(new_url).status_code == 404  # revoked, but rotate would revive it

    text = log_output.getvalue()
    assert f"/calendar/{feed_secret[:6]}<redacted>.ics" in text  # the lines are there, cut
    assert_clean(text, [feed_secret, new_secret])


def test_a_server_error_echoes_no_header_in_its_page_or_its_log(world, log_output, monkeypatch):
    """A 500 shows a bare page, and its logged traceback holds no Authorization or cookie."""

    def broken() -> Any:
        raise RuntimeError("selector failed")

    monkeypatch.setattr(selectors, "commitment_list", broken)
    key = world.token_keys[world.editor.username]
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api.force_login(world.editor)
    session_id = api.cookies[settings.SESSION_COOKIE_NAME].value
    response = api.get(reverse("api:commitment-list"), HTTP_X_API_KEY=key)

    assert response.status_code == 500
    page = response.content.decode()
    assert "selector failed" not in page and "Traceback" not in page
    text = log_output.getvalue()
    assert "RuntimeError: selector failed" in text  # the error itself is logged, in full
    for secret in (key, session_id):
        assert secret not in page
    assert_clean(text, [key, session_id, PASSWORD])


# --- gunicorn's access log -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorns_access_log_cuts_feed_secrets(tmp_path):
    """``scripts/web.sh`` (what ``make run`` and the image start) logs no live feed secret.

    The requests need no database: a POST to a feed's path is refused by the CSRF check first.
    """
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    env |= {"TRACKER_VAR_DIR": str(tmp_path), "WEB_WORKERS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    secret = "Zq3xYw" + "k" * 37
    server = subprocess.Popen(
        ["./scripts/web.sh", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/calendar/{secret}.ics", data=b"",
            method="POST", headers={"Authorization": f"Token {secret}", "Cookie": secret,
                                    "Referer": f"http://127.0.0.1/api/v1/calendar/{secret}.ics"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 (loopback, our server)
        assert refused.value.code == 403
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert '"POST /api/v1/calendar/Zq3xYw<redacted>.ics' in output
    assert secret not in output


def test_the_access_logger_drops_credential_headers_and_cuts_secrets():
    """Whatever access-log format an operator picks, credentials stay out of the line."""

    class Config:
        access_log_format = ""

    class Response:
        status, sent, headers = "200 OK", 10, [("Set-Cookie", "sessionid=abc")]

    class Request:
        headers = [("AUTHORIZATION", "Token live-key-123"), ("COOKIE", "sessionid=abc")]

    secret = "Ab12Cd" + "x" * 37
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/api/v1/calendar/{secret}.ics",
               "PATH_INFO": f"/api/v1/calendar/{secret}.ics", "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_AUTHORIZATION": "Token live-key-123", "HTTP_COOKIE": "sessionid=abc"}
    logger = RedactingLogger.__new__(RedactingLogger)
    logger.cfg = Config()
    elapsed = type("Elapsed", (), {"seconds": 0, "microseconds": 5})()
    atoms = logger.atoms(Response(), Request(), environ, elapsed)
    for name in ("{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e"):
        assert atoms[name] == "-"
    assert atoms["r"] == "GET /api/v1/calendar/Ab12Cd<redacted>.ics HTTP/1.1"
    assert atoms["U"] == "/api/v1/calendar/Ab12Cd<redacted>.ics"
    assert "live-key-123" not in str(atoms) and secret not in str(atoms)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not Found: /api/v1/calendar/ABCDEFghijklmnopqrstuvwxyz.ics",
         "Not Found: /api/v1/calendar/ABCDEF<redacted>.ics"),
        ("/calendar/a-b_c-" + "9" * 94 + ".ics x /calendar/Zz9_-aaaaaaaaaaaaaaaaaaaa.ics",
         "/calendar/a-b_c-<redacted>.ics x /calendar/Zz9_-a<redacted>.ics"),
        ("/api/v1/calendar-feeds/12/rotate/", "/api/v1/calendar-feeds/12/rotate/"),
        ("/calendar/short.ics", "/calendar/short.ics"),
    ],
)
def test_redaction_cuts_every_feed_secret_and_nothing_else(text, expected):
    assert redact_secrets(text) == expected


def test_the_deploy_check_catches_an_unsafe_production_setting():
    """The check the suite relies on is live: DEBUG in production fails it at WARNING."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    env |= {"DJANGO_ENV": "production", "DJANGO_DEBUG": "true",
            "DJANGO_SECRET_KEY": "s" * 20 + "-a-long-random-test-secret-with-variety-0123456789",
            "DJANGO_ALLOWED_HOSTS": "tracker.example.org"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr
    assert "0 silenced" in result.stdout + result.stderr
    assert settings.SILENCED_SYSTEM_CHECKS == []
