"""A model's check constraints validated in one query instead of one query each.

Django's ``Model.validate_constraints`` runs each ``CheckConstraint`` as its own query, inside
its own savepoint when a transaction is open: three round trips per constraint. A commitment
has dozens of them, so ``full_clean()`` cost over a hundred queries per row (the import of
10,000 rows spent most of its time there). :class:`ChecksInOneQuery` evaluates every check
constraint of the instance in one ``SELECT`` (one savepoint), with the very expressions Django
builds (``COALESCE(condition, true)`` over the instance's values), and raises the same errors
in the same order; other constraints (unique ones) are validated by Django as before.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import NON_FIELD_ERRORS, FieldError, ValidationError
from django.db import DatabaseError, connections, router, transaction
from django.db.models import BooleanField, CheckConstraint, Model, Q, Value
from django.db.models import Field as DjangoField
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

logger = logging.getLogger(__name__)


def _checks_query(
    model: Any, instance: Any, checks: list[CheckConstraint], exclude: Any
) -> tuple[Query | None, list[str]]:
    """Return the ``SELECT`` of ``checks`` over the instance's values and the checks it holds.

    Column ``_check_N`` is the N-th check held: Django's ``COALESCE(condition, true)``. A check
    naming an excluded field is left out, as Django leaves it out.
    """
    if not checks:
        return None, []
    against = instance._get_field_expression_map(meta=model._meta, exclude=exclude)
    query = Query(None)
    for name, value in against.items():
        if not hasattr(value, "resolve_expression"):
            value = Value(value)
        query.add_annotation(value, name, select=False)
    names: list[str] = []
    for constraint in checks:
        expression = Coalesce(Q(constraint.condition), True, output_field=BooleanField())
        try:
            query.add_annotation(expression, f"_check_{len(names)}")
        except FieldError:
            continue  # the check names a field left out: Django skips it too
        names.append(constraint.name)
    return (query if names else None), names


def checks_failed(
    model: Any, instance: Any, checks: list[CheckConstraint], exclude: Any, using: str
) -> set[str] | None:
    """Return the names of ``checks`` the instance's values break, in one query.

    A check naming an excluded field is skipped, as Django skips it. On a database error
    (a value one of the expressions cannot take) return ``None``: the caller then checks one
    by one as Django does, so only the check that failed to run is passed over, not all.
    """
    query, names = _checks_query(model, instance, checks, exclude)
    if query is None:
        return set()
    connection = connections[using]
    context = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
    try:
        with context:
            row = query.get_compiler(using=using).execute_sql(SINGLE)
    except DatabaseError as exc:
        logger.info("Checking the constraints of %r one by one after: %s", model, exc)
        return None
    return {name for name, passed in zip(names, row or (), strict=False) if not passed}


def _constraint_errors(
    model_class: Any,
    instance: Any,
    constraints: Any,
    failed: set[str],
    exclude: Any,
    using: str,
    errors: dict[str, Any],
) -> dict[str, Any]:
    """Add the errors of ``constraints`` to ``errors`` as Django's ``validate_constraints``
    files them: the checks in ``failed`` (already evaluated), the others validated here."""
    for constraint in constraints:
        try:
            if type(constraint) is CheckConstraint:
                if constraint.name in failed:
                    raise ValidationError(
                        constraint.get_violation_error_message(),
                        code=constraint.violation_error_code,
                    )
                continue
            constraint.validate(model_class, instance, exclude=exclude, using=using)
        except ValidationError as e:
            if getattr(e, "code", None) == "unique" and len(constraint.fields) == 1:
                errors.setdefault(constraint.fields[0], []).append(e)
            else:
                errors = e.update_error_dict(errors)
    return errors


class ChecksInOneQuery:
    """Mixin for a model: ``validate_constraints`` runs its check constraints in one query.

    The query is the model's checks compiled once (:func:`_checks_statement`, as a batch
    uses it) over the instance's values; a model it cannot be built for compiles its checks
    over the instance each time (:func:`checks_failed`).
    """

    def validate_constraints(self, exclude: Any = None) -> None:
        using = router.db_for_write(self.__class__, instance=self)  # type: ignore[arg-type]
        if not connections[using].features.supports_boolean_expr_in_select_clause:
            super().validate_constraints(exclude=exclude)  # type: ignore[misc]
            return
        errors: dict[str, Any] = {}
        for model_class, constraints in self.get_constraints():  # type: ignore[attr-defined]
            if _checks_statement(model_class, using) is not None and model_class is type(self):
                # The statement compiled once per model, over this one row: building the
                # query anew cost more CPU than running it (a PATCH's largest part).
                found = _checks_failed_many([self], range(1), [set(exclude or ())], using)
                failed = found[(0, model_class)]
            else:
                checks = [c for c in constraints if type(c) is CheckConstraint]
                failed = checks_failed(model_class, self, checks, exclude, using)
            if failed is None:
                super().validate_constraints(exclude=exclude)  # type: ignore[misc]
                return
            errors = _constraint_errors(
                model_class, self, constraints, failed, exclude, using, errors
            )
        if errors:
            raise ValidationError(errors)


#: Instances whose check constraints one statement evaluates (its parameters stay well
#: below PostgreSQL's limit of 65,535 per statement).
CHECKS_PER_STATEMENT = 200


def full_clean_many(
    instances: Sequence[Any],
    *,
    excludes: Sequence[set[str]] | None = None,
    validate_unique: bool = True,
    validate_constraints: bool = True,
) -> list[ValidationError | None]:
    """Return what ``full_clean(exclude=...)`` raises for each of ``instances`` (one model).

    The same checks in the same order, each the model's own (field validation, ``clean()``,
    unique checks, check constraints), so a batch is judged by the rules a single save is
    judged by. Only the queries are gathered: the existence of each foreign key is one query
    per field for the batch, a unique field one query per field, the check constraints one
    statement per :data:`CHECKS_PER_STATEMENT` instances. Unique checks over several fields,
    date checks and other constraints run per instance, as Django runs them.
    """
    if not instances:
        return []
    model = type(instances[0])
    excluded = [set(names) for names in excludes] if excludes else [set() for _ in instances]
    errors: list[dict[str, Any]] = [{} for _ in instances]
    _fields_clean(model, instances, excluded, errors)
    for number, instance in enumerate(instances):
        try:
            instance.clean()
        except ValidationError as exc:
            errors[number] = exc.update_error_dict(errors[number])
    if validate_unique:
        for number in range(len(instances)):
            excluded[number] |= {name for name in errors[number] if name != NON_FIELD_ERRORS}
        _unique_validate(instances, excluded, errors)
    if validate_constraints:
        for number in range(len(instances)):
            excluded[number] |= {name for name in errors[number] if name != NON_FIELD_ERRORS}
        _constraints_validate(model, instances, excluded, errors)
    return [ValidationError(found) if found else None for found in errors]


def _fields_clean(
    model: type[Model],
    instances: Sequence[Any],
    excluded: list[set[str]],
    errors: list[dict[str, Any]],
) -> None:
    """``clean_fields`` for each instance; foreign keys are looked up once per field."""
    foreign_keys: list[Any] = [
        field
        for field in cast(Any, model._meta.concrete_fields)
        if field.many_to_one
        and not field.remote_field.parent_link
        and not field.get_limit_choices_to()
    ]
    looked_up = {field.name for field in foreign_keys}
    wanted: dict[str, dict[int, Any]] = {field.name: {} for field in foreign_keys}
    for number, instance in enumerate(instances):
        try:
            instance.clean_fields(exclude=excluded[number] | looked_up)
        except ValidationError as exc:
            errors[number] = exc.update_error_dict(errors[number])
        for field in foreign_keys:
            raw = getattr(instance, field.attname)
            if field.name in excluded[number] or (field.blank and raw in field.empty_values):
                continue
            try:
                # ForeignKey.clean() without its lookup: to_python, Field.validate, validators.
                value = field.to_python(raw)
                DjangoField.validate(field, value, instance)
                field.run_validators(value)
            except ValidationError as exc:
                errors[number].setdefault(field.name, []).extend(exc.error_list)
                continue
            setattr(instance, field.attname, value)
            if value is not None:
                wanted[field.name][number] = value
    for field in foreign_keys:
        values = wanted[field.name]
        if not values:
            continue
        target = field.remote_field.field_name
        found = set(
            field.remote_field.model._base_manager.using(router.db_for_read(model))
            .filter(**{f"{target}__in": set(values.values())})
            .order_by()
            .values_list(target, flat=True)
        )
        for number, value in values.items():
            if value not in found:
                error = ValidationError(
                    field.error_messages["invalid"],
                    code="invalid",
                    params={
                        "model": field.remote_field.model._meta.verbose_name,
                        "pk": value,
                        "field": target,
                        "value": value,
                    },
                )
                errors[number].setdefault(field.name, []).append(error)


def _unique_validate(
    instances: Sequence[Any], excluded: list[set[str]], errors: list[dict[str, Any]]
) -> None:
    """``validate_unique`` for each instance; a new row's unique field is one query per field."""
    gathered: dict[tuple[type[Model], str], dict[int, Any]] = {}
    for number, instance in enumerate(instances):
        found: dict[str, list[Any]] = {}
        checks, date_checks = instance._get_unique_checks(exclude=excluded[number])
        for model_class, check in checks:
            field = instance._meta.get_field(check[0])
            value = getattr(instance, field.attname) if len(check) == 1 else None
            if len(check) == 1 and instance._state.adding and value not in (None, ""):
                gathered.setdefault((model_class, check[0]), {})[number] = value
                continue
            for name, messages in instance._perform_unique_checks([(model_class, check)]).items():
                found.setdefault(name, []).extend(messages)
        for name, messages in instance._perform_date_checks(date_checks).items():
            found.setdefault(name, []).extend(messages)
        if found:
            errors[number] = ValidationError(found).update_error_dict(errors[number])
    for (model_class, name), values in gathered.items():
        taken = set(
            model_class._default_manager.filter(**{f"{name}__in": set(values.values())})
            .order_by()
            .values_list(name, flat=True)
        )
        for number, value in values.items():
            if value in taken:
                message = instances[number].unique_error_message(model_class, (name,))
                errors[number] = ValidationError({name: [message]}).update_error_dict(
                    errors[number]
                )


