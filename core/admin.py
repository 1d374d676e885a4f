"""Admin pieces every app may use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Field, ForeignKey, ManyToManyField, UniqueConstraint
from django.forms.models import BaseInlineFormSet, ModelMultipleChoiceField
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin


class ReadOnlyAdminMixin:
    """A model the admin shows but never adds, edits or deletes: its services write it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LogAdminMixin(ReadOnlyAdminMixin):
    """A model shown in the admin as a log (alerts, webhook events and deliveries).

    Nothing is added, edited or deleted by hand: rows move only through their services (sent,
    retried, given up). An outbox's one admin write is a "retry now" action, allowed to
    whoever holds ``retry_permission``.
    """

    retry_permission = ""

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.retry_permission)


#: The most rows an inline takes in one submission (the largest agreement has 25 commitments).
#: A tampered ``TOTAL_FORMS`` beyond it is refused before more rows are built or rendered.
INLINE_MAX_ROWS = 100


def _is_key(field: Field, value: Any) -> bool:
    """Return whether ``value`` converts to a valid value of ``field`` (a related model's key)."""
    try:
        field.run_validators(field.to_python(value))
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    return True


class _KeyCheckingAutocompleteMixin:
    """Leave out, when the bound form is shown again, the submitted values that are not keys.

    Django's autocomplete widgets look the submitted values up to show them as selected; a
    value the key field cannot convert ("abc", "1e30") made that query raise, a server error
    instead of the field error the form field had already given.
    """

    field: Any

    def optgroups(
        self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        remote = self.field.remote_field
        opts = remote.model._meta
        target = opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)
        keys = [v for v in value if _is_key(target, v)]
        return super().optgroups(name, keys, attr)  # type: ignore[misc]


class KeyCheckingAutocompleteSelect(_KeyCheckingAutocompleteMixin, AutocompleteSelect):
    """Django's autocomplete select, shown again safely after a value that is not a key."""


class KeyCheckingAutocompleteSelectMultiple(
    _KeyCheckingAutocompleteMixin, AutocompleteSelectMultiple
):
    """Django's autocomplete multiple select, shown again safely after values that are not
    keys."""


class KeyCheckingMultipleChoiceField(ModelMultipleChoiceField):
    """A many-to-many admin field that refuses a value its key field cannot hold before the
    look-up: Django catches a value the look-up refuses at once, but SQLite's driver refuses
    one past its 64-bit integers ("99999999999999999999") only when the query runs, with an
    ``OverflowError``: a 500 instead of the field's error."""

    def _check_values(self, value: Any) -> Any:
        model = self.queryset.model  # type: ignore[union-attr]
        key = model._meta.get_field(self.to_field_name) if self.to_field_name else model._meta.pk
        for pk in value if isinstance(value, (list, tuple)) else ():
            if not _is_key(key, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]


class AdminInputMixin:
    """The checks on hostile input every admin and inline of the project takes.

    Its autocomplete fields show a value that is not a key as a field error (see
    :class:`_KeyCheckingAutocompleteMixin`).
    """

    admin_site: Any

    def _autocompletes(self, db_field: Field, request: HttpRequest, kwargs: dict[str, Any]) -> bool:
        """Return whether Django would give ``db_field`` its autocomplete widget."""
        autocomplete_fields = self.get_autocomplete_fields(request)  # type: ignore[attr-defined]
        return "widget" not in kwargs and db_field.name in autocomplete_fields

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if self._autocompletes(db_field, request, kwargs):
            kwargs["widget"] = KeyCheckingAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if self._autocompletes(db_field, request, kwargs):
            kwargs["widget"] = KeyCheckingAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", KeyCheckingMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class UniqueRowsInlineFormSet(BaseInlineFormSet):
    """An inline formset that checks its rows' unique constraints against the saved rows.

    Django checks the submitted rows against one another, but skips the database check of
    every unique constraint that holds the parent's key (the inline's key field is left out
    of each row's validation). A row changed to the values of a saved row that the same
    submission changes too (two rows swapped) then reached the database, row by row, as an
    ``IntegrityError``; it is refused as a row error instead.
    """

    def clean(self) -> None:
        super().clean()
        if self.instance._state.adding:
            return  # a new parent has no saved rows to collide with
        model = self.model
        constraints = [
            c
            for c in model._meta.constraints
            if isinstance(c, UniqueConstraint) and self.fk.name in c.fields
        ]
        for form in self.forms:
            if form in self.deleted_forms or not form.has_changed() or not form.is_valid():
                continue
            exclude = form._get_validation_exclusions()
            for constraint in constraints:
                try:
                    constraint.validate(model, form.instance, exclude=exclude)  # type: ignore[attr-defined]
                except ValidationError as error:
                    form.add_error(None, error)


class InlineInputMixin(AdminInputMixin):
    """An inline that takes at most :data:`INLINE_MAX_ROWS` rows and says so beyond them, and
    whose rows are checked against their saved unique values (:class:`UniqueRowsInlineFormSet`).
    """

    max_num: int | None = INLINE_MAX_ROWS
    formset: Any = UniqueRowsInlineFormSet

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("absolute_max", INLINE_MAX_ROWS)
        # A read-only inline (no add right: Django sets its max_num to 0) posts its existing
        # rows back unchanged; checking them against that 0 refused every save of a
        # commitment with a revision or a rating ("Please submit at most 0 forms").
        can_add = request is None or self.has_add_permission(request, obj)  # type: ignore[attr-defined]
        kwargs.setdefault("validate_max", can_add)
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]


class ModelAdmin(AdminInputMixin, admin.ModelAdmin):
    """The base of the project's model admins."""


class HistoryAdmin(AdminInputMixin, SimpleHistoryAdmin):
    """The base of the project's model admins that show each row's history."""


class StackedInline(InlineInputMixin, admin.StackedInline):
    """The base of the project's stacked inlines."""


class TabularInline(InlineInputMixin, admin.TabularInline):
    """The base of the project's tabular inlines."""
