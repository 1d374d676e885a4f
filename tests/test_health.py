"""``/healthz`` tells operators whether the web process reaches the database and broker."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_and_names_the_broker_when_it_is_down(client, monkeypatch):
    from tracker.celery import app

    closed_port = "redis://127.0.0.1:1/0"
    # Celery prefers the environment variable over its configuration; set both.
    monkeypatch.setenv("CELERY_BROKER_URL", closed_port)
    monkeypatch.setattr(app.conf, "broker_url", closed_port)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["broker"] != "ok"