def _constraints_validate(
    model: type[Model],
    instances: Sequence[Any],
    excluded: list[set[str]],
    errors: list[dict[str, Any]],
) -> None:
    """``validate_constraints`` for each instance; the check constraints in one statement."""
    using = router.db_for_write(model)
    in_one = isinstance(instances[0], ChecksInOneQuery)
    statement = _checks_statement(model, using) if in_one else None
    if statement is None:
        for number, instance in enumerate(instances):
            try:
                instance.validate_constraints(exclude=excluded[number])
            except ValidationError as exc:
                errors[number] = exc.update_error_dict(errors[number])
        return
    failed: dict[tuple[int, type[Model]], set[str] | None] = {}
    room = _parameters_allowed(connections[using])
    step = max(1, min(CHECKS_PER_STATEMENT, (room - len(statement.params)) // statement.width))
    for start in range(0, len(instances), step):
        numbers = range(start, min(start + step, len(instances)))
        failed.update(_checks_failed_many(instances, numbers, excluded, using))
    for number, instance in enumerate(instances):
        found: dict[str, Any] = {}
        for model_class, constraints in instance.get_constraints():
            broken = failed.get((number, model_class))
            if broken is None:
                try:
                    instance.validate_constraints(exclude=excluded[number])
                except ValidationError as exc:
                    found = exc.update_error_dict({})
                break
            found = _constraint_errors(
                model_class, instance, constraints, broken, excluded[number], using, found
            )
        if found:
            errors[number] = ValidationError(found).update_error_dict(errors[number])


def _parameters_allowed(connection: Any) -> int:
    """The parameters one statement may take: PostgreSQL's 65,535, or what this SQLite
    library was built with (32,766 since 3.32; Django assumes 999, the older default)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return int(connection.features.max_query_params or 65_535)


@dataclass(frozen=True)
class _ChecksStatement:
    """A model's check constraints compiled once, over rows of values given as its table."""

    sql: str
    params: list[Any]
    fields: list[Any]
    row_sql: str
    checks: list[tuple[str, frozenset[str]]]
    #: The rows' parameters come before the SELECT list's (SQLite's common table expression).
    rows_first: bool = False

    @property
    def width(self) -> int:
        """The parameters one row takes: its number and its values."""
        return 1 + len(self.fields)


_statements: dict[tuple[type[Model], str], _ChecksStatement | None] = {}
_TEXT_TYPES = {"CharField", "TextField", "SlugField", "URLField", "EmailField"}


def _checks_statement(model: type[Model], using: str) -> _ChecksStatement | None:
    """Return the ``SELECT`` of every check of ``model`` (compiled by Django, once), where its
    table is a ``VALUES`` list of the rows to check; ``None`` if it cannot be built.

    On PostgreSQL the list is a derived table whose values are cast to the columns' types.
    SQLite names neither a derived table's columns nor types: there the list is a common
    table expression named as the table, and each value goes as Django writes it to the
    column (dates and instants as text, booleans as integers), which the checks, compiled
    for SQLite, compare as they would the stored row.
    """
    key = (model, using)
    if key in _statements:
        return _statements[key]
    connection = connections[using]
    if connection.vendor not in {"postgresql", "sqlite"}:
        _statements[key] = None
        return None
    checks = [c for c in model._meta.constraints if type(c) is CheckConstraint]
    table = connection.ops.quote_name(model._meta.db_table)
    annotations = {
        f"_check_{position}": Coalesce(Q(check.condition), True, output_field=BooleanField())
        for position, check in enumerate(checks)
    }
    queryset = model._base_manager.using(using).annotate(**annotations).order_by()
    sql, params = queryset.values_list(*annotations).query.sql_with_params()
    fields: list[Any] = [f for f in model._meta.local_concrete_fields if not f.generated]
    statement: _ChecksStatement | None = None
    if (
        checks
        and sql.startswith("SELECT ")
        and sql.count(f" FROM {table}") == 1
        and f"FROM {table} " not in sql
    ):
        columns = ", ".join(["_row", *(connection.ops.quote_name(f.column) for f in fields)])
        # Each row carries its number, answered first: the rows' order is not relied on.
        sql = "SELECT _row, " + sql.removeprefix("SELECT ")
        if connection.vendor == "postgresql":
            casts = ", ".join(
                ["%s::integer"]
                + [
                    "%s::text"
                    if field.get_internal_type() in _TEXT_TYPES
                    else f"%s::{field.cast_db_type(connection)}"
                    for field in fields
                ]
            )
            values = " FROM (VALUES {rows}) AS " + f"{table} ({columns})"
            sql = sql.replace(f" FROM {table}", values)
        else:
            casts = ", ".join(["%s"] * (1 + len(fields)))
            sql = f"WITH {table} ({columns}) AS (VALUES {{rows}}) " + sql
        statement = _ChecksStatement(
            sql=sql,
            params=list(params),
            fields=fields,
            row_sql=f"({casts})",
            checks=[(c.name, frozenset(Q(c.condition).referenced_base_fields)) for c in checks],
            rows_first=connection.vendor != "postgresql",
        )
    _statements[key] = statement
    return statement


def _checks_failed_many(
    instances: Sequence[Any], numbers: range, excluded: list[set[str]], using: str
) -> dict[tuple[int, type[Model]], set[str] | None]:
    """Return the checks each instance of ``numbers`` breaks, from one statement.

    The statement is the model's checks compiled once by Django, run over the instances'
    values in place of its table; a check naming an excluded field is not looked at, as
    Django skips it. ``None`` for an instance whose values cannot be sent, and for every
    instance if the statement fails (a value the database cannot take): the caller then
    validates those one by one.
    """
    model = type(instances[numbers[0]])
    keys = [(number, model) for number in numbers]
    statement = _checks_statement(model, using)
    if statement is None or any(len(instances[n].get_constraints()) != 1 for n in numbers):
        return dict.fromkeys(keys)
    connection = connections[using]
    result: dict[tuple[int, type[Model]], set[str] | None] = {}
    rows: list[int] = []
    values: list[Any] = []
    for number in numbers:
        instance = instances[number]
        try:
            row = [
                None
                if field.name in excluded[number]
                else field.get_db_prep_value(
                    getattr(instance, field.attname), connection, prepared=False
                )
                for field in statement.fields
            ]
        except (ValidationError, TypeError, ValueError):
            result[(number, model)] = None
            continue
        rows.append(number)
        values.extend([number, *row])
    if not rows:
        return result
    sql = statement.sql.replace("{rows}", ", ".join([statement.row_sql] * len(rows)), 1)
    # On PostgreSQL the SELECT list's parameters come before the table's (the VALUES list).
    select_params = statement.params
    arguments = [*values, *select_params] if statement.rows_first else [*select_params, *values]
    context = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
    try:
        with context, connection.cursor() as cursor:
            cursor.execute(sql, arguments)
            found = cursor.fetchall()
    except DatabaseError as exc:
        logger.info("Checking the constraints of %s rows one by one after: %s", len(rows), exc)
        return dict.fromkeys(keys)
    for number, *passed in found:
        skipped = excluded[number]
        result[(number, model)] = {
            name
            for (name, names), ok in zip(statement.checks, passed, strict=True)
            if not ok and not names & skipped
        }
    return result
