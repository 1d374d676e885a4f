"""CSV import and export of commitments (django-import-export).

Rows are keyed on the commitment's ``key``; the agreement, the obligor, the anchor commitment,
the other obligors and the beneficiaries are named by their keys (lists separated by ``;``;
an empty cell is an empty list, a missing column leaves the list as it is). Every row is
validated with the model's ``full_clean()`` and saved through ``commitment_save``, so due
dates are computed exactly as in the admin form. The admin's preview runs the same import in
a transaction that is rolled back, so it shows computed due dates and writes nothing.

The file is first planned by :mod:`commitments.services.imports` (computed and unknown columns
refused, keys given twice, deadline phrases read, rows ordered so an anchor is saved before
the rows anchored on it, cycles caught); errors are numbered by the file's lines (the header
is line 1). Each row may carry citations (``citation_source``, ``citation_quote``, …, then
``citation_2_…``), added through :func:`~commitments.services.imports.citations_import`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, ForeignKey, IntegerField, Model, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from import_export import fields, instance_loaders, resources, widgets
from import_export.results import Error, Result
from tablib import Dataset

from core.constraints import full_clean_many
from core.spreadsheet import formula_escape
from core.text import nul_errors

from . import deadlines
from .forms import ambiguous_scale_error
from .models import DUE_DATE_RELATIONS, Commitment, Party
from .parsing import targets
from .services import commitments as svc
from .services import hooks, imports


class KeyForeignKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key named by its ``key``; an unknown key is an error on the row's field."""

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        super().__init__(model, field="key", **kwargs)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if self.model in imports.KEYED_MODELS and value and str(value).strip():
            # An agreement or a party: read once per import (see imports.keys_remembered).
            found = imports.keyed(self.model, str(value).strip())
            if found is None:
                raise ValueError(
                    _("No %(model)s has the key %(key)s.")
                    % {"model": self.model._meta.verbose_name, "key": repr(str(value).strip())}
                )
            return found
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("No %(model)s has the key %(key)s.")
                % {"model": self.model._meta.verbose_name, "key": repr(str(value).strip())}
            ) from None


class KeysManyToManyWidget(widgets.ManyToManyWidget):
    """Related rows named by their keys separated by ``;``; every key must exist."""

    def __init__(self, model: type[Model]) -> None:
        super().__init__(model, separator=";", field="key")

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[Any]:
        cells = str(value or "").split(self.separator)
        keys = sorted({key.strip() for key in cells if key.strip()})
        rows = {key: imports.keyed(self.model, key) for key in keys}
        found = [obj for obj in rows.values() if obj is not None]
        missing = {key for key, obj in rows.items() if obj is None}
        if missing:
            names = ", ".join(repr(key) for key in sorted(missing))
            raise ValueError(
                _("No %(model)s has the key %(key)s.")
                % {"model": self.model._meta.verbose_name, "key": names}
            )
        return found


class StrictDecimalWidget(widgets.DecimalWidget):
    """A decimal number; text that is not one is an error on the row's field."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:
        if isinstance(value, str) and value.strip():
            # "750 billion", « 1,2 milliard », grouped digits: read as the forms read them.
            try:
                typed = targets.read_typed_amount(value, translation.get_language() or "en")
            except targets.AmbiguousScale as error:
                raise ValueError(" ".join(ambiguous_scale_error(error).messages)) from None
            if typed is not None:
                return typed
        try:
            number = super().clean(value, row=row, **kwargs)
        except InvalidOperation:
            raise ValueError(
                _("%(value)s is not a number: write digits, e.g. 750000000000 or 750 bn.")
                % {"value": repr(value)}
            ) from None
        if number is not None and not number.is_finite():
            raise ValueError(_("%(value)s is not a finite number.") % {"value": repr(value)})
        return number


class StrictIntegerWidget(widgets.IntegerWidget):
    """A whole number; text that is not one is an error on the row's field."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        try:
            return super().clean(value, row=row, **kwargs)
        except (InvalidOperation, OverflowError):
            raise ValueError(
                _("%(value)s is not a whole number.") % {"value": repr(value)}
            ) from None


#: Columns, in file order. The last ones are computed and only exported.
COLUMNS = (*imports.COMMITMENT_COLUMNS, *imports.COMPUTED_COLUMNS)


