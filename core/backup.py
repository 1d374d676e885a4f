"""The backup's sections, contributed by each app in its ``ready()``.

The export/import engine (``commitments.services.backup``) writes and restores whatever is
registered here, so an app with rows of its own puts them in the backup without the domain
naming its models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class BackupSection:
    """One model's rows under ``name`` in the backup document.

    ``since`` is the document version that first held the section: an older document is read
    as having none of its rows. ``added`` names the fields a later version added to the
    section's rows, each with that version and the value a row of an older document is read
    with.
    """

    name: str
    model: type[models.Model]
    since: int = 1
    added: Mapping[str, tuple[int, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BackupUserField:
    """A per-user value kept in ``model`` (one row per user, ``user`` its key) as ``field``."""

    model: type[models.Model]
    field: str


_sections: dict[str, BackupSection] = {}
_user_fields: dict[str, BackupUserField] = {}


def backup_register(*sections: BackupSection) -> None:
    """Add ``sections`` to the backup; registering a name again replaces it (a reload)."""
    for section in sections:
        _sections[section.name] = section


def backup_register_user_field(user_field: BackupUserField) -> None:
    """Keep ``user_field`` with each user's entry, under the field's name."""
    _user_fields[user_field.field] = user_field


def backup_user_fields() -> list[BackupUserField]:
    """Return the per-user values the backup keeps beside the user's own fields."""
    return list(_user_fields.values())


def backup_sections() -> list[BackupSection]:
    """Return the sections in an order where every foreign key points to an earlier one.

    Registration order is kept where the references allow it; a model's references to itself
    (a commitment's anchor) and many-to-many links (written after every row) do not count.
    """
    pending = list(_sections.values())
    placed: list[BackupSection] = []
    models_placed: set[type[models.Model]] = set()
    registered = {section.model for section in pending}
    while pending:
        for section in pending:
            needs = {
                field.related_model
                for field in section.model._meta.concrete_fields
                if field.is_relation and field.related_model in registered
            } - {section.model}
            if needs <= models_placed:
                placed.append(section)
                models_placed.add(section.model)
                pending.remove(section)
                break
        else:
            names = ", ".join(section.name for section in pending)
            raise RuntimeError(f"The backup sections {names} reference each other in a cycle.")
    return placed
