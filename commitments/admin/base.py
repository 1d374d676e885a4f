"""The base of the admins that save through the services: a refusal is a form error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from commitments.forms import ServiceModelForm
from core.admin import HistoryAdmin

_REJECTION_ATTR = "_commitments_service_rejection"


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
