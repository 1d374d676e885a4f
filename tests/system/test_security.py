"""Brute force (django-axes on the logins, a failed-token throttle on the API) and our CSP."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from api.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # the conftest users' password
LOGINS = ["/accounts/login/", "/admin/login/"]
API = "/api/v1/parties/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Many logins per test: the production hasher's cost is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def attempt(client: Client, url: str, username: str, password: str) -> int:
    """Post a login form and return the status: 302 logged in, 200 refused, 429 locked."""
    client.logout()
    response = client.post(url, {"username": username, "password": password})
    return response.status_code


@pytest.mark.parametrize("url", LOGINS)
def test_five_wrong_passwords_lock_out_even_the_right_one(client, editor, url):
    for _ in range(4):
        assert attempt(client, url, "editor", "wrong-password") == 200
    assert attempt(client, url, "editor", "wrong-password") == 429  # the fifth locks

    assert attempt(client, url, "editor", PASSWORD) == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", LOGINS)
def test_a_successful_login_resets_the_count(client, editor, url):
    for _ in range(4):
        assert attempt(client, url, "editor", "wrong-password") == 200
    assert attempt(client, url, "editor", PASSWORD) == 302

    for _ in range(4):
        assert attempt(client, url, "editor", "wrong-password") == 200
    assert attempt(client, url, "editor", PASSWORD) == 302


def test_the_lockout_is_per_username_and_address(client, editor, viewer):
    for _ in range(5):
        attempt(client, "/accounts/login/", "editor", "wrong-password")

    assert attempt(client, "/accounts/login/", "viewer", PASSWORD) == 302
    other_address = Client(REMOTE_ADDR="192.0.2.7")
    assert attempt(other_address, "/accounts/login/", "editor", PASSWORD) == 302


def test_the_lockout_also_covers_the_other_login_page(client, editor):
    for _ in range(5):
        attempt(client, "/accounts/login/", "editor", "wrong-password")

    assert attempt(client, "/admin/login/", "editor", PASSWORD) == 429


def test_the_limit_comes_from_settings(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        attempt(client, "/accounts/login/", "editor", "wrong-password")

    assert attempt(client, "/accounts/login/", "editor", PASSWORD) == 429


def directives(header: str) -> dict[str, str]:
    return {
        name: value.strip()
        for name, _space, value in (part.strip().partition(" ") for part in header.split(";"))
    }


STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
}


@pytest.mark.parametrize("url", ["/", "/commitments/", "/accounts/login/", "/admin/"])
def test_our_pages_send_the_strict_policy(client, editor, url):
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert STRICT.items() <= policy.items()


def test_the_login_page_sends_the_policy_to_anonymous_visitors(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert STRICT.items() <= directives(response["Content-Security-Policy"]).items()


def test_only_the_api_docs_page_may_run_inline_code(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'none'"


def test_the_browsable_api_may_style_inline_but_not_run_inline_scripts(client, editor):
    client.force_login(editor)
    response = client.get("/api/v1/commitments/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"


# Brute force on API tokens: the API has no password endpoint, so guessing means sending keys.


@pytest.fixture
def failed_token_rate(settings):
    """Three failed tokens a minute per address; throttle counters start empty."""
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "anon": "3/minute"},
    }
    yield
    cache.clear()


def api_from(address: str, authorization: str | None = None, **headers: str) -> APIClient:
    client = APIClient(enforce_csrf_checks=False, REMOTE_ADDR=address, **headers)
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def test_wrong_tokens_from_one_address_are_refused_after_the_anonymous_rate(
    viewer, failed_token_rate
):
    guesser = api_from("198.51.100.20", "Token guess-0000")
    assert [guesser.get(API).status_code for _ in range(3)] == [401, 401, 401]

    refused = guesser.get(API)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"]
    # While refused, no key from that address is even looked up: a right guess gains nothing.
    _token, key = api_token_create(user=viewer, name="real", now=timezone.now())
    assert api_from("198.51.100.20", f"Token {key}").get(API).status_code == 429
    # Other addresses, and sessions from the same one, are not affected.
    assert api_from("198.51.100.21", f"Token {key}").get(API).status_code == 200
    browser = api_from("198.51.100.20")
    browser.force_login(viewer)
    assert browser.get(API).status_code == 200


def test_the_refusal_ends_when_the_failures_leave_the_window(viewer, failed_token_rate):
    start = timezone.now()
    _token, key = api_token_create(user=viewer, name="real", now=start)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):
            api_from("198.51.100.30", "Token guess").get(API)
        refused = api_from("198.51.100.30", f"Token {key}").get(API)
        assert refused.status_code == 429
        traveller.shift(dt.timedelta(seconds=int(refused["Retry-After"]) + 1))
        assert api_from("198.51.100.30", f"Token {key}").get(API).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Token guess", "Token two words", "Token", "token lower-case-keyword"],
)
def test_every_kind_of_failed_token_counts(db, authorization, failed_token_rate):
    client = api_from("198.51.100.40", authorization)
    assert [client.get(API).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_revoked_and_expired_tokens_count_as_failures(viewer, failed_token_rate):
    now = timezone.now()
    revoked, revoked_key = api_token_create(user=viewer, name="old", now=now)
    api_token_revoke(token=revoked, now=now)
    _expired, expired_key = api_token_create(user=viewer, name="short", now=now,
                                             expires_at=now + dt.timedelta(seconds=1))
    with time_machine.travel(now + dt.timedelta(seconds=5)):
        codes = [api_from("198.51.100.50", f"Token {k}").get(API).status_code
                 for k in (revoked_key, expired_key, revoked_key, expired_key)]
    assert codes == [401, 401, 401, 429]


def test_good_tokens_and_requests_without_one_do_not_count(viewer, failed_token_rate):
    _token, key = api_token_create(user=viewer, name="busy", now=timezone.now())
    good = api_from("198.51.100.60", f"Token {key}")
    assert {good.get(API).status_code for _ in range(6)} == {200}
    anonymous = api_from("198.51.100.60")
    assert anonymous.get(API).status_code == 401  # no credentials: not a guess
    assert api_from("198.51.100.60", "Token guess").get(API).status_code == 401


def test_a_forged_x_forwarded_for_does_not_buy_more_guesses(db, failed_token_rate):
    codes = [
        api_from("198.51.100.70", "Token guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        .get(API).status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_the_export_and_calendar_feed_api_share_the_protection(db, failed_token_rate):
    client = api_from("198.51.100.80", "Token guess")
    for url in ("/api/v1/commitments/export.csv", "/api/v1/calendar-feeds/", API):
        assert client.get(url).status_code == 401
    assert client.get("/api/v1/commitments/export.csv").status_code == 429
