"""Export the whole dataset to one JSON document and import it into an empty database.

The document keeps every row of every section the apps register (``core.backup``: the domain,
the deadline watch, the webhooks and the calendar feeds) with every field, the computed ones
(due date, status, deadline state, ...) included, and its primary key, so that an import gives
back the same database. Users are referenced by username and exported with their
names, flags, groups and language but without password hashes: a backup file is then no
offline password-cracking target, and restored users set a password again
(``manage.py changepassword`` or the password-reset flow). Webhook endpoints keep their signing
secret, which they need in clear to sign (keep the file as safe as a ``pg_dump``); calendar
feeds keep only their secret's hash, so their URLs go on working. The ratings are rows like any
other (all of them, in order: a rating's history is its rows, not simple-history's), and so are
the frozen reports. Left out on purpose: the change history (simple-history), API tokens (issue
new ones), login-failure records and Celery beat's tables (rebuilt from settings); ``pg_dump``
keeps all of them (docs/operations.md).

An import refuses a database that already holds domain rows: merging two datasets by key is a
different job with its own conflicts. It runs in one transaction: on any bad record nothing is
written, and the error names the record and the field.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import IntegrityError, connection, models, transaction
from django.db.models.fields.files import FieldFile

from commitments.assessment import pace
from commitments.choices import PublicationState
from commitments.models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    CommitmentRelation,
    Correction,
    DeadlineRevision,
    KeyRedirect,
    Occurrence,
    Party,
    ProgressUpdate,
    PublicationEvent,
    Report,
    ReportCorrection,
    ReportRow,
    Source,
)
from core.backup import BackupSection, backup_register, backup_sections, backup_user_fields

FORMAT = "commitment-tracker-backup"
#: Version 2 added the webhook and calendar-feed sections, version 3 the deadline revisions
#: and the occurrences of recurring commitments, version 4 the co-obligors and measured
#: progress of each commitment, the ratings with their whole history (current flags and review
#: dates as they were) and the frozen reports with their rows and corrections; older documents
#: still import. Version 5 added each source's archived copy (its text, the original's stored
#: name, type, hash and retrieval day; the files themselves stay in the media storage, backed
#: up beside the document) and each citation's span in that text. Version 6 added publishing
#: (issue 15): each agreement's publication state (with when and by whom it was published) and
#: its publication steps, the old keys that redirect, the public corrections, and the French
#: and machine-made translations of titles, summaries, descriptions, justifications and party
#: names. An older document's agreements are restored as drafts: nobody decided to publish
#: them, so an editor does (``import_all`` says how many).
VERSION = 6
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6)
#: The state an agreement of a document older than version 6 is restored in.
UNPUBLISHED_BEFORE_6 = PublicationState.DRAFT
_SOURCE_FIELDS_SINCE_5 = {
    name: (5, value)
    for name, value in (
        ("text", ""),
        ("original", ""),
        ("original_name", ""),
        ("content_type", ""),
        ("sha256", ""),
        ("retrieved_on", None),
    )
}
#: The commitment fields version 4 added; an older document is read with the values the
#: migration that added them gave an existing database (``_progress_fill``).
_COMMITMENT_FIELDS_SINCE_4 = (
    "co_obligors",
    "progress_measured",
    "progress_measured_on",
    "pace_ahead_until",
    "pace_behind_after",
)


#: The translation fields version 6 added, by section, each read as empty from an older one.
_MACHINE: dict[str, tuple[int, Any]] = {"machine_translations": (6, {})}
_AGREEMENT_FIELDS_SINCE_6 = {
    "title_fr": (6, ""),
    "summary_fr": (6, ""),
    **_MACHINE,
    "publication_state": (6, UNPUBLISHED_BEFORE_6.value),
    "published_at": (6, None),
    "published_by": (6, None),
}


def register_sections() -> None:
    """Contribute the domain's own sections (``CommitmentsConfig.ready``)."""
    backup_register(
        BackupSection("parties", Party, added=_MACHINE),
        BackupSection("sources", Source, added=_SOURCE_FIELDS_SINCE_5),
        BackupSection("agreements", Agreement, added=_AGREEMENT_FIELDS_SINCE_6),
        BackupSection(
            "commitments",
            Commitment,
            added={"title_fr": (6, ""), "description_fr": (6, ""), **_MACHINE},
        ),
        BackupSection("occurrences", Occurrence, since=3),
        BackupSection("citations", Citation, added={"start": (5, None), "end": (5, None)}),
        BackupSection("deadline_revisions", DeadlineRevision, since=3),
        BackupSection("relations", CommitmentRelation),
        BackupSection("progress_updates", ProgressUpdate),
        BackupSection(
            "assessments", Assessment, since=4, added={"justification_fr": (6, ""), **_MACHINE}
        ),
        BackupSection("reports", Report, since=4),
        BackupSection("report_rows", ReportRow, since=4),
        BackupSection("report_corrections", ReportCorrection, since=4),
        BackupSection("publication_events", PublicationEvent, since=6),
        BackupSection("key_redirects", KeyRedirect, since=6),
        BackupSection("corrections", Correction, since=6),
    )


