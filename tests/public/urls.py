"""The tracker's routes, with stand-ins for the public pages that lane h2 builds (agreement,
commitment, party, report), at the paths agreed for them, so that the change log's links to
those pages reverse in these tests whichever lane merges first. The stand-ins come after the
real routes: where both exist, the real page answers (and both reverse to the same path).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from public import urls as public_urls
from tracker.urls import urlpatterns as tracker_urlpatterns


def stand_in(request: HttpRequest, **kwargs: object) -> HttpResponse:
    """Answer for a page of another lane: its name and arguments, no more."""
    return HttpResponse(f"stand-in {kwargs}", content_type="text/plain")


pages = [
    path("agreements/<slug:key>/", stand_in, name="agreement"),
    path("commitments/<slug:key>/", stand_in, name="commitment"),
    path("parties/<slug:key>/", stand_in, name="party"),
    path("agreements/<slug:key>/reports/<int:report_id>/", stand_in, name="report"),
]

public_with_pages = (
    [*public_urls.urlpatterns, path("<lang:lang>/", include(pages))],
    "public",
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("public/", include(public_with_pages)),
    *(
        pattern
        for pattern in tracker_urlpatterns
        if getattr(pattern, "namespace", None) != "public"
    ),
]
