"""Hostile input through every form of the review pages, the login and the language switcher.

The pages come from the URL conf (every route outside the admin and the API, its ``pk`` set to
a row of the world), the forms from the rendered pages: a new page or form is walked without
editing this module. Each form is submitted as rendered with one field replaced; a GET form's
fields are walked as query parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from commitments.models import Agreement, Commitment
from tests.support.fuzzing import (
    FORM_URLENCODED,
    HOSTILE_TEXT,
    Form,
    Tally,
    World,
    build_world,
    check_display,
    client_for,
    display_urls,
    form_body,
    full_walk,
    page_forms,
    print_report,
    rolled_back,
    row_counts,
    sample,
    server_error,
)

pytestmark = pytest.mark.slow  # started first in the parallel pass (tests/conftest.py)

INTERFACE = "dashboard"

#: Where the walk does not go: other walks cover the admin and the API.
ELSEWHERE = ("admin/", "api/")


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Yield the route of every page outside the admin and the API."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(ELSEWHERE):
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def pages(world: World) -> list[str]:
    """Return the URL of each page, each ``<int:pk>`` set to a row of the world."""
    rows = {"agreements/": world.agreement.pk, "commitments/": world.commitment.pk}
    urls = []
    for route in routes():
        if "<int:pk>" in route:
            pk = next((pk for p, pk in rows.items() if route.startswith(p)), None)
            if pk is None:
                continue
            route = route.replace("<int:pk>", str(pk))
        if "<" not in route and "^" not in route:
            urls.append("/" + route)
    return urls


class DashboardWalk:
    def __init__(self, world: World, tally: Tally, full: bool) -> None:
        self.world, self.tally, self.full = world, tally, full
        self.display = client_for(world.admin)

    def answer(self, request: str, response: Any) -> bool:
        self.tally.count(INTERFACE, "requests")
        if response.status_code >= 500:
            self.tally.count(INTERFACE, "5xx")
            self.tally.find(INTERFACE, request, server_error(response))
            return False
        return True

    def forms_of(self, client: Client, url: str) -> list[tuple[str, Form]]:
        response = client.get(url)
        if not self.answer(f"GET {url}", response) or response.status_code != 200:
            return []
        if "html" not in response.get("Content-Type", ""):
            return []
        return [(urljoin(url, f.action) if f.action else url, f) for f in
                page_forms(response.content.decode())]

    def submit(self, client: Client, form: Form, url: str, fields: list[tuple[str, str]],
               request: str, name: str) -> None:
        before = row_counts()
        with rolled_back():
            if form.method.lower() == "post":
                response = client.post(url, form_body(fields), content_type=FORM_URLENCODED)
            else:
                response = client.get(f"{url}?{form_body(fields)}")
            if not self.answer(request, response):
                return
            if form.method.lower() != "post":
                self.tally.count(INTERFACE, "accepted" if response.status_code == 200
                                 else "refused")
                if row_counts() != before:
                    self.tally.find(INTERFACE, request, "a GET wrote rows")
                return
            context_form = (response.context or {}).get("form") if response.context else None
            errors = getattr(context_form, "errors", None)
            if response.status_code in (302, 200) and not errors:
                self.tally.count(INTERFACE, "accepted")
                check_display(self.display, display_urls(self.world), self.tally, INTERFACE,
                              request)
                return
            self.tally.count(INTERFACE, "refused")
            if row_counts() != before:
                self.tally.find(INTERFACE, request, "refused, but rows were written")
            # The form as rendered may lack a value it needs (a login's password, a quote's
            # source): then the refusal names that field, which is what a user must fix.
            if errors is not None and not set(errors) - {"__all__"}:
                self.tally.find(INTERFACE, request, f"refusal names no field: {errors}")

    def walk(self, client: Client, url: str) -> None:
        for target, form in self.forms_of(client, url):
            for name in form.names_fuzzable():
                key = f"{url} {form.method} {target} {name}"
                values = sample(HOSTILE_TEXT, key, full=self.full)
                if dict(form.fields).get(name, "").isdigit():  # an id: always those of class 4
                    values += [v for v in ("²", "abc", "99999999999999999999") if v not in values]
                for value in values:
                    self.submit(client, form, target, form.with_value(name, value),
                                f"{form.method.upper()} {target} from {url} "
                                f"{name}={value[:20]!r}", name)


@pytest.fixture
def world(db: None, django_user_model: Any, settings: Any) -> World:
    # The walk reads every display page (API ones too) after each accepted submission, as one
    # user: its own checks are not a client the API's per-user rate should slow down.
    rest = settings.REST_FRAMEWORK
    settings.REST_FRAMEWORK = {
        **rest,
        "DEFAULT_THROTTLE_RATES": {**rest["DEFAULT_THROTTLE_RATES"], "user": "100000/minute"},
    }
    return build_world(django_user_model)


def _walk(world: World, full: bool) -> Tally:
    tally = Tally()
    walk = DashboardWalk(world, tally, full)
    urls = pages(world)
    assert "/commitments/" in urls and f"/agreements/{world.agreement.pk}/" in urls
    for user in (world.editor, world.admin):
        client = client_for(user)
        for url in urls:
            walk.walk(client, url)
    anonymous = Client(raise_request_exception=False)
    walk.walk(anonymous, "/accounts/login/")
    print_report(tally, "dashboard")
    return tally


def test_dashboard_forms_refuse_hostile_values(world, pytestconfig):
    """Every form of every page: no 5xx, nothing written on refusal, accepted data displays."""
    tally = _walk(world, full_walk(pytestconfig))
    assert tally.counts[INTERFACE]["requests"] > 100
    assert not tally.findings, "\n".join(map(str, tally.findings[:40]))


@pytest.mark.fuzz_full
def test_dashboard_full_walk(world, pytestconfig):
    """Every value in every field of every form (``pytest -m fuzz_full``)."""
    tally = _walk(world, full=True)
    assert not tally.findings, "\n".join(map(str, tally.findings[:40]))


def test_the_walk_reaches_the_pages_that_post(world):
    """The watch and feed forms and the progress form are found, not listed by hand."""
    walk = DashboardWalk(world, Tally(), full=False)
    client = client_for(world.editor)
    targets = {target for url in pages(world) for target, f in walk.forms_of(client, url)
               if f.method.lower() == "post"}
    assert {"/watch/", f"/commitments/{world.commitment.pk}/"} <= targets
    assert Agreement.objects.exists() and Commitment.objects.exists()
