"""Hostile input through the admin of our models: add, change, history and changelist pages.

The pages come from the admin registry, the fields from the rendered forms, the filters and
sort keys from the changelist's own links, the bulk actions from each ``ModelAdmin``: a new
model, field, filter or action is walked without editing this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import models
from django.urls import NoReverseMatch, reverse

from commitments.models import Agreement, Commitment
from tests.support.fuzzing import (
    FORM_URLENCODED,
    HOSTILE_TEXT,
    OUR_APPS,
    Finding,
    Form,
    Tally,
    World,
    build_world,
    check_display,
    client_for,
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

#: Ids an attacker puts where the admin expects a primary key.
HOSTILE_IDS = ("abc", "²", "999999999", "-1", "1e30", "", "a\x00b", "\ud800")

#: Server errors explained by an open class of issue 11, by their signature; none is open.
KNOWN: dict[int, Callable[[Finding], bool]] = {}


def our_admins() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return [(m, a) for m, a in admin.site._registry.items() if m._meta.app_label in OUR_APPS]


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def maybe_admin_url(model: type[models.Model], view: str, *args: Any) -> str | None:
    """Return the URL of the admin page, None if the model's admin has no such page."""
    try:
        return admin_url(model, view, *args)
    except NoReverseMatch:
        return None


def main_form(html: str) -> Form | None:
    """Return the page's model form (the one with the most fields; not logout or language)."""
    forms = [f for f in page_forms(html) if f.method.lower() == "post"
             and "logout" not in f.action and "setlang" not in f.action]
    return max(forms, key=lambda f: len(f.names), default=None)


_INLINE = re.compile(r"^(?P<prefix>.+)-(?P<index>\d+)-(?P<field>[^-]+)$")


def add_baseline(model: type[models.Model], change_form: Form) -> list[tuple[str, str]]:
    """Turn the change page's values into a new row's: unique texts changed, inline rows new."""
    unique = {f.name for f in model._meta.fields
              if f.unique and not f.primary_key and isinstance(f, models.CharField)}
    prefixes = {n[: -len("-INITIAL_FORMS")] for n in change_form.names
                if n.endswith("-INITIAL_FORMS")}
    out = []
    for name, value in change_form.fields:
        match = _INLINE.match(name)
        if name in unique and value:
            value = f"{value}-fz"[:50]
        elif name.endswith("-INITIAL_FORMS") and name[: -len("-INITIAL_FORMS")] in prefixes:
            value = "0"
        elif match and match["prefix"] in prefixes:
            fk_names = {f.name for f in model._meta.related_objects} | {"id"}
            related = [r for r in model._meta.related_objects if r.get_accessor_name()]
            parent_fields = {r.field.name for r in related}
            if match["field"] in fk_names | parent_fields:
                value = ""
        out.append((name, value))
    return out


def refusal_names_field(response: Any, name: str) -> bool:
    """Return whether the re-rendered admin form shows an error on ``name``."""
    context = response.context
    if context is None or "adminform" not in context:
        return False
    field = re.sub(r"_[01]$", "", name)  # split date/time widgets post name_0 and name_1
    form = context["adminform"].form
    if field in form.errors:
        return True
    match = _INLINE.match(field)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        if match and match["prefix"] == formset.prefix:
            index = int(match["index"])
            if index < len(formset.forms) and match["field"] in formset.forms[index].errors:
                return True
            if formset.non_form_errors():
                return True
    return False


def form_has_errors(response: Any) -> bool:
    context = response.context
    if context is None or "adminform" not in context:
        return False
    if context["adminform"].form.errors:
        return True
    return any(i.formset.total_error_count() for i in context.get("inline_admin_formsets", []))


