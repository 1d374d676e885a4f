"""The tracker's routes, with stand-ins for the public pages that lane h2 builds (agreement,
commitment, party, report), at the paths agreed for them, so that the change log's links to
those pages reverse in these tests whichever lane merges first. The stand-ins come after the
real routes: where both exist, the real page answers (and both reverse to the same path).
"""

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from public import urls as public_urls
from tracker.urls import urlpatterns as tracker_urlpatterns

Routes = list[URLPattern | URLResolver]


def stand_in(request: HttpRequest, **kwargs: object) -> HttpResponse:
    """Answer for a page of another lane: its name and arguments, no more."""
    return HttpResponse(f"stand-in {kwargs}", content_type="text/plain")


pages: Routes = [
    path("agreements/<slug:key>/", stand_in, name="agreement"),
    path("commitments/<slug:key>/", stand_in, name="commitment"),
    path("parties/<slug:key>/", stand_in, name="party"),
    path("agreements/<slug:key>/reports/<int:report_id>/", stand_in, name="report"),
]

public_patterns: Routes = [
    *cast(Routes, public_urls.urlpatterns),
    path("<lang:lang>/", include(pages)),
]

urlpatterns: Routes = [
    path("public/", include((public_patterns, "public"))),
    *[
        pattern
        for pattern in cast(Routes, tracker_urlpatterns)
        if not isinstance(pattern, URLResolver) or pattern.namespace != "public"
    ],
]
