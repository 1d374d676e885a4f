"""OWASP API top 10, the items that apply, over every API route found in the URL conf.

- API1 object-level access: someone else's own data (subscriptions, alerts, calendar feeds,
  webhooks) is not found, by any method or action, and nothing is written.
- API3 property-level access: every read-only field (and ``user``, ``owner``, ...) sent to
  every writable route is refused, naming it, or ignored; nothing changes. Answers have the
  exact documented keys and carry no password hash, token, feed or webhook secret, or e-mail.
- API4 unrestricted resource consumption: page sizes, page numbers, long or repeated query
  parameters, big bodies, id lists, throttling for tokens, sessions and anonymous callers,
  and a streamed export.

Brute force (API2) is in ``test_security.py``, CSRF in ``test_security_csrf.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from alerts.models import Subscription
from commitments.api import serializers as api_serializers
from commitments.api.corrections import CorrectionCreateSerializer
from commitments.choices import PartyKind
from commitments.models import Assessment, Commitment, Party
from commitments.services.publishing import agreement_publish_unreviewed
from core.rest.pagination import PageNumberPagination
from core.rest.permissions import OwnDataPermission
from core.rest.serializers import StrictMixin
from feeds import export
from feeds.models import CalendarFeed
from tests.support.security_support import Route, World, build_world, routes

pytestmark = pytest.mark.django_db

WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
DETAIL_ACTIONS = {"retrieve", "update", "partial_update", "destroy"}


@pytest.fixture
def world(django_user_model, agreement, make_commitment, source, settings) -> Iterator[World]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    cache.clear()  # throttle counters of earlier tests
    yield build_world(django_user_model, agreement, make_commitment, source)
    cache.clear()


def session_client(user: Any) -> APIClient:
    """A logged-in client; unlike a token, a session writes nothing when it authenticates."""
    client = APIClient()
    client.force_login(user)
    return client


def streamed(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def writes_of(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if WRITE_SQL.match(q["sql"])]


def api_routes() -> list[Route]:
    """Every DRF viewset route of the API, without DRF's format-suffix duplicates.

    The routes nested under an agreement (its compliance table and frozen reports, issue 13)
    answer shaped reads and files, not model rows: tests/api/test_compliance.py checks them for
    the same properties (viewers refused writes, unknown keys refused, pages capped).
    """
    return [
        route
        for route in routes()
        if route.route.startswith("api/v1/")
        and getattr(route.view, "actions", None)
        and "format" not in route.parameters()
        and "agreement_pk" not in route.parameters()
    ]


def name_of(route: Route) -> str:
    assert route.name is not None, route.route
    return route.name


def view_of(route: Route, action: str) -> Any:
    view = route.view.cls(**route.view.initkwargs)
    view.action, view.request, view.format_kwarg, view.kwargs = action, None, None, {}
    return view


def owner_field(model: Any) -> str:
    names = {field.name for field in model._meta.fields}
    return "user" if "user" in names else "owner"


def model_of(route: Route) -> Any:
    view = view_of(route, "retrieve")
    return view.get_serializer_class().Meta.model


def own_data(route: Route) -> bool:
    return OwnDataPermission in route.view.cls.permission_classes


def rating_of(route: Route, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Name the current rating of the commitment ``kwargs`` names, for the review route."""
    if "assessment_id" not in route.parameters():
        return {}
    return {"assessment_id": Assessment.objects.get(commitment=kwargs["pk"], current=True).pk}


def row_for(route: Route, user: Any) -> Any:
    """Return the first row the route's ``pk`` may name for ``user`` (their own, for own data)."""
    model = model_of(route)
    rows = model._default_manager.order_by("pk")
    if name_of(route) == "api:commitment-revise":
        # A closed commitment's deadline is not revised: the walk revises an open one.
        rows = rows.filter(status__in=["not_started", "in_progress"], due_date__isnull=False,
                           recurrence="none")
    if name_of(route) in ("api:commitment-occurrences", "api:commitment-change-occurrence-status"):
        rows = rows.exclude(recurrence="none")  # the walks read and change a real occurrence
    if own_data(route):
        rows = rows.filter(**{owner_field(model): user})
    return rows.first()


# --- API1: object-level access -------------------------------------------------------------