class CommitmentResource(resources.ModelResource):
    """Commitments as CSV rows, imported through ``commitment_save``."""

    co_obligors = fields.Field(
        attribute="co_obligors", column_name="co_obligors", widget=KeysManyToManyWidget(Party)
    )
    beneficiaries = fields.Field(
        attribute="beneficiaries",
        column_name="beneficiaries",
        widget=KeysManyToManyWidget(Party),
    )
    due_date = fields.Field(
        attribute="due_date", column_name="due_date", readonly=True, widget=widgets.DateWidget()
    )
    due_at = fields.Field(attribute="due_at", column_name="due_at", readonly=True)
    status = fields.Field(attribute="status", column_name="status", readonly=True)
    deadline_state = fields.Field(
        attribute="deadline_state", column_name="deadline_state", readonly=True
    )
    page_url = fields.Field(column_name="page_url", readonly=True)
    source_urls = fields.Field(column_name="source_urls", readonly=True)

    class Meta:
        model = Commitment
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("key",)
        # The file's existing commitments are read in one query, not one per row.
        instance_loader_class = instance_loaders.CachedInstanceLoader
        clean_model_instances = True

    @classmethod
    def field_from_django_field(
        cls, field_name: str, django_field: Any, readonly: bool
    ) -> fields.Field:
        """Name related rows by their keys and read numbers strictly, in every column."""
        widget: widgets.Widget
        if isinstance(django_field, ForeignKey):
            widget = KeyForeignKeyWidget(cast(type[Model], django_field.related_model))
        elif isinstance(django_field, IntegerField):
            widget = StrictIntegerWidget()
        elif isinstance(django_field, DecimalField):
            widget = StrictDecimalWidget()
        else:
            return super().field_from_django_field(field_name, django_field, readonly)
        return fields.Field(
            attribute=field_name, column_name=field_name, widget=widget, readonly=readonly
        )

    def __init__(self, progress: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._changed_fields: dict[int, list[str]] = {}
        self._rules: dict[int, dict[str, Any]] = {}
        self._citations: dict[int, list[imports.CitationInput]] = {}
        self._progress = progress
        self._total = 0

    def import_data(  # type: ignore[override]
        self, dataset: Any, dry_run: bool = False, **kwargs: Any
    ) -> Result:
        """Plan the file's rows (see :mod:`commitments.services.imports`), then import them.

        Errors are numbered by the file's lines. One error anywhere rolls every row back.
        """
        plan = imports.plan_rows(dataset)
        if plan.header_errors:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            for error in plan.header_errors:
                result.append_base_error(Error(error))
            return result
        ordered = Dataset(headers=plan.header)
        for row in plan.rows:
            ordered.append([row.values.get(name, "") for name in plan.header[:-1]] + [row.line])
        self.plan_taken(plan)
        # The deadline watch and the webhooks hear of every row once, at the end (one scan);
        # agreements, parties and sources are read once each.
        with transaction.atomic(), hooks.batched(), imports.keys_remembered():
            result = super().import_data(ordered, dry_run=dry_run, **kwargs)
            lines = [row.line for row in plan.rows]
            for invalid in result.invalid_rows:
                invalid.number = lines[invalid.number - 1]
            for error_row in result.error_rows:
                error_row.number = lines[error_row.number - 1]
                for error in error_row.errors:
                    error.number = error_row.number
            for error in plan.row_errors:
                result.append_invalid_row(
                    error.line, {}, ValidationError({error.column or "key": [error.message]})
                )
            result.invalid_rows.sort(key=lambda row: row.number)
            result.error_rows.sort(key=lambda row: row.number)
            result.total_rows = len(dataset)
            if plan.row_errors:
                transaction.set_rollback(True)
        return result

    def plan_taken(self, plan: imports.Plan) -> None:
        """Keep the rule fields the plan read from the rows' phrases, and its number of rows."""
        self._rules = {row.line: row.rule for row in plan.rows if row.rule}
        self._total = len(plan.rows)

    def get_use_transactions(self) -> bool:
        """Always use a transaction: the preview saves through the service, then rolls back."""
        return True

    def dehydrate_page_url(self, commitment: Commitment) -> str:
        """Export the address of the commitment's page on the dashboard."""
        return settings.SITE_URL.rstrip("/") + commitment.get_absolute_url()

    def dehydrate_source_urls(self, commitment: Commitment) -> str:
        """Export the addresses of the sources the commitment cites, separated by spaces."""
        urls = dict.fromkeys(c.source.url for c in commitment.citations.all() if c.source.url)
        return " ".join(urls)

    def dehydrate_due_at(self, commitment: Commitment) -> str:
        """Export the due instant as ISO 8601 in UTC."""
        return commitment.due_at.isoformat(timespec="seconds") if commitment.due_at else ""

    def export_field(self, field: fields.Field, instance: Commitment, **kwargs: Any) -> Any:
        """Export text as the API's CSV does: what a spreadsheet would run as a formula, quoted."""
        value = super().export_field(field, instance, **kwargs)
        if isinstance(field.get_value(instance), str):
            return formula_escape(value)
        return value

    def filter_export(self, queryset: QuerySet[Commitment], **kwargs: Any) -> QuerySet[Commitment]:
        """Fetch the related keys with the rows rather than one query per row."""
        return queryset.select_related("obligor", *DUE_DATE_RELATIONS).prefetch_related(
            *_PARTY_LISTS, "citations__source"
        )

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        """Refuse a cell holding a NUL, naming its column, before the row's key is looked up."""
        errors = nul_errors(dict(row))
        if errors:
            raise ValidationError(errors)

    def import_instance(self, instance: Commitment, row: Any, **kwargs: Any) -> None:
        """Set the row's values, check its party lists and note which input fields changed."""
        before = {name: _value(instance, name) for name in svc.COMMITMENT_INPUT_FIELDS}
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        line = row.get(imports.LINE_COLUMN)
        rule = self._rules.get(line, {})
        if rule:
            for name, value in {**deadlines.RULE_EMPTY_VALUES, **rule}.items():
                if name == "anchor_commitment" and value:
                    value = Commitment.objects.filter(key=value).first()
                setattr(instance, name, value)
        citations, citation_errors = imports.citations_read(row)
        self._citations[kwargs["row_number"]] = citations
        for column, messages in citation_errors.items():
            errors[column] = [ValidationError(message, code="invalid") for message in messages]
        for name in _PARTY_LISTS:
            if name in row:
                try:
                    self.fields[name].clean(row)
                except ValueError as exc:
                    errors[name] = [ValidationError(str(exc), code="invalid")]
        self._changed_fields[kwargs["row_number"]] = sorted(
            name for name, value in before.items() if _value(instance, name) != value
        )
        if errors:
            raise ValidationError(errors)

    def validate_instance(
        self,
        instance: Commitment,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        """Check each field and the model's own rules, with the cells' errors beside them.

        The database constraints are left to ``commitment_save``, which checks them with the
        computed due date: checked here too, each would cost its queries twice a row.
        """
        error = self.validate_instances(
            [instance], [dict(import_validation_errors or {})], validate_unique=validate_unique
        )[0]
        if error is not None:
            raise error

    def validate_instances(
        self,
        instances: list[Commitment],
        cell_errors: list[dict[str, Any]],
        validate_unique: bool = True,
    ) -> list[ValidationError | None]:
        """Return :meth:`validate_instance`'s answer for each of ``instances`` (one batch).

        The import of new rows checks a batch at once, with the queries gathered
        (:func:`core.constraints.full_clean_many`); a row alone is a batch of one.
        """
        found = full_clean_many(
            instances,
            excludes=[set(errors) for errors in cell_errors],
            validate_unique=validate_unique,
            validate_constraints=False,
        )
        answers: list[ValidationError | None] = []
        for errors, error in zip(cell_errors, found, strict=True):
            merged = dict(errors)
            if error is not None:
                # A cell that could not be read already says why; the model's rules about the
                # empty value it left ("a unit needs a target amount") would only contradict it.
                merged.update({k: v for k, v in error.message_dict.items() if k not in errors})
            answers.append(ValidationError(merged) if merged else None)
        return answers

    def save_instance(self, instance: Commitment, is_create: bool, row: Any, **kwargs: Any) -> None:
        """Save through ``commitment_save`` so the due date is computed and validated."""
        self.before_save_instance(instance, row, **kwargs)
        lists = self.party_lists(row)
        changed = self._changed_fields.pop(kwargs["row_number"])
        svc.commitment_save(
            commitment=instance,
            user=kwargs.get("user"),
            beneficiaries=lists["beneficiaries"],
            co_obligors=lists["co_obligors"],
            changed_fields=None if is_create else changed,
        )
        imports.citations_import(
            commitment=instance,
            citations=self._citations.pop(kwargs["row_number"], []),
            user=kwargs.get("user"),
            created=is_create,
        )
        self.after_save_instance(instance, row, **kwargs)

    def citations_taken(self, line: int) -> list[imports.CitationInput]:
        """Return (and forget) the citations read from the row of ``line`` by import_instance."""
        return self._citations.pop(line, [])

    def party_lists(self, row: Any) -> dict[str, list[Party] | None]:
        """Return the party lists a row names (``None``: its column is missing)."""
        return {
            name: self.fields[name].clean(row) if name in row else None for name in _PARTY_LISTS
        }

    def after_import_row(self, row: Any, row_result: Any, **kwargs: Any) -> None:
        """Report progress every 50 rows and at the last one."""
        number = kwargs.get("row_number", 0)
        if self._progress is not None and (number % 50 == 0 or number == self._total):
            self._progress(number, self._total)

    def save_m2m(self, instance: Commitment, row: Any, **kwargs: Any) -> None:
        """Do nothing: ``save_instance`` sets the party lists through the service."""


#: The columns naming parties by their keys, set through the service.
_PARTY_LISTS = ("co_obligors", "beneficiaries")
_ATTNAMES = {field.name: field.attname for field in Commitment._meta.concrete_fields}


def _value(instance: Commitment, name: str) -> Any:
    return getattr(instance, _ATTNAMES[name])
