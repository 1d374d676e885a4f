"""CSRF on every form: found by walking every URL of the project, not from a hand-made list.

Every route (admin pages of every registered model, dashboard, login, language switcher,
calendar-feed management, watch buttons, DRF's browsable API) is opened with real rows behind
it, as an administrator and as an anonymous visitor. Every ``<form method="post">`` found must
carry a CSRF token; posting it without the token must be refused with a 403 that writes
nothing, and posting it with the token must not be (so the 403 came from the CSRF check).
On the way, no GET may write to the database and no page may show a secret.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.urls.resolvers import RoutePattern
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient

from api.authentication import ApiTokenAuthentication
from commitments.models import Agreement, Assessment, Commitment, Report
from tests.support.api_support import token_client
from tests.support.security_support import Route, World, build_world, routes

pytestmark = pytest.mark.django_db

WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
#: A path no route claims, for the catch-all patterns.
NOWHERE = "no-such-page/"


# --- Finding the forms -------------------------------------------------------------------


@dataclasses.dataclass
class Form:
    """A ``<form>`` as a browser would submit it with its default values."""

    page: str
    method: str
    action: str
    fields: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    token: str = ""
    #: DRF's browsable API sends its forms by script (``data-method`` PUT, PATCH, DELETE, and
    #: the raw-data POST), with the page's token in the X-CSRFToken header. Without the
    #: script such a form carries no token and is refused, which is safe.
    script_token: str = ""

    @property
    def scripted(self) -> bool:
        return not self.token

    @property
    def path(self) -> str:
        return self.action.removeprefix("http://testserver")

    def submit(self, client: Client, *, with_token: bool) -> Any:
        """Send the form as the browser (or DRF's script) would, with or without its token."""
        if self.scripted:
            fields = dict(self.fields)
            headers = {"X-CSRFToken": self.script_token} if with_token else {}
            return client.generic(self.method.upper(), self.path, fields.get("_content", ""),
                                  content_type=fields.get("_content_type") or "text/plain",
                                  headers=headers)
        data: dict[str, list[str]] = {}
        for name, value in self.fields:
            data.setdefault(name, []).append(value)
        if with_token:
            data["csrfmiddlewaretoken"] = [self.token]
        return client.post(self.path, data)

    def signature(self) -> tuple[str, str, tuple[str, ...]]:
        """The same form on many pages (the language switcher) is posted once."""
        names = tuple(sorted({name for name, _v in self.fields}))
        return self.method, urlsplit(self.action).path, names


class FormParser(HTMLParser):
    """Collect every form of a page with the fields a browser would send."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool, list[tuple[str, bool]]] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._submitted = False
        self._in_drf_token = False
        self.script_token = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "script" and a.get("id") == "drf_csrf":
            self._in_drf_token = True
        if tag == "form":
            method = a.get("data-method") or a.get("method") or "get"
            self._form = Form(page=self.page, method=method.lower(),
                              action=urljoin(self.page, a.get("action") or self.page))
            self._submitted = False
            self.forms.append(self._form)
            return
        if self._form is None or "name" not in a or "disabled" in a:
            if tag == "option" and self._select is not None:
                self._select[2].append((a.get("value", ""), "selected" in a))
            return
        name = a["name"]
        kind = a.get("type", "text" if tag == "input" else "submit").lower()
        if name == "csrfmiddlewaretoken":
            self._form.token = a.get("value", "")
        elif tag == "input" and kind in ("checkbox", "radio"):
            if "checked" in a:
                self._form.fields.append((name, a.get("value", "on")))
        elif (tag == "input" and kind in ("submit", "image")) or tag == "button":
            if kind == "submit" and not self._submitted:  # the first button is the one pressed
                self._form.fields.append((name, a.get("value", "")))
                self._submitted = True
        elif tag == "input" and kind not in ("file", "reset", "button"):
            self._form.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = (name, "multiple" in a, [])
        elif tag == "textarea":
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._in_drf_token:
            self.script_token = json.loads(data)["csrfToken"]
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_drf_token = False
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not multiple and not chosen and options:
                chosen = [options[0][0]]
            self._form.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None


# --- Walking the URLs ----------------------------------------------------------------------


def admin_model(route: str) -> Any:
    for model in admin.site._registry:
        if route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


#: Pages that act on one row, by route name: the model of the row their ``pk`` names.
ROW_ACTION_PAGES = {
    "commitment_revise": "commitment",
    "report_freeze": "agreement",
    # Ratings (issue 13).
    "commitment_rate": "commitment",
    "assessment_review": "commitment",
    # Sources and imports (issue 14).
    "source": "source",
    "source_original": "source",
    "import_run": "importrun",
    # Publishing (issue 15).
    "agreement_publication": "agreement",
}


def model_behind(route: Route) -> Any:
    """Return the model whose row a ``pk`` in ``route`` names."""
    view_class = getattr(route.view, "cls", None)
    serializer = getattr(view_class, "serializer_class", None)
    if serializer is not None:
        return serializer.Meta.model
    model_name = (route.name or "").rsplit(":", 1)[-1]
    model_name = ROW_ACTION_PAGES.get(model_name, model_name)
    matches = [m for m in apps.get_models() if m._meta.model_name == model_name]
    assert len(matches) == 1, f"{route.route}: which model does its pk name?"
    return matches[0]


def a_row(model: Any, world: World) -> Any:
    """Return a row of ``model`` for the administrator: their own, where rows have owners."""
    rows = model._default_manager.order_by("pk")
    for field in ("user", "owner"):
        if any(f.name == field for f in model._meta.fields):
            own = rows.filter(**{field: world.admin})
            rows = own if own.exists() else rows
    row = rows.first()
    assert row is not None, f"the walk needs a {model.__name__} row: add one to build_world"
    return row


def public_kwargs(route: Route, parameters: list[str], world: World) -> dict[str, Any]:
    """Return the public route's parameters: English, and the key of the world's row."""
    keys = {
        "agreement": world.commitment.agreement.key,
        "commitment": world.commitment.key,
        "party": world.commitment.obligor.key,
        "source": world.citation.source.key,
    }
    kwargs: dict[str, Any] = {"lang": "en"}
    report = a_row(Report, world) if "report_id" in parameters else None
    for parameter in parameters:
        if parameter == "key" and report is not None:  # a report's page, under its agreement
            kwargs["key"] = report.agreement.key
        elif parameter == "key":
            kind = next((k for k in keys if k in str(route.name)), None)
            assert kind is not None, f"{route.route}: no key for {route.name}"
            kwargs["key"] = keys[kind]
        elif parameter == "report_id" and report is not None:
            kwargs["report_id"] = report.pk
        elif parameter != "lang":
            raise AssertionError(f"{route.route}: no value for its parameter {parameter!r}")
    return kwargs


def urls_of(route: Route, world: World) -> list[str]:
    """Return the URLs that open ``route`` with real rows behind its parameters."""
    parameters = route.parameters()
    if "format" in parameters:
        return []  # DRF's format suffixes: the same views as the routes without them
    if route.name is None:
        if isinstance(route.pattern.pattern, RoutePattern) and parameters == ["object_id"]:
            row = a_row(admin_model(route.route), world)  # the admin's redirect to "change"
            return ["/" + route.route.replace("<path:object_id>", str(row.pk))]
        return ["/" + re.sub(r"\(\?P<url>\.\*\)", "", route.route) + NOWHERE]  # catch-alls
    if route.name == "admin:app_list":
        labels = sorted({model._meta.app_label for model in admin.site._registry})
        return [reverse(route.name, kwargs={"app_label": label}) for label in labels]
    if route.name == "admin:view_on_site":
        kind = ContentType.objects.get_for_model(Commitment)
        return [reverse(route.name, args=[kind.pk, world.commitment.pk])]
    model = admin_model(route.route)
    if model is not None:
        row = a_row(model, world)
        if parameters == ["#0", "#1"]:  # django-simple-history: one version of the row
            return [reverse(route.name, args=[row.pk, row.history.first().history_id])]
        if parameters:
            return [reverse(route.name, args=[row.pk])]
    if "lang" in parameters:  # the public site (issue 15): its pages name rows by their keys
        return [reverse(route.name, kwargs=public_kwargs(route, parameters, world))]
    if {"agreement_pk", "report_id"} & set(parameters):  # compliance and reports (issue 13)
        report = a_row(Report, world)
        values = {"agreement_pk": report.agreement_id, "report_id": report.pk,
                  "pk": report.agreement_id if "report_id" in parameters else report.pk}
        return [reverse(route.name, kwargs={name: values[name] for name in parameters})]
    kwargs: dict[str, Any] = {}
    for parameter in parameters:
        if parameter == "pk" and "sequence" in parameters:  # the world's recurring one
            kwargs["pk"] = Commitment.objects.exclude(recurrence="none").order_by("pk")[0].pk
        elif parameter == "pk":
            kwargs["pk"] = a_row(model_behind(route), world).pk
        elif parameter == "secret":
            kwargs["secret"] = world.feed_secrets[world.admin.username]
        elif parameter == "sequence":  # an occurrence of the world's recurring commitment
            kwargs["sequence"] = 1
        elif parameter == "assessment_id":  # the current rating of the commitment named
            kwargs["assessment_id"] = Assessment.objects.get(
                commitment=kwargs["pk"], current=True
            ).pk
        elif parameter == "source_id":  # the workbench of the world's source (issue 14)
            kwargs["source_id"] = world.citation.source_id
        elif parameter == "file_format":  # the import template (issue 14)
            kwargs["file_format"] = "csv"
        else:
            raise AssertionError(f"{route.route}: no value for its parameter {parameter!r}")
    return [reverse(route.name, kwargs=kwargs)]


@pytest.fixture
def world(django_user_model, agreement, make_commitment, source, settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # not tested
    return build_world(django_user_model, agreement, make_commitment, source)


def logged_in(user: Any, **options: Any) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def open_every_page(client: Client, world: World, *, with_parameters: bool
                    ) -> tuple[dict[str, int], list[Form]]:
    """GET every URL (as HTML), check it writes and shows nothing it should not.

    Return the status of each URL and every form found.
    """
    seen: dict[str, int] = {}
    forms: list[Form] = []
    for route in routes():
        if route.parameters() and not with_parameters:
            continue
        for url in urls_of(route, world):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, HTTP_ACCEPT="text/html")
            writes = [q["sql"] for q in queries.captured_queries if WRITE_SQL.match(q["sql"])]
            assert not writes, f"GET {url} wrote to the database: {writes}"
            assert response.status_code < 500, f"GET {url}: {response.status_code}"
            seen[url] = response.status_code
            if not response.streaming:  # no page, the admin's included, shows a secret
                shown = response.content.decode(errors="replace")
                assert not [s for s in world.secrets() if s in shown], f"GET {url} shows one"
            if response.get("Content-Type", "").startswith("text/html"):
                parser = FormParser("http://testserver" + url)
                parser.feed(response.content.decode())
                for form in parser.forms:
                    form.script_token = parser.script_token
                forms.extend(parser.forms)
    return seen, forms


def csrf_refusal(response: Any) -> bool:
    """Return whether ``response`` is the CSRF check's 403 (Django's page or DRF's JSON)."""
    return response.status_code == 403 and b"CSRF" in response.content


def check_forms(client: Client, forms: list[Form]) -> list[Form]:
    """Check every distinct form that writes, found by ``client``; return them.

    Each form is sent with the cookies of the browser that opened it (its session and CSRF
    cookie), as a forged cross-site request would be, first without the token, then with it.
    """
    writing: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for form in forms:
        if form.method in ("get", "head", "options", "dialog"):
            continue
        assert form.token or form.script_token, f"a {form.method} form on {form.page} has no token"
        assert urlsplit(form.action).netloc == "testserver", f"{form.page} posts off-site"
        writing.setdefault(form.signature(), form)

    forger = Client(enforce_csrf_checks=True)
    for form in writing.values():
        forger.cookies = copy.deepcopy(client.cookies)
        with CaptureQueriesContext(connection) as queries:
            forged = form.submit(forger, with_token=False)
        writes = [q["sql"] for q in queries.captured_queries if WRITE_SQL.match(q["sql"])]
        assert csrf_refusal(forged), f"{form.method} {form.path} from {form.page} without a " \
                                     f"token: {forged.status_code}"
        assert not writes, f"{form.method} {form.path} without a token wrote: {writes}"

        forger.cookies = copy.deepcopy(client.cookies)
        with transaction.atomic():  # the real submission, undone: not refused by the check
            genuine = form.submit(forger, with_token=True)
            transaction.set_rollback(True)
        assert not csrf_refusal(genuine), f"{form.method} {form.path} with its token: refused"
    return list(writing.values())


def test_every_post_form_carries_a_token_and_is_refused_without_it(world):
    """Walk every page as an administrator, then as a visitor, and post every form found."""
    administrator = logged_in(world.admin)
    seen, found = open_every_page(administrator, world, with_parameters=True)
    forms = check_forms(administrator, found)

    visitor = logged_in(None)
    _seen, found = open_every_page(visitor, world, with_parameters=False)
    forms += check_forms(visitor, found)

    # The walk really opened the pages that hold forms, with real rows behind them.
    for model in admin.site._registry:
        opts = model._meta
        row = a_row(model, world)
        assert seen[reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")] == 200
        assert seen[reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                            args=[row.pk])] == 200
    assert seen[reverse("dashboard:commitment", args=[world.commitment.pk])] == 200
    assert seen[reverse("dashboard:agreement", args=[world.commitment.agreement_id])] == 200
    posted_to = {form.path for form in forms}
    expected = {
        reverse("login"),
        reverse("admin:login"),
        reverse("set_language"),
        reverse("logout"),
        reverse("admin:logout"),
        reverse("dashboard:watch"),
        reverse("dashboard:watching"),
        reverse("dashboard:commitment", args=[world.commitment.pk]),
        reverse("admin:commitments_commitment_change_status", args=[world.commitment.pk]),
        # Publishing (issue 15).
        reverse("admin:commitments_agreement_publication", args=[world.commitment.agreement_id]),
        reverse("dashboard:agreement_publication", args=[world.commitment.agreement_id]),
        reverse("admin:commitments_commitment_import"),
        reverse("admin:commitments_commitment_export"),
        reverse("admin:auth_user_password_change", args=[world.admin.pk]),
        reverse("api:agreement-list"),
        reverse("api:feeds:calendar-feed-list"),
    }
    assert expected <= posted_to, expected - posted_to


def test_only_api_views_with_token_or_csrf_checked_sessions_are_csrf_exempt():
    """Django's CSRF middleware is skipped only where DRF checks CSRF itself.

    DRF marks its views exempt and lets SessionAuthentication enforce CSRF for cookie logins;
    a token in the Authorization header is not sent by a browser on its own, so it needs none.
    Any other authentication a browser could replay (Basic, a cookie of our own) would not be
    checked: it is refused here.
    """
    exempt = [route for route in routes() if getattr(route.view, "csrf_exempt", False)]
    assert exempt
    for route in exempt:
        view_class = getattr(route.view, "cls", None)
        if view_class is None:
            # The only plain view allowed: the API's JSON 404 for paths no route claims.
            assert route.route == "api/v1/" and route.view.__name__ == "not_found", route.route
            continue
        classes = view_class().get_authenticators()
        assert route.route.startswith("api/v1/"), route.route
        for authenticator in classes:
            assert isinstance(authenticator, ApiTokenAuthentication | SessionAuthentication), (
                f"{route.route}: {type(authenticator).__name__} is not CSRF-safe"
            )


def test_the_api_catch_all_writes_nothing_to_any_method(world):
    client = logged_in(world.editor, enforce_csrf_checks=True)
    for method in ("post", "put", "patch", "delete"):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)("/api/v1/" + NOWHERE)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert not [q for q in queries.captured_queries if WRITE_SQL.match(q["sql"])]


def test_a_session_api_write_needs_the_csrf_token_and_a_token_header_does_not(world):
    agreement = Agreement.objects.get(pk=world.commitment.agreement_id)
    url = reverse("api:agreement-detail", args=[agreement.pk])

    session = APIClient(enforce_csrf_checks=True)
    session.force_login(world.editor)
    refused = session.patch(url, {"place": "Forged"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")

    session.get(reverse("dashboard:overview"))  # a page with a form sets the CSRF cookie
    csrf = session.cookies["csrftoken"].value
    accepted = session.patch(url, {"place": "Osaka"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200, accepted.content

    # The same logged-in browser with a token header: the token authenticates, no CSRF needed.
    key = world.token_keys[world.editor.username]
    with_token = session.patch(url, {"place": "Nagoya"}, format="json",
                               HTTP_AUTHORIZATION=f"Token {key}")
    assert with_token.status_code == 200, with_token.content
    assert token_client(world.editor).patch(url, {"place": "Kobe"}, format="json"
                                            ).status_code == 200
    agreement.refresh_from_db()
    assert agreement.place == "Kobe"
