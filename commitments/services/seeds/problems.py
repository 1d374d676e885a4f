"""What a failed seed load reports: each problem with its file, record and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The record kind of each list section of a seed file, as named in problems.
SECTION_RECORD = {"parties": "party", "sources": "source", "commitments": "commitment"}


@dataclass(frozen=True, slots=True)
class SeedProblem:
    """One reason a seed load fails: where (file, record, field) and why."""

    file: str
    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: field {self.field}: {self.reason}"


class SeedError(Exception):
    """The seeds cannot be loaded; ``problems`` says where and why. Nothing was written."""

    def __init__(self, problems: list[SeedProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def record_label(section: str, item: Any, index: int) -> str:
    """Name the record ``item`` of a seed file's ``section`` by its key, else by position."""
    kind = SECTION_RECORD.get(section, section)
    key = item.get("key") if isinstance(item, dict) else None
    return f"{kind} {key!r}" if isinstance(key, str) else f"{kind} #{index + 1}"
