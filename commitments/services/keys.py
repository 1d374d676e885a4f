"""Keys made from titles: the one rule for a key an editor leaves empty.

A key is a slug (ASCII letters, digits, hyphens) that fits the model's ``key`` field and is
not yet taken. Punctuation becomes a hyphen and accents are folded (« Déclaration » gives
``declaration``); a title with no Latin letters at all (a Japanese title, say) falls back on
the model's name. When the slug is taken, ``-2``, ``-3``… is added, the slug shortened so the
whole still fits.
"""

from __future__ import annotations

import re

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
