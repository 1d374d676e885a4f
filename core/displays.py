"""Choice labels as Django's ``get_<field>_display()`` reads them, without its cost.

Django's version builds a dictionary of the field's choices at every call, hashing each lazy
label, and hashing a lazy label translates it: a list of 25 commitments showing their status
and category called ``gettext`` about 500 times, a sixth of the page's time (issue 16). A
model that inherits :class:`QuickDisplay` reads each field's labels once per language; the
labels of a model field's choices are fixed when its class is made.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language


class QuickDisplay:
    """A model mixin (before ``models.Model`` in the bases): ``get_<field>_display()`` reads
    its labels from :func:`choice_labels`, and returns what Django's would."""

    def _get_FIELD_display(self, field: Any) -> Any:
        value = getattr(self, field.attname)
        label = choice_labels(field).get(make_hashable(value), value)
        return force_str(label, strings_only=True)


#: Each field's labels by language: (field, language) -> {value: label}.
_LABELS: dict[tuple[Any, str | None], dict[Any, Any]] = {}


def choice_labels(field: Any) -> dict[Any, Any]:
    """Return ``field``'s choices as a dictionary of their labels in the active language."""
    key = (field, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = {
            make_hashable(value): force_str(label, strings_only=True)
            for value, label in field.flatchoices
        }
        _LABELS[key] = labels
    return labels


@receiver(setting_changed)
def _settings_changed(**kwargs: object) -> None:
    # Languages and catalogues change only in tests: read the labels afresh then.
    _LABELS.clear()