def backup_drafted(*, document: dict[str, Any]) -> int:
    """Return how many agreements a document read by :func:`backup_read` restores as drafts
    only because it is older than version 6 (it held no publication state)."""
    version = document.get("version", VERSION)
    if not isinstance(version, int) or version >= 6:
        return 0
    return len(document["agreements"])


def sections(*, version: int = VERSION) -> dict[str, type[models.Model]]:
    """Return the models a document of ``version`` holds, by section name, in import order."""
    return {s.name: s.model for s in backup_sections() if s.since <= version}


USER_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "last_login",
)


class BackupError(Exception):
    """A backup document that cannot be imported, or a database that must not receive one."""


def _is_user_field(field: models.Field[Any, Any]) -> bool:
    return field.is_relation and field.related_model is get_user_model()


def _encode(value: Any) -> Any:
    """Return ``value`` as JSON holds it without loss: decimals, dates, instants, UUIDs as text."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()  # to the microsecond, unlike DjangoJSONEncoder
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""  # the stored name; the file stays in the media storage
    return value


def _export_section(model: type[models.Model], usernames: dict[int, str]) -> list[dict[str, Any]]:
    links: dict[str, dict[int, list[int]]] = {}
    for m2m in model._meta.many_to_many:
        m2m_field: Any = m2m
        columns = (m2m_field.m2m_column_name(), m2m_field.m2m_reverse_name())
        by_owner: dict[int, list[int]] = {}
        through = m2m_field.remote_field.through._default_manager
        for owner, target in through.values_list(*columns).order_by(*columns):
            by_owner.setdefault(owner, []).append(target)
        links[m2m.name] = by_owner
    records = []
    for obj in model._default_manager.order_by("pk").iterator(chunk_size=2000):
        fields: dict[str, Any] = {}
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            value = getattr(obj, field.attname)
            if _is_user_field(field):
                fields[field.name] = usernames[value] if value is not None else None
            else:
                fields[field.name] = _encode(value)
        for name, by_owner in links.items():
            fields[name] = by_owner.get(obj.pk, [])
        records.append({"pk": obj.pk, "fields": fields})
    return records


def _export_users() -> tuple[list[dict[str, Any]], dict[int, str]]:
    user_model = get_user_model()
    extras = {
        extra.field: dict(extra.model._default_manager.values_list("user_id", extra.field))
        for extra in backup_user_fields()
    }
    groups: dict[int, list[str]] = {}
    for user_id, name in user_model.groups.through.objects.values_list("user_id", "group__name"):
        groups.setdefault(user_id, []).append(name)
    users = []
    usernames: dict[int, str] = {}
    for user in user_model.objects.order_by("username"):
        usernames[user.pk] = user.get_username()
        entry = {name: _encode(getattr(user, name)) for name in USER_FIELDS}
        entry["groups"] = sorted(groups.get(user.pk, []))
        entry.update((name, values.get(user.pk)) for name, values in extras.items())
        users.append(entry)
    return users, usernames


def backup_export(*, now: dt.datetime) -> dict[str, Any]:
    """Return the whole dataset as one JSON-ready document, read in one snapshot."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        users, usernames = _export_users()
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": now.isoformat(),
            "users": users,
        }
        for section, model in sections().items():
            document[section] = _export_section(model, usernames)
    return document


def backup_dumps(*, document: dict[str, Any]) -> str:
    """Return ``document`` as indented JSON text, one field a line."""
    return json.dumps(document, ensure_ascii=False, indent=1)


