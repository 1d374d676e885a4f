"""Who gets in: API tokens (made, hashed, expiring, revoked), sessions, roles and throttling."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from api.authentication import _token_look_up, token_with_user
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from commitments.models import Agreement
from core.roles import EDITORS
from core.tokens import token_hash
from tests.support.api_support import token_client

pytestmark = pytest.mark.django_db

PARTIES = "/api/v1/parties/"


def _client_with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_create_api_token_prints_a_key_that_works_and_stores_only_its_hash(viewer):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", viewer.username, "--expires-in-days", "30",
                 "--name", "reporting", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=viewer)
    assert token.name == "reporting"
    assert token.key_hash == token_hash(key) != key
    assert token.prefix == key[:8]
    assert token.expires_at is not None
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    assert "not shown again" in err.getvalue()
    response = _client_with_key(key).get(PARTIES)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nobody"], "no user 'nobody'"), (["viewer", "--expires-in-days", "0"], "1 or more")],
)
def test_create_api_token_refuses_bad_arguments(viewer, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=io.StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token not-a-real-key", "Invalid token."),
        ("Bearer whatever", "Authentication credentials were not provided."),
        ("Token", "No credentials provided."),
    ],
)
def test_requests_without_a_valid_token_are_401(db, authorization, reason):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get(PARTIES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token'
    assert reason in response.json()["detail"]


def test_a_revoked_token_is_401(viewer):
    token, key = api_token_create(user=viewer, name="x", now=timezone.now())
    api_token_revoke(token=token, now=timezone.now())
    response = _client_with_key(key).get(PARTIES)
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has been revoked."}


def test_an_expired_token_is_401(viewer):
    now = timezone.now()
    _token, key = api_token_create(user=viewer, name="x", now=now,
                                   expires_at=now + dt.timedelta(days=1))
    assert _client_with_key(key).get(PARTIES).status_code == 200
    with time_machine.travel(now + dt.timedelta(days=1, seconds=1)):
        response = _client_with_key(key).get(PARTIES)
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has expired."}


def test_a_token_of_an_inactive_user_is_401(viewer):
    client = token_client(viewer)
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    assert client.get(PARTIES).status_code == 401


def test_session_auth_reads_and_needs_csrf_to_write(viewer, editor, agreement):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)
    assert client.get(PARTIES).status_code == 200
    client.force_login(editor)
    before = Agreement.objects.values().get(pk=agreement.pk)
    versions = agreement.history.count()
    response = client.patch(f"/api/v1/agreements/{agreement.pk}/", {"title": "x"},
                            format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Agreement.objects.values().get(pk=agreement.pk) == before
    assert agreement.history.count() == versions


def test_a_user_without_a_role_is_403(django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password="pw-tests-only")
    response = token_client(nobody).get(PARTIES)
    assert response.status_code == 403


def test_a_superuser_may_write_without_a_group(django_user_model, agreement):
    admin = django_user_model.objects.create_superuser(username="root", password="pw-tests-only")
    response = token_client(admin).patch(f"/api/v1/agreements/{agreement.pk}/",
                                         {"summary": "Updated."}, format="json")
    assert response.status_code == 200, response.content
    agreement.refresh_from_db()
    assert agreement.summary == "Updated."


def test_an_editor_by_group_writes(django_user_model, agreement):
    user = django_user_model.objects.create_user(username="ed", password="pw-tests-only")
    user.groups.add(Group.objects.get_or_create(name=EDITORS)[0])
    response = token_client(user).patch(f"/api/v1/agreements/{agreement.pk}/",
                                        {"place": "Washington"}, format="json")
    assert response.status_code == 200, response.content
    agreement.refresh_from_db()
    assert agreement.place == "Washington"


@pytest.mark.parametrize("role", ["Viewers", EDITORS, None])
def test_a_token_is_read_with_its_user_and_roles_in_one_statement(django_user_model, role):
    """The token, its user and the user's roles are one look-up (issue 16); the roles it
    reads decide as the roles read on their own do: a viewer reads, an editor reads, a user
    without a role is refused."""
    user = django_user_model.objects.create_user(username="reader", password="pw-tests-only")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.groups.add(Group.objects.get_or_create(name="Unrelated")[0])
    client = token_client(user)
    client.get(PARTIES)  # writes last_used_at once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PARTIES)
    assert response.status_code == (200 if role else 403)
    reads = [query["sql"] for query in queries if "auth_group" in query["sql"]]
    assert len(reads) == 1
    # On PostgreSQL with the token; elsewhere (SQLite, the embedded default) on their own.
    assert ("api_apitoken" in reads[0]) is (connection.vendor == "postgresql")


@pytest.mark.parametrize("role", ["Viewers", None])
def test_the_compiled_token_look_up_reads_what_the_orm_reads(django_user_model, role):
    """The token look-up, compiled once per process (issue 16), gives the token, its user
    and the user's roles as the ORM's queryset gives them, loaded as the ORM loads them; a
    hash no token has gives None."""
    user = django_user_model.objects.create_user(username="reader", password="pw-tests-only")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    token, _key = api_token_create(user=user, name="look-up", now=timezone.now())
    fast = token_with_user(token.key_hash)
    orm = _token_look_up().get(key_hash=token.key_hash)
    assert fast is not None

    def loaded(row):
        fields = {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}
        return fields, row._state.adding, row._state.db

    assert loaded(fast) == loaded(orm)
    assert loaded(fast.user) == loaded(orm.user)
    assert getattr(fast, "user_roles", None) == getattr(orm, "user_roles", None)
    assert token_with_user(token_hash("not a key")) is None


def test_anonymous_reads_only_with_public_read_on(db, agreement):
    client = APIClient()
    versions = agreement.history.count()
    assert client.get("/api/v1/agreements/").status_code == 401
    with override_settings(API_PUBLIC_READ=True):
        assert client.get("/api/v1/agreements/").status_code == 200
        assert client.get("/api/v1/subscriptions/").status_code == 401
        response = client.patch(f"/api/v1/agreements/{agreement.pk}/", {"title": "x"},
                                format="json")
        assert response.status_code == 401
    agreement.refresh_from_db()
    assert agreement.title == "Japan–US summit"
    assert agreement.history.count() == versions


def test_throttling_is_per_token_with_retry_after(viewer):
    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/minute"}
    first, second = token_client(viewer), token_client(viewer)
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        assert [first.get(PARTIES).status_code for _ in range(3)] == [200, 200, 200]
        refused = first.get(PARTIES)
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 60
        assert "throttled" in refused.json()["detail"]
        assert second.get(PARTIES).status_code == 200
    cache.clear()


def test_admin_makes_a_token_showing_the_key_once_and_revokes_it(admin_client, viewer):
    response = admin_client.post(
        "/admin/api/apitoken/add/",
        {"user": viewer.pk, "name": "partner feed", "expires_at_0": "2099-01-01",
         "expires_at_1": "00:00:00"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="partner feed")
    shown = [str(m) for m in response.context["messages"]]
    key = next(m for m in shown if "copy it now" in m).split(" is ")[1].split(" ")[0]
    assert token_hash(key) == token.key_hash
    assert _client_with_key(key).get(PARTIES).status_code == 200
    admin_client.post("/admin/api/apitoken/",
                      {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _client_with_key(key).get(PARTIES).status_code == 401
