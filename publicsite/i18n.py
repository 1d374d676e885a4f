"""The public site's languages: in the URL (``/public/en/…``, ``/public/fr/…``), never a cookie.

A permalink names its language, so a page is the same for every reader of that URL (and may be
cached as such), search engines see both versions (``hreflang``), and a shared link opens in
the language it was shared in. ``public_view`` activates the URL's language around a view;
``alternates`` gives the same page's URL in each language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from commitments.translations import LANGUAGES
from commitments.visibility import public_reading

from .cache import PUBLIC_MARK

#: The URL converter's pattern: one of the content languages.
LANGUAGE_PATTERN = "|".join(LANGUAGES)


class LanguageConverter:
    """``<lang:lang>`` in a public route: ``en`` or ``fr``."""

    regex = LANGUAGE_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render ``view`` in the language its URL names (``lang``), whatever the reader's cookie."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, lang: str, **kwargs: Any) -> HttpResponse:
        with translation.override(lang), public_reading():
            request.LANGUAGE_CODE = lang
            response = view(request, *args, lang=lang, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
        response.headers.setdefault("Content-Language", lang)
        # The public cache (publicsite.cache) stores only the responses of these views.
        setattr(response, PUBLIC_MARK, True)
        return response

    return wrapped


def alternates(request: HttpRequest) -> dict[str, str]:
    """Return this page's URL in each language (empty off the public site)."""
    match = getattr(request, "resolver_match", None)
    if match is None or "lang" not in match.kwargs:
        return {}
    urls = {}
    for language in LANGUAGES:
        try:
            urls[language] = reverse(
                match.view_name, args=match.args, kwargs={**match.kwargs, "lang": language}
            )
        except NoReverseMatch:
            continue
    return urls