def backup_read(*, stream: IO[str]) -> dict[str, Any]:
    """Parse a backup document, or raise ``BackupError`` saying why it is not one."""
    try:
        document = json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"Not JSON: {exc}.") from exc
    except RecursionError as exc:
        # Arrays or objects nested thousands deep: no export is, and the reader recurses.
        raise BackupError("Not a backup: its arrays or objects nest too deep.") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f'Not a backup: the top-level object has no "format": {FORMAT!r}.')
    version = document.get("version")
    if version not in READABLE_VERSIONS:
        raise BackupError(
            f"Backup version {version!r} is not one this tracker reads "
            f"({', '.join(map(str, READABLE_VERSIONS))})."
        )
    for section in ("users", *sections(version=version)):
        if not isinstance(document.get(section), list):
            raise BackupError(f"The section {section!r} is missing or is not a list.")
    # Sections added after the document's version: it held no such rows.
    for section in sections().keys() - sections(version=version).keys():
        document[section] = []
    if version < 4:
        _progress_fill(document)
    _added_fields_fill(document, version)
    return document


def _added_fields_fill(document: dict[str, Any], version: int) -> None:
    """Give an older document's rows the fields a later version added, with their values."""
    for section in backup_sections():
        added = {name: value for name, (since, value) in section.added.items() if version < since}
        if not added:
            continue
        for record in document[section.name]:
            fields = record.get("fields") if isinstance(record, dict) else None
            if isinstance(fields, dict):
                for name, value in added.items():
                    fields.setdefault(name, value)


def _progress_fill(document: dict[str, Any]) -> None:
    """Give an older document's commitments the fields version 4 added.

    No co-obligors; the latest measurement of each commitment's own updates (not an
    occurrence's) and its pace band, as migration 0007 computed them for a stored database.
    """
    agreement_dates = {
        record.get("pk"): record.get("fields", {}).get("date")
        for record in document["agreements"]
        if isinstance(record, dict)
    }
    latest: dict[Any, tuple[str, str]] = {}
    for record in document["progress_updates"]:
        fields = record.get("fields") if isinstance(record, dict) else None
        if not isinstance(fields, dict) or fields.get("occurrence") is not None:
            continue
        value, on = fields.get("measured_value"), fields.get("occurred_on")
        if value is None or not isinstance(on, str):
            continue
        known = latest.get(fields.get("commitment"))
        if known is None or on >= known[1]:  # pk order breaks ties, as the migration did
            latest[fields.get("commitment")] = (value, on)
    for record in document["commitments"]:
        fields = record.get("fields") if isinstance(record, dict) else None
        if not isinstance(fields, dict) or any(n in fields for n in _COMMITMENT_FIELDS_SINCE_4):
            continue  # malformed, or not old: the loader names what is wrong
        fields.update(co_obligors=[], progress_measured=None, progress_measured_on=None)
        fields.update(pace_ahead_until=None, pace_behind_after=None)
        measured = latest.get(record.get("pk"))
        if measured is None:
            continue
        try:
            band = pace.pace_band(
                measured=Decimal(str(measured[0])),
                target=_decimal_or_none(fields.get("target_amount")),
                start=_date_or_none(
                    fields.get("effective_from") or agreement_dates.get(fields.get("agreement"))
                ),
                due=_date_or_none(fields.get("due_date")),
            )
        except (ArithmeticError, TypeError, ValueError):
            continue  # a bad value: the loader names its field
        fields.update(progress_measured=measured[0], progress_measured_on=measured[1])
        if band is not None:
            fields.update(
                pace_ahead_until=band.ahead_until.isoformat(),
                pace_behind_after=band.behind_after.isoformat(),
            )


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _date_or_none(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _domain_rows_present() -> list[str]:
    return [section for section, model in sections().items() if model._default_manager.exists()]


def _import_users(entries: list[Any]) -> dict[str, int]:
    """Create the users the database lacks (no usable password); return id by username."""
    user_model = get_user_model()
    existing = dict(user_model.objects.values_list("username", "pk"))
    groups = {group.name: group for group in Group.objects.all()}
    ids: dict[str, int] = {}
    for index, entry in enumerate(entries):
        label = f"users[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("username"), str):
            raise BackupError(f"{label}: field 'username': missing or not a string.")
        username = entry["username"]
        if username in existing:
            ids[username] = existing[username]
            continue
        user = user_model(
            **{
                name: _to_python(user_model, name, entry.get(name), f"users[{username}]")
                for name in USER_FIELDS
            }
        )
        user.set_unusable_password()
        _clean(user, f"users[{username}]", exclude=["password"])
        user.save()
        unknown = set(entry.get("groups") or []) - groups.keys()
        if unknown:
            raise BackupError(
                f"users[{username}]: field 'groups': no group named {sorted(unknown)} "
                "(run migrate first: it creates the roles)."
            )
        user.groups.set([groups[name] for name in entry.get("groups") or []])
        for extra in backup_user_fields():
            if entry.get(extra.field) is not None:
                row = extra.model(user=user, **{extra.field: entry[extra.field]})
                _clean(row, f"users[{username}]", exclude=["user"])
                row.save()
        ids[username] = user.pk
    return ids


def _to_python(model: type[models.Model], name: str, value: Any, label: str) -> Any:
    field: Any = model._meta.get_field(name)
    try:
        return field.to_python(value)
    except ValidationError as exc:
        raise BackupError(f"{label}: field {name!r}: {'; '.join(exc.messages)}") from exc


def _clean(
    obj: models.Model, label: str, *, exclude: Iterable[str] = (), fields: bool = True
) -> None:
    """Run the field checks (unless ``fields`` is false) and the model's ``clean()``."""
    try:
        if fields:
            obj.clean_fields(exclude=list(exclude))
        obj.clean()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.message_dict.items()))
            raise BackupError(f"{label}: field {field!r}: {'; '.join(errors)}") from exc
        raise BackupError(f"{label}: {'; '.join(exc.messages)}") from exc


