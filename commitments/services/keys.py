"""Keys made from titles: the one rule for a key an editor leaves empty.

A key is a slug (ASCII letters, digits, hyphens) that fits the model's ``key`` field and is
not yet taken. Punctuation becomes a hyphen and accents are folded (« Déclaration » gives
``declaration``); a title with no Latin letters at all (a Japanese title, say) falls back on
the model's name. When the slug is taken, ``-2``, ``-3``… is added, the slug shortened so the
whole still fits.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from django.utils.text import slugify

_HYPHENS = re.compile(r"-{2,}")
_PUNCTUATION = re.compile(r"[^\w\s-]")


def key_base(title: str, max_length: int, fallback: str) -> str:
    """Return the slug of ``title`` cut to ``max_length`` at a word boundary when it can be."""
    # Punctuation separates words (« UE–États-Unis », « L’Union »): it becomes a hyphen.
    slug = _HYPHENS.sub("-", slugify(_PUNCTUATION.sub(" ", title or ""))).strip("-")
    if not slug:
        slug = slugify(fallback) or "item"
    if len(slug) > max_length:
        cut = slug[:max_length]
        # Prefer ending at a word boundary unless that would leave too little.
        boundary = cut.rfind("-")
        if boundary >= max_length // 2:
            cut = cut[:boundary]
        slug = cut.strip("-")
    return slug


def key_from_title(
    title: str,
    model: type[models.Model],
    *,
    field: str = "key",
    exclude_pk: object = None,
) -> str:
    """Return a unique slug for ``model.<field>`` made from ``title``.

    The slug fits the field's ``max_length`` and is not used by another row (``exclude_pk``
    leaves one row out, for a record that keeps its own key). Two writers racing for the same
    key still meet the database's unique constraint; callers write in a transaction.
    """
    max_length = getattr(model._meta.get_field(field), "max_length", None) or 50
    base = key_base(title, max_length, model._meta.model_name or "item")
    rows = model._default_manager.all()
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    taken = set(rows.filter(**{f"{field}__startswith": base}).values_list(field, flat=True))
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
        # A shortened stem no longer starts with ``base``: ask the database about it.
        if candidate.startswith(base):
            free = candidate not in taken
        else:
            free = not rows.filter(**{field: candidate}).exists()
        if free:
            return candidate
        number += 1


# Permalinks (issue 15): an agreement's, a commitment's or a party's key is its public slug.
# A title edit keeps it; a key edit leaves the old key behind as a redirect.


def _redirect_kind(model: Any) -> str | None:
    from commitments.models import Agreement, Commitment, KeyRedirect, Party

    kinds = {
        Agreement: KeyRedirect.Kind.AGREEMENT,
        Commitment: KeyRedirect.Kind.COMMITMENT,
        Party: KeyRedirect.Kind.PARTY,
    }
    return kinds.get(model)


def key_change_remember(sender: type, instance: Any, update_fields: Any = None, **_: Any) -> None:
    """Before a save that changes a key, keep the old key as a redirect to the same row.

    Connected to ``pre_save`` of agreements, commitments and parties (every interface saves
    through Django, so none can forget it); a key given back to its row drops its redirect.
    """
    from commitments.models import KeyRedirect

    kind = _redirect_kind(type(instance))
    if kind is None or instance.pk is None:
        return
    if update_fields is not None and "key" not in update_fields:
        return
    old = type(instance)._default_manager.filter(pk=instance.pk).values_list("key", flat=True)
    old_key = old.first()
    if old_key is None or old_key == instance.key:
        return
    KeyRedirect.objects.update_or_create(
        kind=kind, old_key=old_key, defaults={"target_id": instance.pk}
    )
    KeyRedirect.objects.filter(kind=kind, old_key=instance.key).delete()


def key_resolve(model: Any, key: str, *, queryset: Any = None) -> tuple[Any, bool]:
    """Return ``(row, moved)`` for a permalink's key: the row with that key (``moved`` False),
    or the row that had it before (``moved`` True: redirect to its current key).

    ``queryset`` narrows what may be found (the public rows); raise ``model.DoesNotExist``
    when nothing is found in it.
    """
    from commitments.models import KeyRedirect

    rows = queryset if queryset is not None else model._default_manager.all()
    row = rows.filter(key=key).first()
    if row is not None:
        return row, False
    kind = _redirect_kind(model)
    target = (
        KeyRedirect.objects.filter(kind=kind, old_key=key).values_list("target_id", flat=True)
    ).first()
    if target is not None:
        row = rows.filter(pk=target).first()
        if row is not None:
            return row, True
    raise model.DoesNotExist(key)
