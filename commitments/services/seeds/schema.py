"""Where the seeds and their JSON Schema live, and schema errors told as seed problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from django.conf import settings

from .problems import SECTION_RECORD, SeedProblem, record_label


def default_seeds_dir() -> Path:
    """Return the project's ``seeds/`` directory."""
    return Path(settings.BASE_DIR) / "seeds"


def schema_path() -> Path:
    """Return the JSON Schema every seed file is validated against."""
    return default_seeds_dir() / "schema.json"


def schema_validator() -> jsonschema.Draft202012Validator:
    """Return a validator of seed files against :func:`schema_path`, checking formats."""
    return jsonschema.Draft202012Validator(
        json.loads(schema_path().read_text(encoding="utf-8")),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def schema_problem(file: str, data: Any, error: jsonschema.ValidationError) -> SeedProblem:
    """Return the schema ``error`` in the seed file ``data`` as a problem naming its field."""
    parts = list(error.absolute_path)
    record, rest = "(file)", parts
    if parts and parts[0] == "agreement" and isinstance(data, dict):
        record, rest = record_label("agreement", data.get("agreement"), 0), parts[1:]
    elif len(parts) >= 2 and parts[0] in SECTION_RECORD and isinstance(parts[1], int):
        record = record_label(str(parts[0]), data[parts[0]][parts[1]], parts[1])
        rest = parts[2:]
    field_name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    reason = error.message
    instance: Any = error.instance
    expected: Any = error.validator_value
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        field_name = _join(field_name, missing[0])
        reason = "missing required field"
    elif error.validator == "dependentRequired" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        field_name = _join(field_name, missing[0])
        reason = f"required because another field is set ({error.message})"
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        schema: Any = error.schema
        allowed = set(schema.get("properties", {}))
        unknown = sorted(str(name) for name in instance if name not in allowed)
        field_name = _join(field_name, ", ".join(unknown))
        reason = "unknown field"
    return SeedProblem(file, record, field_name or "-", reason)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
