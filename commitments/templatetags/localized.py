"""Translated texts in templates: ``{% load localized %}{% localized commitment "title" %}``.

The text in the reader's language (:func:`commitments.translations.localized`); a fallback is
wrapped in its own language (``lang="en"``, so screen readers pronounce it right) and marked
"not translated", a machine translation marked "machine translation". ``localized_text``
gives the bare text, for attributes, page titles and meta tags.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
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
    if value.fallback:
        return format_html(
            '<span lang="{}">{}</span> <small class="translation-note">({})</small>',
            value.language,
            value.text,
            _("not translated"),
        )
    if value.machine:
        return format_html(
            '{} <small class="translation-note">({})</small>',
            value.text,
            _("machine translation"),
        )
    # As conditional_escape() writes it, without its wrapper for lazy texts: a page writes a
    # title per commitment.
    return safe(escape(value.text))


@register.simple_tag
def localized_text(obj: Any, field: str, language: str | None = None) -> str:
    """Return ``obj.<field>`` in the reader's language as plain text (escaped by the template)."""
    return localized_plain(obj, field, language)
