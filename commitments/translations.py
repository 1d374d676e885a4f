"""Bilingual content: the one home of which texts have a French version and which one is shown.

Titles, summaries, descriptions, justifications and party names are written in English
(the field itself) and in French (``<field>_fr``, a human translation). A machine-made
translation is kept apart, in the row's ``machine_translations`` (``{"fr": {"title": "…"}}``),
as Decidim keeps them: a human translation always wins over it, and a page that shows one
says so. Where neither exists the English text is shown, marked as not translated.

Every surface (dashboard, public site, feeds, mails, exports, API) reads a text through
:func:`localized`, with the reader's language.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

#: The language of the fields themselves; the other language has ``<field>_<language>``.
BASE_LANGUAGE = "en"
#: The languages a text may be read in, the base one first.
LANGUAGES = ("en", "fr")

#: Each translatable model (by ``app_label.model_name``) and its translatable fields.
TRANSLATED: dict[str, tuple[str, ...]] = {
    "commitments.party": ("name",),
    "commitments.agreement": ("title", "summary"),
    "commitments.commitment": ("title", "description"),
    "commitments.assessment": ("justification",),
}


class Localized(NamedTuple):
    """A text as shown to a reader, with where it came from.

    ``language`` is the language the text is in; ``fallback`` says it is not the reader's
    (no translation exists); ``machine`` says it is a machine translation.

    A named tuple, immutable and hashable as a frozen dataclass, built at a quarter of its
    cost: a page reads a title and a justification per row of its tables.
    """

    text: str
    language: str
    fallback: bool = False
    machine: bool = False

    def __str__(self) -> str:
        return self.text


def reader_language(language: str | None = None) -> str:
    """Return ``language``, or the active one, as one of :data:`LANGUAGES` (base otherwise)."""
    if language and language in LANGUAGES:
        return language
    code = (language or translation.get_language() or BASE_LANGUAGE).split("-")[0].lower()
    return code if code in LANGUAGES else BASE_LANGUAGE


def translated_fields(model: Any) -> tuple[str, ...]:
    """Return the translatable fields of a model class or instance (empty if none)."""
    return _fields_of(model._meta)


@cache
def _fields_of(meta: Any) -> tuple[str, ...]:
    # By the model's options, once each: ``label_lower`` formats a string at every call, and
    # :func:`localized` asks for every text it reads in French.
    return TRANSLATED.get(meta.label_lower, ())


def localized(obj: Any, field: str, language: str | None = None) -> Localized:
    """Return ``obj.<field>`` in the reader's language, or its fallback, marked as such.

    In French: the human ``<field>_fr``, else the machine translation, else the English
    text (``fallback``). In English: the field itself.
    """
    base = getattr(obj, field, "") or ""
    language = reader_language(language)
    if language == BASE_LANGUAGE or field not in translated_fields(obj):
        return Localized(text=base, language=BASE_LANGUAGE)
    human = getattr(obj, f"{field}_{language}", "") or ""
    if human:
        return Localized(text=human, language=language)
    machine = ((getattr(obj, "machine_translations", None) or {}).get(language) or {}).get(field)
    if machine:
        return Localized(text=machine, language=language, machine=True)
    return Localized(text=base, language=BASE_LANGUAGE, fallback=bool(base))


def localized_columns(field: str, *, through: str = "") -> tuple[str, ...]:
    """Return the columns :func:`localized` reads for ``field`` in any language (for
    ``only()``), each behind ``through`` (a relation's path and ``__``, or nothing)."""
    translations = [f"{field}_{language}" for language in LANGUAGES if language != BASE_LANGUAGE]
    return tuple(f"{through}{name}" for name in (field, *translations, "machine_translations"))


def localized_text(obj: Any, field: str, language: str | None = None) -> str:
    """Return just the text :func:`localized` chooses."""
    return localized(obj, field, language).text


def localized_label(obj: Any, language: str | None = None) -> str:
    """Return how a choice list names ``obj``: ``str(obj)``, its text in the reader's language.

    ``str(obj)`` is built from the first translated field (a party's name, an agreement's
    title and date); that text is swapped for its :func:`localized` one.
    """
    label = str(obj)
    fields = translated_fields(obj)
    base = getattr(obj, fields[0], "") if fields else ""
    if not base or base not in label:
        return label
    return label.replace(base, localized_text(obj, fields[0], language), 1)


class LocalizedLabelMixin:
    """A model choice field whose options read in the reader's language (see localized_label)."""

    def label_from_instance(self, obj: Any) -> str:
        return localized_label(obj)


def validate_machine_translations(value: Any) -> None:
    """Refuse a ``machine_translations`` value that is not ``{language: {field: text}}``.

    The language must be one the tracker translates into (not the base one); the field
    names are checked against the model by :func:`machine_translations_check`.
    """
    if value in (None, {}):
        return
    if not isinstance(value, dict):
        raise ValidationError(_('Give an object such as {"fr": {"title": "…"}}.'))
    for language, texts in value.items():
        if language not in LANGUAGES or language == BASE_LANGUAGE:
            raise ValidationError(
                _("%(language)r is not a language texts are translated into (fr).")
                % {"language": language}
            )
        if not isinstance(texts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in texts.items()
        ):
            raise ValidationError(
                _("The %(language)s translations must map field names to texts.")
                % {"language": language}
            )


def machine_translations_check(model: Any, value: Any) -> None:
    """Refuse machine translations of fields the model does not translate, naming them."""
    validate_machine_translations(value)
    allowed = set(translated_fields(model))
    unknown = sorted({f for texts in (value or {}).values() for f in texts} - allowed)
    if unknown:
        raise ValidationError(
            _("Not a translated field here: %(fields)s (translated: %(allowed)s).")
            % {"fields": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
        )


class TranslatedModel:
    """A model mixin: ``full_clean`` names machine translations of fields it does not translate."""

    def clean_fields(self, exclude: Any = None) -> None:
        if getattr(self, "machine_translations", {}) is None:
            # A form's empty JSON field gives None: no machine translation, stored as {}.
            setattr(self, "machine_translations", {})  # noqa: B010 - a mixin: no declared field
        errors: dict[str, list[str]] = {}
        try:
            super().clean_fields(exclude=exclude)  # type: ignore[misc]
        except ValidationError as exc:
            errors = exc.message_dict
        if "machine_translations" not in (exclude or ()) and "machine_translations" not in errors:
            try:
                machine_translations_check(self, getattr(self, "machine_translations", None))
            except ValidationError as exc:
                errors["machine_translations"] = exc.messages
        if errors:
            raise ValidationError(errors)


def machine_translations_field(help_text: Any) -> Any:
    """The ``machine_translations`` field of a translated model: ``{"fr": {field: text}}``,
    empty by default (in the database too), validated by :func:`validate_machine_translations`."""
    from django.db import models

    return models.JSONField(
        _("machine translations"),
        default=dict,
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
        validators=[validate_machine_translations],
        help_text=help_text,
    )
