"""Choice labels as Django's ``get_<field>_display()`` reads them, without its cost.

Django's version builds a dictionary of the field's choices at every call, hashing each lazy
label, and hashing a lazy label translates it: a list of 25 commitments showing their status
and category called ``gettext`` about 500 times, a sixth of the page's time (issue 16). A
model that inherits :class:`QuickDisplay` reads each field's labels once per language; the
labels of a model field's choices are fixed when its class is made.
"""

from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language

from core.translated import per_language


class QuickDisplay:
    """A model mixin (before ``models.Model`` in the bases): ``get_<field>_display()`` reads
    its labels from :func:`choice_labels`, and returns what Django's would."""

    def _get_FIELD_display(self, field: Any) -> Any:
        value = getattr(self, field.attname)
        label = choice_labels(field).get(make_hashable(value), value)
        return force_str(label, strings_only=True)


def choice_labels(field: Any) -> dict[Any, Any]:
    """Return ``field``'s choices as a dictionary of their labels in the active language."""
    return _labels(field, get_language())


@per_language()
def _labels(field: Any, language: str | None) -> dict[Any, Any]:
    # ``language`` is only the memory's key: force_str translates into the active one.
    return {
        make_hashable(value): force_str(label, strings_only=True)
        for value, label in field.flatchoices
    }