def _check_fields(obj: models.Model, label: str) -> None:
    """Check each field of ``obj`` alone, the computed (non-editable) ones included."""
    model = type(obj)
    # References were checked against the backup's own ids by the loader; a null the column
    # allows is a stored value, not a blank form field (a frozen report row nobody had rated).
    exclude = [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation or (f.null and getattr(obj, f.attname) is None)
    ]
    try:
        obj.clean_fields(exclude=exclude)
    except ValidationError as exc:
        name, errors = next(iter(exc.message_dict.items()))
        raise BackupError(f"{label}: field {name!r}: {'; '.join(errors)}") from exc
    # Django's field validation skips non-editable fields: check their null and choices here.
    for field in model._meta.concrete_fields:
        if field.editable or field.is_relation or field.primary_key:
            continue
        value = getattr(obj, field.attname)
        if value is None and not field.null:
            raise BackupError(f"{label}: field {field.name!r}: may not be null.")
        if (
            field.choices
            and value not in {"", None}
            and value not in {choice for choice, _label in field.flatchoices}
        ):
            raise BackupError(f"{label}: field {field.name!r}: {value!r} is not a valid choice.")


class _Loader:
    """Turn records into unsaved objects, checking references against the backup's own ids."""

    def __init__(self, *, document: dict[str, Any], user_ids: dict[str, int]) -> None:
        self.user_ids = user_ids
        self.pks: dict[type[models.Model], set[int]] = {}
        for section, model in sections().items():
            self.pks[model] = set()
            for index, record in enumerate(document[section]):
                pk = record.get("pk") if isinstance(record, dict) else None
                if not isinstance(pk, int) or isinstance(pk, bool):
                    raise BackupError(f"{section}[{index}]: field 'pk': missing or not an integer.")
                if pk in self.pks[model]:
                    raise BackupError(f"{section} pk={pk}: field 'pk': appears twice.")
                self.pks[model].add(pk)

    def build(
        self, model: type[models.Model], record: dict[str, Any], label: str
    ) -> tuple[models.Model, dict[str, list[int]]]:
        fields = record.get("fields")
        if not isinstance(fields, dict):
            raise BackupError(f"{label}: field 'fields': missing or not an object.")
        known: dict[str, Any] = {
            f.name: f for f in model._meta.concrete_fields if not f.primary_key
        }
        known.update((f.name, f) for f in model._meta.many_to_many)
        missing = sorted(known.keys() - fields.keys())
        if missing:
            raise BackupError(f"{label}: field {missing[0]!r}: missing.")
        obj = model(pk=record["pk"])
        m2m: dict[str, list[int]] = {}
        for name, value in fields.items():
            field = known.get(name)
            if field is None:
                raise BackupError(f"{label}: field {name!r}: not a field of {model.__name__}.")
            if field.many_to_many:
                m2m[name] = self._references(field, value, label)
            elif _is_user_field(field):
                setattr(obj, field.attname, self._user(value, name, label))
            elif field.is_relation:
                ref = self._references(field, [] if value is None else [value], label)
                setattr(obj, field.attname, ref[0] if ref else None)
            else:
                setattr(obj, field.attname, _to_python(model, name, value, label))
        return obj, m2m

    def _user(self, username: Any, name: str, label: str) -> int | None:
        if username is None:
            return None
        if username not in self.user_ids:
            raise BackupError(f"{label}: field {name!r}: no user {username!r} in the backup.")
        return self.user_ids[username]

    def _references(self, field: Any, values: Any, label: str) -> list[int]:
        target = field.related_model
        if not isinstance(values, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values
        ):
            raise BackupError(f"{label}: field {field.name!r}: not an id or a list of ids.")
        dangling = [v for v in values if v not in self.pks[target]]
        if dangling:
            raise BackupError(
                f"{label}: field {field.name!r}: no {target.__name__} pk={dangling[0]} in the "
                "backup."
            )
        return list(values)