def test_someone_elses_own_data_is_not_found_by_any_method_or_action(world):
    """Every detail route of own data answers 404 to another user and writes nothing."""
    intruder = session_client(world.viewer)
    checked = []
    for route in api_routes():
        if not own_data(route) or "pk" not in route.parameters():
            continue
        model = model_of(route)
        victim_row = model._default_manager.exclude(
            **{owner_field(model): world.viewer}).order_by("pk").first()
        assert victim_row is not None, f"{route.route}: no row of another user to try"
        url = reverse(name_of(route), kwargs={"pk": victim_row.pk})
        for method in list(route.view.actions):
            with CaptureQueriesContext(connection) as queries:
                response = intruder.generic(method.upper(), url, "{}",
                                            content_type="application/json")
            assert response.status_code == 404, (method, url, response.status_code)
            assert not writes_of(queries), (method, url)
            checked.append((name_of(route), method))
    names = {name for name, _method in checked}
    assert {"api:subscription-detail", "api:alert-detail", "api:feeds:calendar-feed-detail",
            "api:feeds:calendar-feed-rotate", "api:webhook-detail", "api:webhook-deliveries"
            } <= names


def test_own_data_lists_show_only_the_callers_rows(world):
    viewer = session_client(world.viewer)
    for route in api_routes():
        if not own_data(route) or route.parameters():
            continue
        model = model_of(route)
        ids = [row["id"] for row in viewer.get(reverse(name_of(route))).json()["results"]]
        mine = model._default_manager.filter(**{owner_field(model): world.viewer})
        assert sorted(ids) == sorted(mine.values_list("pk", flat=True)), name_of(route)


def test_the_admin_history_of_someone_elses_subscription_is_forbidden(world):
    """Staff manage their own subscriptions in the admin, their history included."""
    theirs = Subscription.objects.get(user=world.other)
    client = Client()
    client.force_login(world.viewer)
    version = theirs.history.first().history_id
    for url in (reverse("admin:alerts_subscription_history", args=[theirs.pk]),
                reverse("admin:alerts_subscription_simple_history", args=[theirs.pk, version])):
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403


# --- API3: property-level access and mass assignment --------------------------------------


