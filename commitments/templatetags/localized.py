"""Translated texts in templates: ``{% load localized %}{% localized commitment "title" %}``.

The text in the reader's language (:func:`commitments.translations.localized`); a fallback is
wrapped in its own language (``lang="en"``, so screen readers pronounce it right) and marked
"not translated", a machine translation marked "machine translation". ``localized_text``
gives the bare text, for attributes, page titles and meta tags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from commitments.translations import Localized
from commitments.translations import localized as localized_value
from commitments.translations import localized_text as localized_plain
from core.html_rows import escape, safe

register = template.Library()


@register.simple_tag
def localized(obj: Any, field: str, language: str | None = None) -> SafeString:
    """Render ``obj.<field>`` in the reader's language, its fallback marked as such."""
    return localized_html(localized_value(obj, field, language))


def localized_html(value: Localized) -> SafeString:
    """Return a text :func:`~commitments.translations.localized` chose, as the ``localized``
    tag writes it: a fallback in its own language and marked, a machine translation marked."""
    return localized_writer()(value)


def localized_writer() -> Callable[[Localized], SafeString]:
    """Return :func:`localized_html` for the many texts of a page, in the active language.

    Its notes ("not translated", "machine translation") are translated once each, when first
    needed, not once a text: a ``gettext`` reads the active language from a context-local
    (several microseconds), and in French most of a thousand titles are fallbacks.
    """
    notes: dict[bool, str] = {}

    def note(machine: bool) -> str:
        if machine not in notes:
            notes[machine] = escape(_("machine translation") if machine else _("not translated"))
        return notes[machine]

    def write(value: Localized) -> SafeString:
        # As format_html() and conditional_escape() write it, without their wrappers.
        if value.fallback:
            return safe(
                f'<span lang="{escape(value.language)}">{escape(value.text)}</span> '
                f'<small class="translation-note">({note(False)})</small>'
            )
        if value.machine:
            return safe(
                f'{escape(value.text)} <small class="translation-note">({note(True)})</small>'
            )
        return safe(escape(value.text))

    return write


@register.simple_tag
def localized_text(obj: Any, field: str, language: str | None = None) -> str:
    """Return ``obj.<field>`` in the reader's language as plain text (escaped by the template)."""
    return localized_plain(obj, field, language)
