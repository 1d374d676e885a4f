"""Login brute-force protection (django-axes) and the Content-Security-Policy of our pages."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # the conftest users' password
LOGINS = ["/accounts/login/", "/admin/login/"]


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
