"""The base of the admins that save through the services: a refusal is a form error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import ngettext

from commitments.forms import ServiceModelForm
from core.admin import HistoryAdmin

_REJECTION_ATTR = "_commitments_service_rejection"
#: Rows of each kind named on a delete confirmation page; the rest are counted.
DELETE_NAMED_PER_MODEL = 10


def _more(count: int, model: Any = None) -> str:
    """Say how many rows the confirmation page does not name: "… and 3 more commitments"."""
    if model is None:
        return ngettext("… and %(count)s more", "… and %(count)s more", count) % {"count": count}
    name = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
    return ngettext("… and %(count)s more %(name)s", "… and %(count)s more %(name)s", count) % {
        "count": count,
        "name": name,
    }


class ServiceRejected(Exception):
    """A service refused a save that the form had accepted; carries its error to the form."""

    def __init__(self, error: ValidationError, context: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.context = context


@contextmanager
def service_call(context: str = "") -> Iterator[None]:
    """Turn a service's ``ValidationError`` into :class:`ServiceRejected`."""
    try:
        yield
    except ValidationError as exc:
        raise ServiceRejected(exc, context) from exc


def model_fields_changed(form: forms.ModelForm) -> list[str]:
    """Return the concrete model fields among ``form.changed_data`` (for ``update_fields``)."""
    concrete = {f.name for f in form._meta.model._meta.concrete_fields}
    return [name for name in form.changed_data if name in concrete]


class ServiceSaveAdmin(HistoryAdmin):
    """History on every change, and service refusals shown as form errors instead of a 500.

    The admin runs each submission in a transaction. When a service raises while saving, the
    transaction is rolled back and the same submission is validated again with the service's
    error added to the form, so it is shown like any other and nothing is written.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            setattr(request, _REJECTION_ATTR, (rejected.error, rejected.context))
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        rejection = getattr(request, _REJECTION_ATTR, None)
        if rejection is not None and issubclass(form, ServiceModelForm):
            return type(form.__name__, (form,), {"service_rejection": rejection})
        return form

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Name a bounded number of the rows a deletion removes, and count them all."""
        return deleted_objects_summary(objs, request, self.admin_site)


class _CountingCollector(Collector):
    """Django's deletion collector, noting protected rows instead of stopping at them.

    Unlike the admin's ``NestedObjects`` it keeps no graph of who points at whom (only a
    bounded list is shown) and lets rows that need no signal be deleted in one statement,
    counted instead of loaded.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protected: set[Any] = set()

    def collect(self, objs: Any, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        try:
            super().collect(objs, *args, **kwargs)
        except ProtectedError as exc:
            self.protected.update(exc.protected_objects)
        except RestrictedError as exc:
            self.protected.update(exc.restricted_objects)


def deleted_objects_summary(
    objs: Any, request: HttpRequest, admin_site: Any
) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
    """Return what Django's ``get_deleted_objects`` returns, with a bounded list of names.

    Django names every row the deletion would remove, each through its ``__str__`` (often a
    query or two): 70 s for an agreement of 211 commitments. Here the rows are collected as
    Django collects them (same counts, same permission check on every row, same protected
    rows), but only the first :data:`DELETE_NAMED_PER_MODEL` of each kind are named, with a
    link; the others are counted ("… and 990 more commitments"), as the summary above does.
    """
    objs = list(objs)
    if not objs:
        return [], {}, set(), []
    collector = _CountingCollector(using=router.db_for_write(objs[0]._meta.model), origin=objs)
    collector.collect(objs)
    perms_needed: set[str] = set()

    def allowed(obj: Any) -> None:
        if not admin_site.is_registered(type(obj)):
            return
        if not admin_site.get_model_admin(type(obj)).has_delete_permission(request, obj):
            perms_needed.add(obj._meta.verbose_name)

    def named(obj: Any) -> Any:
        opts = obj._meta
        if admin_site.is_registered(type(obj)):
            try:
                url = reverse(
                    f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                    None,
                    (obj._get_pk_val(),),
                )
            except NoReverseMatch:
                pass
            else:
                return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)
        return f"{capfirst(opts.verbose_name)}: {obj}"

    roots = {id(obj) for obj in objs}
    below: list[Any] = []
    # The links of a many-to-many field (an agreement's parties) go with the row; Django's
    # own names for them ("Agreement_parties object (3)") are neither records nor translated.
    model_objs: dict[Any, Any] = {
        model: list(rows)
        for model, rows in collector.data.items()
        if not model._meta.auto_created
    }
    for model, found in model_objs.items():
        rows = [row for row in found if id(row) not in roots]
        for row in rows:
            allowed(row)
        below.extend(named(row) for row in rows[:DELETE_NAMED_PER_MODEL])
        if len(rows) > DELETE_NAMED_PER_MODEL:
            below.append(_more(len(rows) - DELETE_NAMED_PER_MODEL, model))
    to_delete: list[Any] = []
    for obj in objs[:DELETE_NAMED_PER_MODEL]:
        allowed(obj)
        to_delete.append(named(obj))
    for obj in objs[DELETE_NAMED_PER_MODEL:]:
        allowed(obj)
    if len(objs) > DELETE_NAMED_PER_MODEL:
        to_delete.append(_more(len(objs) - DELETE_NAMED_PER_MODEL, objs[0]))
    if below:
        to_delete.append(below)
    protected = [named(obj) for obj in list(collector.protected)[:DELETE_NAMED_PER_MODEL]]
    if len(collector.protected) > DELETE_NAMED_PER_MODEL:
        protected.append(_more(len(collector.protected) - DELETE_NAMED_PER_MODEL))
    model_count = {
        model._meta.verbose_name_plural: len(found) for model, found in model_objs.items()
    }
    for queryset in collector.fast_deletes:
        # Rows deleted in one statement, never loaded (no signal, no cascade): counted.
        if queryset.model._meta.auto_created:
            continue
        count = queryset.count()
        if count:
            name = queryset.model._meta.verbose_name_plural
            model_count[name] = model_count.get(name, 0) + count
    return to_delete, model_count, perms_needed, protected
