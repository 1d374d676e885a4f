"""The admin site: Django's, refusing malformed ids and filters before any admin view runs.

Django's admin and django-simple-history build querysets straight from URL parts and posted
values. A history id or a bulk action's selected id that is not a number, a NUL character in
a filter, or a year the changelist cannot turn into a date range raises ``ValueError`` or a
database error deep inside, a server error. Every ``ModelAdmin`` view passes through
:meth:`TrackerAdminSite.admin_view`, so the check lives here once, for every model, ours and
third-party alike; what it refuses is answered the way the admin answers a missing object or
an empty selection.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import BadRequest, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from accounts.forms import AdminLoginForm

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def _history_model(model: type[models.Model]) -> type[models.Model] | None:
    """Return the django-simple-history table of ``model``, if it has one."""
    manager = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, manager).model if manager else None


#: The view parameters that name a row, and the model whose primary key they hold:
#: the admin's own ``object_id`` and django-simple-history's ``version_id``.
_ID_PARAMETERS: dict[str, Callable[[type[models.Model]], type[models.Model] | None]] = {
    "object_id": lambda model: model,
    "version_id": _history_model,
}


def is_key_of(model: type[models.Model], value: str) -> bool:
    """Return whether ``value`` can be a primary key of ``model`` (it may still name nothing)."""
    try:
        model._meta.pk.to_python(value)  # type: ignore[union-attr]
    except ValidationError:
        return False
    return True


def query_refusal(request: HttpRequest) -> str | None:
    """Return why the query string cannot become a filter, or None if it can.

    PostgreSQL refuses a NUL character in any text, and the changelist turns a year into the
    range up to the next year (``date_hierarchy``) or into a date (``__year`` lookups), which
    the calendar holds only from year 1 to 9998.
    """
    for key, values in request.GET.lists():
        for text in (key, *values):
            if "\x00" in text:
                return _("A filter holds a NUL character.")
        if key.endswith(("__year", "__iso_year")):
            for value in values:
                if (
                    not value.isascii()
                    or not value.isdigit()
                    or not (dt.MINYEAR <= int(value) < dt.MAXYEAR)
                ):
                    return _("A year filter takes a year from %(min)s to %(max)s.") % {
                        "min": dt.MINYEAR,
                        "max": dt.MAXYEAR - 1,
                    }
    return None


class TrackerAdminSite(admin.AdminSite):
    """The admin site, with the checks of ids and filters every model's views share."""

    login_form = AdminLoginForm

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        return super().admin_view(cast(_View, self._refuse_malformed(view)), cacheable)

    def _refuse_malformed(self, view: Callable[..., HttpResponseBase]) -> Callable:
        """Wrap ``view`` so malformed ids, selections and filters are refused, not a 500."""
        model_admin = getattr(view, "__self__", None)
        if not isinstance(model_admin, admin.ModelAdmin):
            return view
        signature = inspect.signature(view)

        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            reason = query_refusal(request)
            if reason is not None:
                raise BadRequest(reason)
            bound = signature.bind_partial(request, *args, **kwargs).arguments
            for parameter, model_of in _ID_PARAMETERS.items():
                value = bound.get(parameter)
                model = model_of(model_admin.model) if value is not None else None
                if model is not None and not is_key_of(model, unquote(str(value))):
                    # What the admin answers for an id that names nothing (its own message,
                    # translated, and its index); the method is Django's, not in its stubs.
                    return model_admin._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                        request, model_admin.model._meta, str(value)
                    )
            if request.method == "POST":
                selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
                if not all(is_key_of(model_admin.model, value) for value in selected):
                    # A selection that names no row: the admin's own answer to an empty one,
                    # "Items must be selected…", and nothing changes.
                    post = request.POST.copy()
                    post.setlist(helpers.ACTION_CHECKBOX_NAME, [])
                    request.POST = post  # type: ignore[misc, assignment]
            return view(request, *args, **kwargs)

        return checked
