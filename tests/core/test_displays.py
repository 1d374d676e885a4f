"""``get_<field>_display()`` through :class:`core.displays.QuickDisplay` reads what Django's
reads, in every language, for every choice of every field of the models that use it."""

from __future__ import annotations

import pytest
from django.db import models
from django.utils import translation

from commitments import models as domain
from core.displays import QuickDisplay

QUICK_MODELS = [
    m
    for m in vars(domain).values()
    if isinstance(m, type) and issubclass(m, QuickDisplay) and issubclass(m, models.Model)
]


def test_the_models_whose_lists_show_labels_read_them_quickly():
    names = {m.__name__ for m in QUICK_MODELS}
    assert {"Agreement", "Commitment", "ProgressUpdate", "Occurrence"} <= names


@pytest.mark.parametrize("model", QUICK_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("language", ["en", "fr", None])
def test_each_label_is_djangos(model, language):
    fields = [f for f in model._meta.concrete_fields if f.choices]
    assert fields
    for field in fields:
        values = [*(v for v, _label in field.flatchoices), "not-a-choice", None, "", ["x"], 3]
        for value in values:
            obj = model()
            setattr(obj, field.attname, value)
            quick = getattr(obj, f"get_{field.name}_display")
            with translation.override(language):
                expected = models.Model._get_FIELD_display(obj, field)  # type: ignore[attr-defined]
                assert quick() == expected, (field.name, value)
                assert type(quick()) is type(expected)


def test_labels_follow_the_active_language():
    commitment = domain.Commitment(status="in_progress")
    with translation.override("en"):
        english = commitment.get_status_display()
    with translation.override("fr"):
        french = commitment.get_status_display()
    with translation.override("en"):
        assert commitment.get_status_display() == english
    assert english == "In progress"
    assert french != english