def _bodies(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for every writable route and method, acting as the editor."""
    commitment = world.commitment
    agreement = {"key": "sec-agreement", "title": "Security review", "kind": "joint_statement",
                 "parties": [commitment.obligor_id], "date": "2025-10-28",
                 "time_zone": "Asia/Tokyo"}
    rule = {"kind": "relative", "offset_amount": 90, "offset_unit": "days",
            "anchor_kind": "agreement"}
    new_commitment = {"key": "sec-commitment", "agreement": commitment.agreement_id,
                      "title": "Reviewed", "category": "meeting",
                      "obligor": commitment.obligor_id, "deadline_rule": rule}
    existing_agreement = {**agreement, "key": commitment.agreement.key}
    existing_commitment = {**new_commitment, "key": commitment.key}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("api:agreement-list", "post"): agreement,
        ("api:agreement-detail", "put"): existing_agreement,
        ("api:agreement-detail", "patch"): {"place": "Osaka"},
        # Publishing (issue 15).
        ("api:agreement-publication", "post"): {"action": "unpublish", "note": "Checking."},
        ("api:agreement-corrections", "post"): {
            "changes": {"place": "Osaka"}, "note": "The place was wrong.",
        },
        ("api:commitment-corrections", "post"): {
            "changes": {"title": "Renamed"}, "note": "A typo.",
        },
        ("api:commitment-list", "post"): new_commitment,
        ("api:commitment-detail", "put"): existing_commitment,
        ("api:commitment-detail", "patch"): {"title": "Renamed"},
        ("api:commitment-change-status", "post"): {"status": "in_progress", "note": "Talks"},
        ("api:commitment-revise", "post"): {
            "kind": "suspended", "reason": "Talks paused.",
            "evidence": {"source": world.citation.source_id, "quote": "Suspendu."},
        },
        ("api:commitment-change-occurrence-status", "post"): {"status": "in_progress"},
        # Ratings (issue 13).
        ("api:commitment-assessments", "post"): {
            "party": commitment.obligor_id, "rating": "in_the_works",
            "justification": "Talks resumed.",
        },
        ("api:commitment-review-assessment", "post"): {},
        ("api:subscription-list", "post"): {"scope": "all"},
        ("api:subscription-detail", "put"): {"scope": "commitment",
                                             "commitment": commitment.pk, "lead_days": [3]},
        ("api:subscription-detail", "patch"): {"lead_days": [3]},
        ("api:feeds:calendar-feed-list", "post"): {"scope": "watchlist"},
        ("api:feeds:calendar-feed-rotate", "post"): {},
        ("api:webhook-list", "post"): {"target_url": "http://127.0.0.1:9/other",
                                       "secret": "another-secret-0123456789"},
        ("api:webhook-detail", "put"): {"target_url": "http://127.0.0.1:9/hook"},
        ("api:webhook-detail", "patch"): {"description": "Ops"},
        # Sources kept as evidence (issue 14).
        ("api:source-list", "post"): {
            "title": "Security review source", "publisher": "Gate", "language": "fr",
            "published_on": "2025-10-28", "kind": "press",
            "text": "Un texte gardé pour la revue de sécurité.",
        },
        # The text parser (issue 14): reads, writes nothing.
        ("api:parse-list", "post"): {"text": "within 90 days", "lang": "en",
                                     "anchor": "2025-08-21"},
    }
    return bodies


def _serializer_of(route: Route, action: str) -> serializers.Serializer:
    if name_of(route) in ("api:commitment-change-status",
                          "api:commitment-change-occurrence-status"):
        return api_serializers.StatusChangeSerializer()
    if name_of(route) == "api:commitment-revise":
        return api_serializers.RevisionCreateSerializer()
    if name_of(route) == "api:commitment-assessments":
        return api_serializers.AssessmentCreateSerializer()
    if name_of(route) == "api:commitment-review-assessment":
        return api_serializers.AssessmentReviewSerializer()
    if name_of(route) in ("api:commitment-corrections", "api:agreement-corrections"):
        return CorrectionCreateSerializer()
    if name_of(route) == "api:agreement-publication":
        return api_serializers.PublicationChangeSerializer()
    return view_of(route, action).get_serializer_class()()


def forged(field: serializers.Field) -> Any:
    """Return a well-formed value for ``field`` that differs from anything stored."""
    if isinstance(field, serializers.ListSerializer | serializers.ManyRelatedField |
                  serializers.ListField):
        return []
    if isinstance(field, serializers.BaseSerializer):
        return {}
    if isinstance(field, serializers.BooleanField):
        return True
    if isinstance(field, serializers.DateTimeField):
        return "2031-01-01T00:00:00Z"
    if isinstance(field, serializers.DateField):
        return "2031-01-01"
    if isinstance(field, serializers.ChoiceField):
        return list(field.choices)[-1]
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField |
                  serializers.DecimalField):
        return 987654
    return "forged"


def read_only_paths(serializer: serializers.Serializer) -> list[tuple[tuple[str, ...], Any]]:
    """Return the path and a forged value of every read-only field, nested ones included."""
    paths: list[tuple[tuple[str, ...], Any]] = []
    for name, field in serializer.fields.items():
        if field.read_only:
            paths.append(((name,), forged(field)))
        elif isinstance(field, serializers.Serializer):
            paths += [((name, *inner), value) for inner, value in read_only_paths(field)]
    return paths


#: Keys no writable resource has, that would grant something if a serializer took them.
PRIVILEGED = {"user": None, "owner": None, "is_superuser": True, "is_staff": True,
              "secret_hash": "0" * 64, "key_hash": "0" * 64, "password": "pw"}


def with_value(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return body


def named_in(answer: dict[str, Any], path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(answer, dict) or key not in answer:
            return False
        answer = answer[key]
    return True


def test_read_only_and_privileged_fields_are_refused_or_ignored_on_every_writable_route(world):
    """Strict serializers refuse each (400 naming it, nothing written); calendar feeds ignore it.

    An action that reads no body (rotating a feed's secret) ignores whatever is sent.
    """
    # Corrections are of published content: the world's agreement is published.
    agreement_publish_unreviewed(agreement=world.commitment.agreement)
    bodies = _bodies(world)
    client = session_client(world.editor)
    found = set()
    for route in api_routes():
        for method, action in list(route.view.actions.items()):
            if method not in ("post", "put", "patch"):
                continue
            where = (name_of(route), method)
            found.add(where)
            assert where in bodies, f"give {where} a valid body in _bodies()"
            kwargs = {"pk": row_for(route, world.editor).pk} if "pk" in route.parameters() else {}
            if "sequence" in route.parameters():
                kwargs["sequence"] = 1
            kwargs.update(rating_of(route, kwargs))
            url = reverse(name_of(route), kwargs=kwargs)
            body = bodies[where]
            send = getattr(client, method)

            with transaction.atomic():  # the body alone is accepted: refusals below are real
                accepted = send(url, body, format="json")
                transaction.set_rollback(True)
            assert accepted.status_code in (200, 201), (where, accepted.content)

            serializer = _serializer_of(route, action)
            forged_fields = read_only_paths(serializer) + [
                ((name,), value) for name, value in PRIVILEGED.items()
                if name not in serializer.fields
            ]
            for path, value in forged_fields:
                with transaction.atomic():
                    with CaptureQueriesContext(connection) as queries:
                        answer = send(url, with_value(body, path, value), format="json")
                    if isinstance(serializer, StrictMixin):
                        assert answer.status_code == 400, (where, path, answer.content)
                        assert named_in(answer.json(), path), (where, path, answer.json())
                        assert not writes_of(queries), (where, path)
                    elif body:
                        _check_ignored(answer, path, value, world)
                    else:
                        assert answer.status_code == 200, (where, path, answer.content)
                    transaction.set_rollback(True)
    assert found == set(bodies), set(bodies) - found


def _check_ignored(answer: Any, path: tuple[str, ...], value: Any, world: World) -> None:
    """A lenient serializer (calendar feeds) made the row, ignoring what it may not set."""
    assert answer.status_code == 201, answer.content
    feed = CalendarFeed.objects.get(pk=answer.json()["id"])
    assert feed.user == world.editor
    if hasattr(feed, path[0]):
        stored = getattr(feed, path[0])
        assert stored != value and "2031" not in str(stored), (path, stored)


def test_a_status_cannot_be_written_except_through_the_status_action(world):
    client = session_client(world.editor)
    url = reverse("api:commitment-detail", args=[world.anchored.pk])
    for status in ("fulfilled", "cancelled"):
        response = client.patch(url, {"status": status}, format="json")
        assert response.status_code == 400
        assert response.json() == {"status": ["This field is read-only."]}
    world.anchored.refresh_from_db()
    assert world.anchored.status == "not_started"


def test_a_viewer_cannot_write_shared_data_by_any_method(world):
    client = session_client(world.viewer)
    for route in api_routes():
        if own_data(route):
            continue
        kwargs = {}
        if "pk" in route.parameters():
            kwargs["pk"] = row_for(route, world.viewer).pk
        if "sequence" in route.parameters():
            kwargs["sequence"] = 1
        kwargs.update(rating_of(route, kwargs))
        url = reverse(name_of(route), kwargs=kwargs)
        for method in set(route.view.actions) - {"get", "head", "options"}:
            with CaptureQueriesContext(connection) as queries:
                response = client.generic(method.upper(), url, "{}",
                                          content_type="application/json")
            assert response.status_code == 403, (method, url, response.status_code)
            assert not writes_of(queries)


#: The exact keys of every representation, by route; a new key is a decision, made here.
CITATION = {"id", "source", "source_title", "source_publisher", "quote", "start", "end",
            "translation", "translation_language", "locator"}
PROGRESS = {"id", "url", "commitment", "occurrence", "occurred_on", "status_from", "status_to",
            "note", "measured_value", "evidence", "author", "created"}
OCCURRENCE = {"sequence", "due_date", "due_at", "target_amount", "status", "status_changed_at",
              "fulfilled_on", "deadline_state", "flagged_at"}
OBLIGOR_RATING = {"id", "party", "rating", "rating_label", "score", "justification", "evidence",
                  "assessed_on", "reviewed_on", "review_due", "author",
                  # Issue 15: the French text and the machine translations, kept apart.
                  "justification_fr", "machine_translations"}
EXPECTED_KEYS: dict[str, dict[str, set[str]]] = {
    "party": {"": {"id", "url", "key", "name", "name_fr", "machine_translations", "kind",
                   "country_code", "created", "updated"}},
    "source": {"": {"id", "url", "key", "title", "publisher", "link", "language",
                    "published_on", "kind", "retrieved_on", "content_type", "original_name",
                    "sha256", "original", "text", "created", "updated"}},
    "agreement": {"": {"id", "url", "key", "title", "kind", "parties", "date", "place",
                       "time_zone", "summary", "citations", "publication_state",
                       "published_at", "created", "updated",
                       "title_fr", "summary_fr", "machine_translations"},
                  ".citations[]": CITATION},
    "commitment": {
        "": {"id", "url", "key", "agreement", "title", "description", "category", "obligor",
             "beneficiaries", "target_amount", "target_unit", "effective_from",
             "deadline_rule", "due_date", "due_at", "status", "status_changed_at",
             "fulfilled_on", "deadline_state", "flagged_at", "owner", "citations",
             "progress_updates", "created", "updated",
             # Issue 12: revisions and timeliness; recurrence; stages and the explanation.
             "original_due_date", "due_precision", "revisions", "fulfilment_timing",
             "recurrence", "occurrences", "stages", "deadline_explanation",
             # Issue 13: the obligors, their current ratings, progress against pace.
             "obligors", "assessments", "progress",
             # Issue 15: French texts, machine translations kept apart.
             "title_fr", "description_fr", "machine_translations"},
        ".assessments[]": OBLIGOR_RATING,
        ".assessments[].evidence": CITATION,
        ".progress": {"measured", "measured_on", "target", "unit", "share_of_target",
                      "pace_share", "pace"},
        ".recurrence": {"kind", "interval", "unit", "until", "count"},
        ".occurrences[]": OCCURRENCE,
        ".deadline_rule": {"kind", "date", "precision", "offset_amount", "offset_unit",
                           "anchor_kind", "anchor_commitment", "period_unit", "period_number",
                           "period_year", "source_phrase", "description"},
        ".stages": {"announced_on", "signed_on", "instrument", "effective_from",
                    "effective_from_precision", "retroactive", "in_force_on", "ended_on",
                    "ended_reason", "replaced_by"},
        ".stages.instrument": {"title", "url"},
        ".citations[]": CITATION,
        ".progress_updates[]": PROGRESS,
        ".progress_updates[].evidence": CITATION,
        ".revisions[]": {"kind", "revised_on", "old_due_date", "new_due_date", "new_precision",
                         "reason", "evidence", "author"},
        ".revisions[].evidence": CITATION,
    },
    "commitment-occurrences": {"": OCCURRENCE},
    "commitment-assessments": {"": OBLIGOR_RATING | {"commitment", "current", "created"},
                               ".evidence": CITATION},
    "progressupdate": {"": PROGRESS, ".evidence": CITATION},
    "subscription": {"": {"id", "url", "scope", "agreement", "party", "commitment", "mode",
                          "lead_days", "notify_overdue", "created"}},
    "alert": {"": {"id", "url", "commitment", "kind", "due_date", "threshold", "digest",
                   "state", "sent_at", "created"}},
    "calendar-feed": {"": {"id", "name", "scope", "agreement", "party", "secret_hint",
                           "created", "rotated_at", "revoked_at", "subscribe_url"}},
    "webhook": {"": {"id", "url", "target_url", "events", "description", "active",
                     "deliveries", "created"}},
    "webhook-deliveries": {"": {"id", "event", "state", "attempts", "last_status_code",
                                "response_ms", "last_error", "next_attempt_at", "sent_at",
                                "created"},
                           ".event": {"id", "type", "commitment", "occurred_at", "data"}},
}
ENVELOPE = {"count", "next", "previous", "results"}
#: Free-form JSON whose keys are data, not fields: a webhook event's frozen payload, a row's
#: machine translations (``{language: {field: text}}``, checked by the models' validation).
OPAQUE = {"data", "machine_translations"}


def key_sets(value: Any, path: str = "", found: dict[str, set[str]] | None = None
             ) -> dict[str, set[str]]:
    found = {} if found is None else found
    if isinstance(value, dict):
        found.setdefault(path, set()).update(value)
        for key, inner in value.items():
            if key not in OPAQUE:
                key_sets(inner, f"{path}.{key}", found)
    elif isinstance(value, list):
        for inner in value:
            key_sets(inner, f"{path}[]", found)
    return found


def resource_of(route: Route) -> str:
    name = name_of(route).rsplit(":", 1)[-1]
    if name.endswith(("-deliveries", "-occurrences", "-assessments")):
        return name
    return name.rsplit("-", 1)[0]


#: Keys a resource's detail shows and its list leaves out: a source's whole archived text.
DETAIL_ONLY = {"source": {"text"}}

#: Routes that answer with a file, not JSON: a source's archived original (its headers and
#: who may read it are checked in tests/api/test_sources.py).
FILE_ROUTES = {"api:source-original"}


def every_answer(client: APIClient, world: World, user: Any) -> dict[str, Any]:
    """GET every API route that reads (lists, details, read actions) as ``user``."""
    answers = {}
    for route in api_routes():
        if "get" not in route.view.actions or name_of(route) in FILE_ROUTES:
            continue
        kwargs = {}
        if "pk" in route.parameters():
            row = row_for(route, user)
            if row is None:  # the viewer has no webhook endpoint
                continue
            kwargs["pk"] = row.pk
        response = client.get(reverse(name_of(route), kwargs=kwargs))
        assert response.status_code == 200, (name_of(route), response.content)
        answers[name_of(route)] = response.json()
    return answers


def test_every_representation_has_exactly_the_documented_keys(world):
    """Each object shows exactly its documented keys; each resource shows every documented object.

    A detail names one row, whose nested lists may be empty (a recurring commitment has
    occurrences and no revisions, a revised one the reverse): each route shows documented
    objects with exactly their keys, and the routes of a resource together show them all.
    """
    answers = every_answer(session_client(world.editor), world, world.editor)
    seen: dict[str, set[str]] = {}
    for route in api_routes():
        if name_of(route) not in answers or name_of(route) == "api:api-root":
            continue
        resource = resource_of(route)
        assert resource in EXPECTED_KEYS, f"{name_of(route)}: write down the keys it may show"
        body = answers[name_of(route)]
        if set(body) == ENVELOPE:
            assert body["results"], f"{name_of(route)}: the walk needs a row to look at"
            items = body["results"]
        else:
            items = [body]
        shown: dict[str, set[str]] = {}
        for item in items:
            key_sets(item, found=shown)
        assert "" in shown, name_of(route)
        expected = {path: EXPECTED_KEYS[resource].get(path) for path in shown}
        if set(body) == ENVELOPE:
            expected[""] = (expected[""] or set()) - DETAIL_ONLY.get(resource, set())
        assert shown == expected, name_of(route)
        seen.setdefault(resource, set()).update(shown)
    assert seen == {resource: set(paths) for resource, paths in EXPECTED_KEYS.items()}


#: Keys that would give away an account or a credential.
FORBIDDEN_KEYS = {"password", "key_hash", "secret_hash", "secret", "token", "key_prefix",
                  "email", "is_superuser", "is_staff", "last_login"}


def test_no_answer_holds_a_secret_or_an_email_address(world):
    """Nothing a user reads holds a password hash, a token or secret, or anyone's address."""
    bodies: list[str] = []
    for user in (world.viewer, world.editor):
        client = session_client(user)
        for name, answer in every_answer(client, world, user).items():
            keys = set().union(*key_sets(answer).values())
            assert not keys & FORBIDDEN_KEYS, (name, keys & FORBIDDEN_KEYS)
            bodies.append(json.dumps(answer))
        export_answer = client.get(reverse("api:feeds:commitment-export"))
        bodies.append(streamed(export_answer))
        for page in ("dashboard:overview", "dashboard:commitments", "dashboard:watching"):
            bodies.append(client.get(reverse(page)).content.decode())
        for page, row in (("dashboard:commitment", world.commitment.pk),
                          ("dashboard:agreement", world.commitment.agreement_id)):
            bodies.append(client.get(reverse(page, args=[row])).content.decode())
        feed = Client().get(reverse("api:feeds:calendar",
                                    args=[world.feed_secrets[user.username]]))
        assert feed.status_code == 200
        bodies.append(feed.content.decode())
    text = "\n".join(bodies)
    assert "Ministerial meeting" in text and "BEGIN:VCALENDAR" in text  # real data was read
    assert world.other.username in text  # the owner is named by username ...
    assert "@example.net" not in text  # ... never by address
    for secret in world.secrets():
        assert secret not in text


def test_secrets_are_shown_once_to_their_owner_and_never_again(world):
    client = session_client(world.viewer)
    made = client.post(reverse("api:feeds:calendar-feed-list"), {"scope": "all"}, format="json")
    assert made.status_code == 201
    secret = made.json()["subscribe_url"].rsplit("/", 1)[-1].removesuffix(".ics")
    again = client.get(reverse("api:feeds:calendar-feed-detail", args=[made.json()["id"]]))
    assert again.json()["subscribe_url"] is None
    assert secret not in again.content.decode()
    assert CalendarFeed.objects.filter(secret_hash__contains=secret).count() == 0


# --- API4: unrestricted resource consumption -----------------------------------------------


def list_routes() -> list[Route]:
    return [route for route in api_routes() if "list" in route.view.actions.values()]


def test_every_list_refuses_pages_over_the_maximum_and_says_so_in_the_schema(world):
    client = session_client(world.editor)
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json").json()
    maximum = PageNumberPagination.max_page_size
    for route in list_routes():
        url = reverse(name_of(route))
        too_many = client.get(url, {"page_size": maximum + 1})
        assert too_many.status_code == 400, name_of(route)
        assert too_many.json() == {
            "page_size": [f"Must be between 1 and {maximum}; got {maximum + 1}."]}
        assert client.get(url, {"page_size": maximum}).status_code == 200
        past_the_end = client.get(url, {"page": 10**30})
        assert past_the_end.status_code == 404, name_of(route)
        assert past_the_end["Content-Type"] == "application/json"
        assert "does not exist" in past_the_end.json()["detail"]

        parameters = {p["name"]: p for p in schema["paths"]["/" + route.route]["get"]
                      ["parameters"]}
        assert parameters["page_size"]["schema"]["maximum"] == maximum, name_of(route)
        assert "400" in schema["paths"]["/" + route.route]["get"]["responses"], name_of(route)


def text_filters(route: Route) -> list[str]:
    filterset = getattr(route.view.cls, "filterset_class", None)
    if filterset is None:
        return []
    return [name for name, flt in filterset.base_filters.items()
            if flt.field_class.__name__ == "CharField"]


def test_very_long_text_filters_are_refused_not_run(world):
    """A 10 000-character search is a 400 naming the filter, in the API and the dashboard."""
    client = session_client(world.editor)
    long_text = "x" * 10_000
    tried = 0
    for route in list_routes():
        for name in text_filters(route):
            response = client.get(reverse(name_of(route)), {name: long_text})
            assert response.status_code == 400, (name_of(route), name, response.status_code)
            assert name in response.json()
            tried += 1
    assert tried >= 4
    export_answer = client.get(reverse("api:feeds:commitment-export"), {"q": long_text})
    assert export_answer.status_code == 400
    browser = Client()
    browser.force_login(world.editor)
    assert browser.get(reverse("dashboard:commitments"), {"q": long_text}).status_code == 400


def test_a_flood_of_query_parameters_is_a_json_400(world):
    client = session_client(world.editor)
    flood = "&".join(["status=fulfilled"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(reverse("api:commitment-list") + "?" + flood)
    assert response.status_code == 400
    assert "query parameters" in response.json()["detail"]
    browser = Client()
    browser.force_login(world.editor)
    assert browser.get(reverse("dashboard:commitments") + "?" + flood).status_code == 400


def test_a_body_over_the_upload_limit_is_a_json_413_and_writes_nothing(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = session_client(world.editor)
    url = reverse("api:agreement-detail", args=[world.commitment.agreement_id])
    body = json.dumps({"summary": "x" * 20_000})
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(url, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the 10000 bytes accepted."}
    assert not writes_of(queries)
    assert client.patch(url, json.dumps({"summary": "short"}),
                        content_type="application/json").status_code == 200


def test_a_form_post_over_the_limits_is_a_400(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    browser = Client()
    browser.force_login(world.editor)
    url = reverse("dashboard:commitment", args=[world.anchored.pk])
    assert browser.post(url, {"status": "in_progress", "note": "x" * 20_000}).status_code == 400
    fields = {f"field{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert browser.post(url, {"status": "in_progress", **fields}).status_code == 400
    assert not world.anchored.progress_updates.exists()


def test_a_long_list_of_ids_costs_a_bounded_number_of_queries(world):
    """Party ids are checked in one query, whatever the list's length (up to the bound)."""
    client = session_client(world.editor)
    url = reverse("api:agreement-detail", args=[world.commitment.agreement_id])
    others = [
        Party.objects.create(key=f"party-{n}", name=f"Party {n}", kind=PartyKind.STATE).pk
        for n in range(40)
    ]
    ids = [world.commitment.obligor_id, *others] * 7  # 287 ids, repeats included
    # Both requests change the parties (21, then 41 of them), so they do the same writes.
    with CaptureQueriesContext(connection) as short:
        response = client.patch(url, {"parties": ids[:21]}, format="json")
    assert response.status_code == 200, response.content
    with CaptureQueriesContext(connection) as long:
        response = client.patch(url, {"parties": ids}, format="json")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["parties"]) == sorted({world.commitment.obligor_id, *others})
    # 287 ids cost no more queries than 21 (the first request also warms the session).
    assert len(long.captured_queries) <= len(short.captured_queries)


@pytest.mark.parametrize(
    "field, route", [("parties", "agreement"), ("beneficiaries", "commitment")]
)
def test_more_ids_than_the_bound_are_refused_naming_the_field(world, field, route):
    client = session_client(world.editor)
    obj = world.commitment.agreement if route == "agreement" else world.commitment
    url = reverse(f"api:{route}-detail", args=[obj.pk])
    before = sorted(getattr(obj, field).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        ids = [world.commitment.obligor_id] * 100_000
        response = client.patch(url, {field: ids}, format="json")
    assert response.status_code == 400
    assert "at most 300" in response.json()[field][0]
    assert len(queries.captured_queries) < 20
    assert sorted(getattr(obj, field).values_list("pk", flat=True)) == before


@pytest.mark.parametrize("bad, reason", [(["x"], "Incorrect type"), ([True], "Incorrect type"),
                                         ([1.5], "Incorrect type"), ([999_999], "does not exist"),
                                         ("1,2", "Expected a list")])
def test_malformed_party_ids_are_refused_naming_the_field(world, bad, reason):
    client = session_client(world.editor)
    agreement = world.commitment.agreement
    url = reverse("api:agreement-detail", args=[agreement.pk])
    before = sorted(agreement.parties.values_list("pk", flat=True))
    versions = agreement.history.count()
    response = client.patch(url, {"parties": bad}, format="json")
    assert response.status_code == 400
    assert reason in str(response.json()["parties"])
    assert sorted(agreement.parties.values_list("pk", flat=True)) == before
    assert agreement.history.count() == versions


def test_a_filtered_export_streams_and_filters_in_the_database(world, make_commitment,
                                                               monkeypatch):
    """The export reads matching rows chunk by chunk; the filter is SQL, not Python."""
    template = make_commitment(title="Tariff step", category="tariff")
    fields = {f.attname: getattr(template, f.attname) for f in Commitment._meta.concrete_fields
              if not f.primary_key and f.attname not in ("key", "category")}
    Commitment.objects.bulk_create(
        [Commitment(**fields, key=f"bulk-{n}", category="tariff" if n % 2 else "meeting")
         for n in range(600)], batch_size=300)
    pulled: list[tuple] = []
    real_iterator = QuerySet.iterator

    def counting_iterator(self, chunk_size=None):
        for row in real_iterator(self, chunk_size=chunk_size):
            pulled.append(row)
            yield row

    monkeypatch.setattr(QuerySet, "iterator", counting_iterator)
    client = session_client(world.viewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("api:feeds:commitment-export"), {"category": "tariff"})
        assert response.streaming and pulled == []
        body = streamed(response)
    matching = Commitment.objects.filter(category="tariff").count()
    assert matching == 301
    assert len(pulled) == matching == body.count("\n") - 1
    assert any("tariff" in q["sql"] and "WHERE" in q["sql"].upper()
               for q in queries.captured_queries)
    assert body.splitlines()[0] == ",".join(export.COLUMNS)


def _rates(**rates: str | None) -> Any:
    return override_settings(REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**api_settings.DEFAULT_THROTTLE_RATES, **rates}})


def test_session_users_are_throttled_with_retry_after(world):
    client = session_client(world.viewer)
    with _rates(user="3/minute"):
        assert [client.get("/api/v1/parties/").status_code for _ in range(3)] == [200] * 3
        refused = client.get("/api/v1/parties/")
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 60
        assert session_client(world.editor).get("/api/v1/parties/").status_code == 200


def test_anonymous_readers_are_throttled_per_address_whatever_x_forwarded_for_says(world):
    with _rates(anon="3/minute"), override_settings(API_PUBLIC_READ=True):
        client = APIClient(REMOTE_ADDR="198.51.100.7")
        answers = [client.get("/api/v1/parties/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
                   for n in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert 0 < int(answers[-1]["Retry-After"]) <= 60
        assert APIClient(REMOTE_ADDR="198.51.100.8").get("/api/v1/parties/").status_code == 200


def test_behind_a_proxy_the_address_it_saw_is_counted(world):
    """With API_NUM_PROXIES=1 the last X-Forwarded-For entry (the proxy's) names the client."""
    rest = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1,
            "DEFAULT_THROTTLE_RATES": {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "2/minute"}}
    with override_settings(REST_FRAMEWORK=rest, API_PUBLIC_READ=True):
        proxy = APIClient(REMOTE_ADDR="10.0.0.2")
        for _ in range(2):
            assert proxy.get("/api/v1/parties/",
                             HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.10").status_code == 200
        assert proxy.get("/api/v1/parties/",
                         HTTP_X_FORWARDED_FOR="5.6.7.8, 192.0.2.10").status_code == 429
        assert proxy.get("/api/v1/parties/",
                         HTTP_X_FORWARDED_FOR="192.0.2.11").status_code == 200


def test_domain_amounts_are_bounded(world):
    """Numbers that size later work (lead times, offsets) are capped at input."""
    client = session_client(world.viewer)
    subscriptions = list(Subscription.objects.values())
    rule = Commitment.objects.values().get(pk=world.anchored.pk)
    too_many_leads = client.post(reverse("api:subscription-list"),
                                 {"scope": "all", "lead_days": list(range(1, 30))},
                                 format="json")
    assert too_many_leads.status_code == 400
    assert "lead_days" in too_many_leads.json()
    editor = session_client(world.editor)
    huge_offset = editor.patch(
        reverse("api:commitment-detail", args=[world.anchored.pk]),
        {"deadline_rule": {"kind": "relative", "offset_amount": 10**12, "offset_unit": "days",
                           "anchor_kind": "agreement"}}, format="json")
    assert huge_offset.status_code == 400
    assert "offset_amount" in huge_offset.json()["deadline_rule"]
    assert list(Subscription.objects.values()) == subscriptions
    assert Commitment.objects.values().get(pk=world.anchored.pk) == rule
