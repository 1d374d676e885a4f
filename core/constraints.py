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
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, connections, router, transaction
from django.db.models import BooleanField, CheckConstraint, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

logger = logging.getLogger(__name__)


def checks_failed(
    model: Any, instance: Any, checks: list[CheckConstraint], exclude: Any, using: str
) -> set[str] | None:
    """Return the names of ``checks`` the instance's values break, in one query.

    A check naming an excluded field is skipped, as Django skips it. On a database error
    (a value one of the expressions cannot take) return ``None``: the caller then checks one
    by one as Django does, so only the check that failed to run is passed over, not all.
    """
    if not checks:
        return set()
    against = instance._get_field_expression_map(meta=model._meta, exclude=exclude)
    query = Query(None)
    for name, value in against.items():
        if not hasattr(value, "resolve_expression"):
            value = Value(value)
        query.add_annotation(value, name, select=False)
    names = []
    for number, constraint in enumerate(checks):
        expression = Coalesce(Q(constraint.condition), True, output_field=BooleanField())
        try:
            query.add_annotation(expression, f"_check_{number}")
        except FieldError:
            continue  # the check names a field left out: Django skips it too
        names.append(constraint.name)
    if not names:
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


class ChecksInOneQuery:
    """Mixin for a model: ``validate_constraints`` runs its check constraints in one query."""

    def validate_constraints(self, exclude: Any = None) -> None:
        using = router.db_for_write(self.__class__, instance=self)  # type: ignore[arg-type]
        if not connections[using].features.supports_boolean_expr_in_select_clause:
            super().validate_constraints(exclude=exclude)  # type: ignore[misc]
            return
        errors: dict[str, Any] = {}
        for model_class, constraints in self.get_constraints():  # type: ignore[attr-defined]
            checks = [c for c in constraints if type(c) is CheckConstraint]
            failed = checks_failed(model_class, self, checks, exclude, using)
            if failed is None:
                super().validate_constraints(exclude=exclude)  # type: ignore[misc]
                return
            for constraint in constraints:
                try:
                    if type(constraint) is CheckConstraint:
                        if constraint.name in failed:
                            raise ValidationError(
                                constraint.get_violation_error_message(),
                                code=constraint.violation_error_code,
                            )
                        continue
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as e:
                    # As Django's own Model.validate_constraints files them.
                    if getattr(e, "code", None) == "unique" and len(constraint.fields) == 1:
                        errors.setdefault(constraint.fields[0], []).append(e)
                    else:
                        errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
