"""The tracker's routes with the public pages' two permalink routes, for a branch without them.

The embeds link to ``public:agreement`` and ``public:commitment`` (the pages of another part
of the site). Where those routes are not there yet, the tests of the embeds run on this
configuration, whose page views only answer the key; with them, it is not used.
"""

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, URLPattern, URLResolver, include, path, reverse

from public import urls as public_urls
from public.i18n import public_view
from tracker.urls import urlpatterns as tracker_patterns


@public_view
def page(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    return HttpResponse(key, content_type="text/plain")


pages: list[URLPattern | URLResolver] = [
    path("<lang:lang>/agreements/<slug:key>/", page, name="agreement"),
    path("<lang:lang>/commitments/<slug:key>/", page, name="commitment"),
]
routes = cast(list[URLPattern | URLResolver], public_urls.urlpatterns) + pages
urlpatterns = [
    path("public/", include((routes, "public"))),
    *(p for p in tracker_patterns if getattr(p, "namespace", None) != "public"),
]


def use_where_missing(settings: Any) -> None:
    """Route the tests through this configuration if ``public:agreement`` is missing."""
    try:
        reverse("public:agreement", kwargs={"lang": "en", "key": "k"})
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__