class AdminWalk:
    """Send hostile values through one model's admin pages and tally what comes back."""

    interface = "admin"

    def __init__(self, client: Any, world: World, tally: Tally, full: bool) -> None:
        self.client, self.world, self.tally, self.full = client, world, tally, full

    def _answer(self, request: str, response: Any) -> bool:
        """Count an answer; return False (after recording it) if it is a server error."""
        self.tally.count(self.interface, "requests")
        if response.status_code >= 500:
            self.tally.count(self.interface, "5xx")
            self.tally.find(self.interface, request, server_error(response))
            return False
        return True

    def submit(self, model: type[models.Model], url: str, fields: list[tuple[str, str]],
               request: str, name: str | None, obj_pk: Any, check_naming: bool) -> None:
        before = row_counts()
        with rolled_back():
            response = self.client.post(url, form_body(fields), content_type=FORM_URLENCODED)
            if not self._answer(request, response):
                return
            if response.status_code == 302:
                self.tally.count(self.interface, "accepted")
                pages: list[str | None] = [admin_url(model, "changelist")]
                if not request.startswith("action "):
                    pk = obj_pk or model._default_manager.order_by("-pk").values_list(
                        "pk", flat=True).first()
                    pages += [maybe_admin_url(model, "change", pk),
                              maybe_admin_url(model, "history", pk)]
                check_display(self.client, [p for p in pages if p] + self.public_pages(),
                              self.tally, self.interface, request)
                return
            self.tally.count(self.interface, "refused")
            if row_counts() != before:
                self.tally.find(self.interface, request, "refused, but rows were written")
            if request.startswith("action "):
                return  # the changelist or a confirmation page, nothing done
            if response.status_code == 200 and not form_has_errors(response):
                self.tally.find(self.interface, request, "200 without a form error")
            elif (check_naming and name and response.status_code == 200
                  and not refusal_names_field(response, name)):
                self.tally.find(self.interface, request, f"refusal does not name {name}")

    def public_pages(self) -> list[str]:
        """Return the pages that show the world's agreement and commitments (still there)."""
        w = self.world
        pages = ["/", f"/api/v1/calendar/{w.feed_secret}.ics", "/api/v1/commitments/export.csv"]
        if Agreement.objects.filter(pk=w.agreement.pk).exists():
            pages.append(f"/agreements/{w.agreement.pk}/")
        for pk in Commitment.objects.filter(pk__in=[w.commitment.pk, w.anchored.pk]).values_list(
                "pk", flat=True):
            pages += [f"/commitments/{pk}/", f"/api/v1/commitments/{pk}/"]
        return pages

    def admin_request(self, model_admin: admin.ModelAdmin) -> Any:
        request = self.client.get(admin_url(model_admin.model, "changelist")).wsgi_request
        request.user = self.world.admin
        return request

    def forms(self, model: type[models.Model], model_admin: admin.ModelAdmin) -> None:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            assert not model_admin.has_add_permission(self.admin_request(model_admin)), (
                f"the fuzz world has no {model._meta.label}: add one to build_world")
            return  # a log the admin only shows: its URLs and filters are walked
        change_url = admin_url(model, "change", obj.pk)
        add_url = maybe_admin_url(model, "add")
        page = self.client.get(change_url)
        if not self._answer(f"change {model._meta.label} GET", page):
            return
        change_form = main_form(page.content.decode())
        if change_form is None or "_save" not in page.content.decode():
            return  # a read-only log: no form to submit
        targets = [("change", change_url, change_form.fields, obj.pk)]
        if add_url and self.client.get(add_url).status_code == 200:
            targets.append(("add", add_url, add_baseline(model, change_form), None))
        for kind, url, baseline, pk in targets:
            base = Form(action=url, method="post", fields=[*baseline, ("_save", "Save")],
                        names=change_form.names)
            self._baseline_and_fields(model, kind, url, base, pk)

    def _baseline_and_fields(self, model: type[models.Model], kind: str, url: str, base: Form,
                             pk: Any) -> None:
        label = model._meta.label
        before = row_counts()
        with rolled_back():
            response = self.client.post(url, form_body(base.fields), content_type=FORM_URLENCODED)
            baseline_ok = response.status_code == 302
            self._answer(f"{kind} {label} baseline", response)
        assert row_counts() == before
        for name in base.names_fuzzable():
            for value in sample(HOSTILE_TEXT, f"{label}.{name}", full=self.full):
                request = f"{kind} {label} {name}={value[:20]!r}"
                self.submit(model, url, base.with_value(name, value), request, name, pk,
                            check_naming=baseline_ok)
        for prefix in {n[: -len("-TOTAL_FORMS")] for n in base.names
                       if n.endswith("-TOTAL_FORMS")}:
            for value in sample(("abc", "-1", "1001", "²", ""), f"{label}.{prefix}",
                                full=self.full, size=2):
                request = f"{kind} {label} {prefix}-TOTAL_FORMS={value!r}"
                self.submit(model, url, base.with_value(f"{prefix}-TOTAL_FORMS", value),
                            request, None, pk, check_naming=False)

    def get(self, request: str, url: str) -> None:
        before = row_counts()
        response = self.client.get(url)
        if self._answer(request, response):
            self.tally.count(self.interface, "refused" if response.status_code != 200
                             else "accepted")
        if row_counts() != before:
            self.tally.find(self.interface, request, "a GET wrote rows")

    def urls(self, model: type[models.Model], model_admin: admin.ModelAdmin) -> None:
        label = model._meta.label
        obj = model._default_manager.order_by("pk").first()
        for bad in sample(HOSTILE_IDS, f"{label}.ids", full=self.full, size=4):
            quoted = quote(bad.encode("utf-8", "surrogatepass"), safe="")
            if url := maybe_admin_url(model, "change", "0"):
                self.get(f"change {label} id={bad!r}", url.replace("/0/", f"/{quoted}/"))
            if url := maybe_admin_url(model, "history", "0"):
                self.get(f"history {label} id={bad!r}", url.replace("/0/", f"/{quoted}/"))
            if obj is not None and (url := maybe_admin_url(model, "simple_history", obj.pk,
                                                           "0")):
                self.get(f"history {label} version={bad!r}",
                         url[: -len("0/")] + f"{quoted}/")

    def changelist(self, model: type[models.Model], model_admin: admin.ModelAdmin) -> None:
        label = model._meta.label
        url = admin_url(model, "changelist")
        page = self.client.get(url)
        if not self._answer(f"changelist {label}", page):
            return
        params = {"q", "o", "p", IS_POPUP_VAR}
        for href in re.findall(r'href="(\?[^"]*)"', page.content.decode()):
            params.update(k for k, _v in parse_qsl(urlsplit(href.replace("&amp;", "&")).query))
        for spec in model_admin.list_filter:
            name = spec if isinstance(spec, str) else getattr(spec, "parameter_name", None)
            if isinstance(name, str) and "__" not in name:
                params.add(f"{name}__exact")
        if model_admin.date_hierarchy:
            params.add(f"{model_admin.date_hierarchy}__year")
        for param in sorted(params):
            for value in sample((*HOSTILE_TEXT, "99999", "0"), f"{label}?{param}",
                                full=self.full):
                query = form_body([(param, value)])
                self.get(f"changelist {label} ?{param}={value[:20]!r}", f"{url}?{query}")
        for action in model_admin.get_actions(self.admin_request(model_admin)):
            for bad in sample(HOSTILE_IDS, f"{label}.{action}", full=self.full, size=3):
                fields = [("action", action), ("index", "0"), ("_selected_action", bad)]
                self.submit(model, url, fields, f"action {label} {action} id={bad!r}", None,
                            None, check_naming=False)


