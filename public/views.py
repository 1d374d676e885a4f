"""The public pages: the published tracker, readable by anyone without a login."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language_from_request

from commitments.translations import reader_language


def language_pick(request: HttpRequest) -> HttpResponseRedirect:
    """Send ``/public/`` to the overview in the reader's language (browser or cookie)."""
    language = reader_language(get_language_from_request(request))
    response = HttpResponseRedirect(reverse("public:overview", kwargs={"lang": language}))
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response
