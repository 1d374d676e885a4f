"""Webhook endpoints in the API and the admin: own endpoints only, a write-only secret."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from rest_framework.test import APIClient

from commitments.choices import Status
from commitments.services import commitments as svc
from tests.factories import user_make, webhook_endpoint_make
from tests.support.api_support import results, token_client
from tests.support.webhook_receiver import webhook_receiver_fixture  # noqa: F401
from webhooks.models import DeliveryState, EventKind, WebhookDelivery, WebhookEndpoint
from webhooks.services import targets
from webhooks.services.delivery import webhooks_send_pending

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks/"
SECRET = "viewers-secret-0123456789"
T = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_MAX_ENDPOINTS_PER_USER = 3
    return settings


@pytest.fixture
def others_endpoint(editor, webhook_receiver):
    return webhook_endpoint_make(
        owner=editor, target_url=webhook_receiver.url, secret="editors-secret-0123456789"
    )


def register(client, url, **fields):
    return client.post(WEBHOOKS, {"target_url": url, "secret": SECRET, **fields}, format="json")


def test_a_viewer_registers_an_endpoint_and_never_sees_the_secret_again(
    viewer_api, viewer, webhook_receiver
):
    response = register(
        viewer_api, webhook_receiver.url, events=["commitment.overdue"], description="Our bot"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.owner, endpoint.secret, endpoint.events) == (
        viewer,
        SECRET,
        ["commitment.overdue"],
    )
    assert body == {
        "id": endpoint.pk,
        "url": f"http://testserver/api/v1/webhooks/{endpoint.pk}/",
        "target_url": webhook_receiver.url,
        "events": ["commitment.overdue"],
        "description": "Our bot",
        "active": True,
        "deliveries": f"http://testserver/api/v1/webhooks/{endpoint.pk}/deliveries/",
        "created": body["created"],
    }
    answers = [
        response,
        viewer_api.get(WEBHOOKS),
        viewer_api.get(body["url"]),
        viewer_api.patch(body["url"], {"description": "renamed"}, format="json"),
        viewer_api.put(
            body["url"], {"target_url": webhook_receiver.url, "events": EventKind.values},
            format="json",
        ),
        viewer_api.get(WEBHOOKS, HTTP_ACCEPT="text/html"),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        assert SECRET not in answer.content.decode()
        if answer["Content-Type"].startswith("application/json"):
            rows = answer.json().get("results", [answer.json()])
            assert all("secret" not in row for row in rows)


def test_all_kinds_by_default_and_the_secret_can_be_replaced(viewer_api, webhook_receiver):
    created = register(viewer_api, webhook_receiver.url).json()
    assert created["events"] == list(EventKind.values)

    response = viewer_api.patch(
        created["url"], {"secret": "a-brand-new-secret-42", "active": False}, format="json"
    )

    assert response.status_code == 200, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.active) == ("a-brand-new-secret-42", False)
    assert "a-brand-new-secret-42" not in response.content.decode()
    assert viewer_api.delete(created["url"]).status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"secret": None}, "secret", "This field is required."),
        ({"secret": "short"}, "secret", "at least 16 characters"),
        ({"events": []}, "events", ""),
        ({"events": ["commitment.created"]}, "events", "not a valid choice"),
        ({"target_url": "not a url"}, "target_url", "valid URL"),
        ({"target_url": "http://93.184.216.34/hook"}, "target_url", "Use https"),
        ({"target_url": "https://10.0.0.7/hook"}, "target_url", "not public"),
        ({"target_url": "https://169.254.169.254/"}, "target_url", "not public"),
        ({"target_url": "https://no-such-host.invalid/"}, "target_url", "could not be resolved"),
        ({"target_url": "https://u:p@93.184.216.34/"}, "target_url", "no user name"),
        ({"owner": 1}, "owner", "Unknown field"),
        ({"active": "maybe"}, "active", "valid boolean"),
    ],
)
def test_registration_errors_name_the_field(viewer_api, webhook_receiver, body, field, reason):
    data = {"target_url": webhook_receiver.url, "secret": SECRET, **body}
    data = {key: value for key, value in data.items() if value is not None}

    response = viewer_api.post(WEBHOOKS, data, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == {field}, errors
    assert reason in str(errors[field]), errors
    assert not WebhookEndpoint.objects.exists()


def test_one_endpoint_per_url_and_a_limit_per_user(viewer_api, viewer, webhook_receiver):
    assert register(viewer_api, webhook_receiver.url).status_code == 201
    again = register(viewer_api, webhook_receiver.url)
    assert again.status_code == 400
    assert again.json() == {"target_url": ["You already have an endpoint with this URL."]}
    for n in (2, 3):
        assert register(viewer_api, f"{webhook_receiver.url}?n={n}").status_code == 201

    fourth = register(viewer_api, f"{webhook_receiver.url}?n=4")

    assert fourth.status_code == 400
    assert "3 endpoints already" in fourth.json()["non_field_errors"][0]
    assert sorted(WebhookEndpoint.objects.filter(owner=viewer).values_list("target_url",
                                                                            flat=True)) == [
        webhook_receiver.url, f"{webhook_receiver.url}?n=2", f"{webhook_receiver.url}?n=3"]
    assert WebhookEndpoint.objects.count() == 3


def test_a_changed_url_is_checked_again(viewer_api, webhook_receiver):
    created = register(viewer_api, webhook_receiver.url).json()

    response = viewer_api.patch(
        created["url"], {"target_url": "https://192.168.1.20/hook"}, format="json"
    )

    assert response.status_code == 400
    assert "not public" in response.json()["target_url"][0]
    assert WebhookEndpoint.objects.get().target_url == webhook_receiver.url


def test_a_public_https_name_is_accepted(viewer_api, monkeypatch):
    """The resolver is outside our control: a public answer for a public name."""
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["93.184.216.34", "2606:2800::1"])

    response = register(viewer_api, "https://hooks.example.org/tracker")

    assert response.status_code == 201, response.content


def test_someone_elses_endpoint_and_its_log_are_not_found(viewer_api, others_endpoint):
    detail = f"{WEBHOOKS}{others_endpoint.pk}/"

    assert results(viewer_api.get(WEBHOOKS)) == []
    assert viewer_api.get(detail).status_code == 404
    assert viewer_api.get(f"{detail}deliveries/").status_code == 404
    assert viewer_api.patch(detail, {"active": False}, format="json").status_code == 404
    replaced = viewer_api.put(detail, {"target_url": "http://127.0.0.1/x"}, format="json")
    assert replaced.status_code == 404
    assert viewer_api.delete(detail).status_code == 404
    assert viewer_api.get(f"{WEBHOOKS}not-a-number/").status_code == 404
    assert viewer_api.get(f"{WEBHOOKS}not-a-number/deliveries/").status_code == 404
    others_endpoint.refresh_from_db()
    assert others_endpoint.active


def test_who_may_use_webhooks(django_user_model, webhook_receiver):
    no_role = django_user_model.objects.create_user(username="norole")

    assert APIClient().get(WEBHOOKS).status_code == 401
    assert register(APIClient(), webhook_receiver.url).status_code == 401
    assert token_client(no_role).get(WEBHOOKS).status_code == 403
    assert register(token_client(no_role), webhook_receiver.url).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_each_attempt_outcome(
    viewer_api, make_commitment, webhook_receiver
):
    created = register(viewer_api, webhook_receiver.url).json()
    with time_machine.travel(dt.datetime(2026, 1, 10, tzinfo=dt.UTC), tick=False):
        commitment = make_commitment()
    with time_machine.travel(T, tick=False):
        svc.commitment_change_status(commitment=commitment, status=Status.IN_PROGRESS, now=T)
    webhook_receiver.answer(500)
    webhooks_send_pending(now=T)

    rows = results(viewer_api.get(created["deliveries"]))
    (request,) = webhook_receiver.received()
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == request.delivery
    assert (row["state"], row["attempts"], row["last_status_code"]) == ("pending", 1, 500)
    assert row["last_error"] == "HTTP 500: Internal Server Error"
    assert row["next_attempt_at"] == "2026-03-02T08:30:30Z"
    assert row["event"]["id"] == request.json["id"]
    assert row["event"]["type"] == "commitment.status_changed"
    assert row["event"]["data"] == request.json["data"]
    assert results(viewer_api.get(created["deliveries"], {"state": "failed"})) == []
    assert len(results(viewer_api.get(created["deliveries"], {"state": "pending"}))) == 1
    assert viewer_api.get(created["deliveries"], {"state": "lost"}).status_code == 400


def test_registration_and_errors_log_no_secret(viewer_api, webhook_receiver, caplog):
    caplog.set_level(logging.DEBUG)

    register(viewer_api, webhook_receiver.url)
    register(viewer_api, "https://10.0.0.1/x")
    created = WebhookEndpoint.objects.get()
    viewer_api.patch(f"{WEBHOOKS}{created.pk}/", {"secret": "x" * 300}, format="json")

    assert SECRET not in caplog.text
    assert "x" * 300 not in caplog.text


# The admin.


@pytest.fixture
def admin_client_(client, db):
    admin = user_make(username="root", superuser=True)
    client.force_login(admin)
    client.user = admin
    return client


def test_the_admin_registers_an_endpoint_without_ever_showing_the_secret(
    admin_client_, webhook_receiver
):
    form = {
        "owner": admin_client_.user.pk,
        "target_url": webhook_receiver.url,
        "description": "",
        "on_status_changed": "on",
        "on_overdue": "on",
        "active": "on",
        "new_secret": "admin-made-secret-000",
    }
    response = admin_client_.post("/admin/webhooks/webhookendpoint/add/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "admin-made-secret-000"
    assert endpoint.events == ["commitment.status_changed", "commitment.overdue"]

    page = admin_client_.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert "admin-made-secret-000" not in page.content.decode()
    history = admin_client_.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/history/")
    assert "admin-made-secret-000" not in history.content.decode()

    unchanged = {**form, "new_secret": "", "description": "kept secret"}
    response = admin_client_.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
                                  unchanged)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.description) == ("admin-made-secret-000", "kept secret")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"new_secret": ""}, "Give the endpoint a secret."),
        ({"new_secret": "short"}, "at least 16 characters"),
        ({"target_url": "https://10.9.8.7/x"}, "not public"),
        ({"on_status_changed": "", "on_overdue": ""}, "Choose at least one kind of event."),
    ],
)
def test_the_admin_form_names_what_is_wrong(admin_client_, webhook_receiver, changes, message):
    form = {
        "owner": admin_client_.user.pk,
        "target_url": webhook_receiver.url,
        "on_status_changed": "on",
        "on_overdue": "on",
        "active": "on",
        "new_secret": "admin-made-secret-000",
        **changes,
    }
    form = {key: value for key, value in form.items() if value != "" or key == "new_secret"}

    response = admin_client_.post("/admin/webhooks/webhookendpoint/add/", form)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_delivery_log_filters_by_state_and_retries_failed_ones(
    admin_client_, others_endpoint, make_commitment, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with time_machine.travel(T, tick=False):
        commitment = make_commitment()
        svc.commitment_change_status(commitment=commitment, status=Status.IN_PROGRESS, now=T)
    webhooks_send_pending(now=T)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED

    listing = admin_client_.get("/admin/webhooks/webhookdelivery/", {"state__exact": "failed"})
    assert listing.status_code == 200
    assert "Not sent: Use https" in listing.content.decode()
    assert admin_client_.get(f"/admin/webhooks/webhookevent/{delivery.event_id}/change/"
                             ).status_code == 200

    response = admin_client_.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "retry_now", "_selected_action": [delivery.pk]},
        follow=True,
    )

    assert "1 failed deliveries queued again" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)


# Deadline revisions (issue 12).


def test_an_endpoint_subscribes_to_deadline_revisions_alone_in_the_api_and_the_admin(
    viewer_api, admin_client_, webhook_receiver
):
    response = register(viewer_api, webhook_receiver.url, events=["commitment.deadline_revised"])
    assert response.status_code == 201, response.content
    assert response.json()["events"] == ["commitment.deadline_revised"]
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.on_deadline_revised, endpoint.on_status_changed) == (True, False)

    form = {
        "owner": admin_client_.user.pk,
        "target_url": webhook_receiver.url + "admin",
        "description": "",
        "on_deadline_revised": "on",
        "active": "on",
        "new_secret": "admin-made-secret-000",
    }
    response = admin_client_.post("/admin/webhooks/webhookendpoint/add/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    made = WebhookEndpoint.objects.exclude(pk=endpoint.pk).get()
    assert made.events == ["commitment.deadline_revised"]