@pytest.fixture
def world(db: None, django_user_model: Any) -> World:
    return build_world(django_user_model)


ADMINS = [pytest.param(m, id=m._meta.label) for m, _a in our_admins()]


def _walk(world: World, model: type[models.Model], config: pytest.Config,
          parts: tuple[str, ...]) -> None:
    tally = Tally()
    walk = AdminWalk(client_for(world.admin), world, tally, full_walk(config))
    model_admin = admin.site._registry[model]
    for part in parts:
        getattr(walk, part)(model, model_admin)
    print_report(tally, f"admin {model._meta.label}", KNOWN)
    problems = tally.unexplained(KNOWN)
    assert not problems, "\n".join(map(str, problems[:40]))


@pytest.mark.parametrize("model", ADMINS)
def test_admin_forms_refuse_hostile_values_by_field(world, model, pytestconfig):
    """Every add and change form: no 5xx, a refusal names the field, accepted data displays."""
    _walk(world, model, pytestconfig, ("forms",))


@pytest.mark.parametrize("model", ADMINS)
def test_admin_urls_filters_and_actions_survive_hostile_values(world, model, pytestconfig):
    """Hostile ids in change/history URLs, hostile filters, bulk actions on hostile ids."""
    _walk(world, model, pytestconfig, ("urls", "changelist"))


@pytest.mark.fuzz_full
@pytest.mark.parametrize("model", ADMINS)
def test_admin_full_walk(world, model, pytestconfig):
    """Every value on every field, URL, filter and action (``pytest -m fuzz_full``)."""
    _walk(world, model, pytestconfig, ("forms", "urls", "changelist"))
