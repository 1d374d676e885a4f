"""Subscriptions and alerts: each user sees and changes only their own (others' are 404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import Alert, Subscription
from tests.factories import subscription_make
from tests.support.api_support import results, token_client

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/subscriptions/"


@pytest.fixture
def others_subscription(editor, agreement):
    return subscription_make(user=editor, scope="agreement", agreement=agreement,
                             lead_days=[14])


def test_a_viewer_watches_an_agreement_with_lead_times(viewer_api, viewer, agreement):
    response = viewer_api.post(
        SUBSCRIPTIONS,
        {"scope": "agreement", "agreement": agreement.pk, "lead_days": [7, 30],
         "notify_overdue": False, "mode": "digest"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["lead_days"], body["notify_overdue"], body["mode"]) == ([30, 7], False, "digest")
    subscription = Subscription.objects.get(pk=body["id"])
    assert subscription.user == viewer
    assert sorted(subscription.leads.values_list("days", flat=True)) == [7, 30]


def test_defaults_and_changes_go_through_the_service(viewer_api):
    created = viewer_api.post(SUBSCRIPTIONS, {"scope": "all"}, format="json").json()
    assert (created["lead_days"], created["notify_overdue"]) == ([30, 7, 1], True)
    response = viewer_api.patch(f"{SUBSCRIPTIONS}{created['id']}/", {"lead_days": [3]},
                                format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["lead_days"], response.json()["notify_overdue"]) == ([3], True)
    assert viewer_api.delete(f"{SUBSCRIPTIONS}{created['id']}/").status_code == 204
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"scope": "agreement"}, "agreement", "Choose the agreement"),
        ({"scope": "everything"}, "scope", "not a valid choice"),
        ({"scope": "all", "lead_days": [0]}, "lead_days", "greater than or equal to 1"),
        ({"scope": "all", "lead_days": "weekly"}, "lead_days", "Expected a list"),
        ({"scope": "all", "user": 1}, "user", "Unknown field"),
        ({"scope": "all", "lead_days": [], "notify_overdue": False}, "lead_days", "at least one"),
    ],
)
def test_bad_subscriptions_are_a_400_naming_the_field(viewer_api, body, field, reason):
    response = viewer_api.post(SUBSCRIPTIONS, body, format="json")
    assert response.status_code == 400, response.content
    assert reason in str(response.json()[field])
    assert not Subscription.objects.exists()


def test_a_duplicate_subscription_is_a_400(viewer_api, viewer):
    assert viewer_api.post(SUBSCRIPTIONS, {"scope": "all"}, format="json").status_code == 201
    response = viewer_api.post(SUBSCRIPTIONS, {"scope": "all"}, format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["scope"][0]
    assert list(Subscription.objects.values_list("user", "scope")) == [(viewer.pk, "all")]


def test_the_target_of_a_subscription_cannot_change(viewer_api, agreement):
    created = viewer_api.post(SUBSCRIPTIONS, {"scope": "all"}, format="json").json()
    response = viewer_api.patch(f"{SUBSCRIPTIONS}{created['id']}/",
                                {"scope": "agreement", "agreement": agreement.pk}, format="json")
    assert response.status_code == 400
    assert "cannot change" in response.json()["scope"][0]
    assert Subscription.objects.get(pk=created["id"]).scope == "all"


def test_a_put_resending_the_target_changes_the_rest(viewer_api, agreement):
    created = viewer_api.post(SUBSCRIPTIONS, {"scope": "agreement", "agreement": agreement.pk},
                              format="json").json()
    response = viewer_api.put(
        f"{SUBSCRIPTIONS}{created['id']}/",
        {"scope": "agreement", "agreement": agreement.pk, "mode": "digest", "lead_days": [10],
         "notify_overdue": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["mode"], body["lead_days"], body["notify_overdue"]) == ("digest", [10], False)
    subscription = Subscription.objects.get(pk=created["id"])
    assert list(subscription.leads.values_list("days", flat=True)) == [10]


def test_someone_elses_subscription_is_not_found(viewer_api, others_subscription):
    url = f"{SUBSCRIPTIONS}{others_subscription.pk}/"
    assert results(viewer_api.get(SUBSCRIPTIONS)) == []
    for response in (
        viewer_api.get(url),
        viewer_api.patch(url, {"lead_days": [1]}, format="json"),
        viewer_api.put(url, {"scope": "all"}, format="json"),
        viewer_api.delete(url),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "No Subscription matches the given query."}
    others_subscription.refresh_from_db()
    assert list(others_subscription.leads.values_list("days", flat=True)) == [14, 0]


def test_alerts_are_the_callers_own(viewer_api, viewer, editor, make_commitment):
    commitment = make_commitment()
    now = timezone.now()
    mine = Alert.objects.create(user=viewer, email=viewer.email, commitment=commitment,
                                due_date=dt.date(2026, 4, 26), threshold=7, created=now)
    theirs = Alert.objects.create(user=editor, email=editor.email, commitment=commitment,
                                  due_date=dt.date(2026, 4, 26), threshold=7, created=now)
    rows = results(viewer_api.get("/api/v1/alerts/"))
    assert [row["id"] for row in rows] == [mine.pk]
    assert rows[0]["threshold"] == 7
    assert viewer_api.get(f"/api/v1/alerts/{theirs.pk}/").status_code == 404
    assert viewer_api.get("/api/v1/alerts/", {"state": "lost"}).status_code == 400
    assert viewer_api.delete(f"/api/v1/alerts/{mine.pk}/").status_code == 405
    assert sorted(Alert.objects.values_list("pk", flat=True)) == sorted([mine.pk, theirs.pk])


def test_a_user_without_a_role_has_no_subscriptions(django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", email="n@example.org",
                                                   password="pw-tests-only")
    response = token_client(nobody).post(SUBSCRIPTIONS, {"scope": "all"}, format="json")
    assert response.status_code == 403
    assert not Subscription.objects.exists()