@transaction.atomic
def backup_import(*, document: dict[str, Any]) -> dict[str, int]:
    """Load ``document`` into a database with no domain rows; return rows written by section.

    Raise ``BackupError`` naming the record and field of the first bad record, or the sections
    already holding rows; in either case nothing is written.
    """
    present = _domain_rows_present()
    if present:
        raise BackupError(
            "The database already holds data (" + ", ".join(present) + "); import_all only "
            "restores into an empty database: run it after `migrate` on a new database."
        )
    user_ids = _import_users(document["users"])
    loader = _Loader(document=document, user_ids=user_ids)
    models_by_section = sections()
    built: dict[type[models.Model], dict[int, models.Model]] = {
        m: {} for m in models_by_section.values()
    }
    records: list[tuple[models.Model, str]] = []
    links: list[tuple[Any, int, list[int]]] = []
    for section, model in models_by_section.items():
        for record in document[section]:
            label = f"{section} pk={record['pk']}"
            obj, m2m = loader.build(model, record, label)
            _check_fields(obj, label)
            built[model][record["pk"]] = obj
            records.append((obj, label))
            links.extend((model._meta.get_field(name), obj.pk, ids) for name, ids in m2m.items())
    # The models' own rules, on objects linked in memory: no query per row for what they read.
    for obj, label in records:
        for field in obj._meta.concrete_fields:
            target = getattr(obj, field.attname) if field.is_relation else None
            if target is not None and field.related_model in built:
                field.set_cached_value(obj, built[field.related_model][target])  # type: ignore[index, attr-defined]
        _clean(obj, label, fields=False)
    for obj, label in records:
        try:
            # Raw, as loaddata saves: keeps created/updated as they were, writes no history.
            obj.save_base(raw=True, force_insert=True)
        except IntegrityError as exc:
            raise BackupError(f"{label}: refused by the database: {exc}") from exc
    link_rows: dict[Any, list[models.Model]] = {}
    for m2m_field, owner_pk, ids in links:
        through = m2m_field.remote_field.through
        owner, target = m2m_field.m2m_column_name(), m2m_field.m2m_reverse_name()
        link_rows.setdefault(through, []).extend(
            through(**{owner: owner_pk, target: ref}) for ref in ids
        )
    for through, rows in link_rows.items():
        through._default_manager.bulk_create(rows, batch_size=2000)
    # An anchor cycle can only be seen with every commitment stored.
    for obj, label in records:
        if isinstance(obj, Commitment) and obj.anchor_commitment_id is not None:
            _clean(obj, label, fields=False)
    counts: dict[str, int] = {"users": len(document["users"])}
    counts.update((section, len(document[section])) for section in models_by_section)
    with connection.cursor() as cursor:
        models_written = list(models_by_section.values())
        for statement in connection.ops.sequence_reset_sql(no_style(), models_written):
            cursor.execute(statement)
    return counts
