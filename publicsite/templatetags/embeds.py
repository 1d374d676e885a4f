"""Embeds on the public pages: ``{% load embeds %}{% oembed_link obj %}{% embed_snippet obj %}``.

``oembed_link`` is the oEmbed discovery ``<link>`` for the page's ``<head>``; ``embed_snippet``
is the "Embed this" block: a read-only text area holding the ``<iframe>`` code of the card,
inside a ``<details>`` (it opens without JavaScript). Both take an agreement or a commitment
and write the page's language.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from commitments.models import Agreement, Commitment
from commitments.translations import localized_text, reader_language
from publicsite.embeds import default_size, iframe_html, permalink, site_url

register = template.Library()


@register.simple_tag
def oembed_link(obj: Agreement | Commitment) -> SafeString:
    """Return the ``<link rel="alternate" type="application/json+oembed">`` of ``obj``."""
    lang = reader_language()
    query = urlencode({"url": permalink(obj, lang), "format": "json"})
    return format_html(
        '<link rel="alternate" type="application/json+oembed" href="{}" title="{}">',
        f"{site_url()}{reverse('public:oembed', kwargs={'lang': lang})}?{query}",
        localized_text(obj, "title", lang),
    )


@register.simple_tag
def embed_snippet(obj: Agreement | Commitment) -> SafeString:
    """Return the "Embed this" block: the card's ``<iframe>`` code to copy, read-only."""
    lang = reader_language()
    width, height = default_size(obj)
    kind = "agreement" if isinstance(obj, Agreement) else "commitment"
    field_id = f"embed-code-{kind}-{obj.pk}"
    return format_html(
        '<details class="embed-snippet"><summary>{}</summary>'
        '<label for="{}">{}</label>'
        '<textarea id="{}" readonly rows="4" cols="60" spellcheck="false">{}</textarea>'
        "</details>",
        _("Embed this"),
        field_id,
        _("Copy this code into your page to show this card:"),
        field_id,
        # Escaped once more: a text area shows its text, and the reader copies the code.
        escape(iframe_html(obj, lang, width, height)),
    )
