"""The OpenAPI contract: it validates, its docs are served locally, and the API keeps it.

The schemathesis run sends generated requests for every operation, as an editor, through
WSGI: no answer may be a 5xx, and every answer's status, content type, headers and body must
be what the schema says.
"""

from __future__ import annotations

import io

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.services.subscriptions import subscription_create
from api.services import api_token_create
from tracker.wsgi import application

pytestmark = pytest.mark.slow  # started first in the parallel pass (tests/conftest.py)

#: Examples per operation: enough to reach every field, small enough to finish in minutes.
EXAMPLES_PER_OPERATION = 6


def test_the_schema_validates_without_warnings(db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null",
                 stdout=io.StringIO(), stderr=io.StringIO())


def test_the_schema_describes_auth_filters_and_errors(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    assert "cookieAuth" in schema["components"]["securitySchemes"]
    listing = schema["paths"]["/api/v1/commitments/"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {"status", "deadline_state", "agreement", "obligor", "category", "due_before",
            "due_after", "q", "ordering", "page", "page_size", "If-None-Match"} <= names
    assert {"200", "304", "400", "401", "403", "404", "429"} <= set(listing["responses"])
    assert "Retry-After" in listing["responses"]["429"]["headers"]
    status_action = schema["paths"]["/api/v1/commitments/{id}/status/"]["post"]
    assert status_action["responses"]["201"]
    rule = schema["components"]["schemas"]["DeadlineRule"]["properties"]
    assert {"kind", "date", "offset_amount", "anchor_kind", "period_unit",
            "source_phrase"} <= set(rule)


def test_the_docs_are_served_with_our_own_assets(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "/api/v1/schema/" in page


@pytest.fixture
def api_schema(db):
    """Load the schema through WSGI, keeping the test's connection open between requests."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)


@pytest.fixture
def editor_key(editor, agreement, make_commitment, source, settings):
    """Return an editor's token key, with some data for the operations to find."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None, "user": None, "anon": None},
    }
    cache.clear()
    commitment = make_commitment()
    subscription_create(user=editor, scope="commitment", commitment=commitment)
    _token, key = api_token_create(user=editor, name="schemathesis", now=timezone.now())
    return key


lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@lazy_schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_contract(case, editor_key):
    case.call_and_validate(
        headers={"Authorization": f"Token {editor_key}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
