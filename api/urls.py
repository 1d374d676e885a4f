"""Routes of the API v1, mounted at ``/api/v1/``: the schema, and each app's own routes.

Each app's ``api/urls.py`` lists its resources as ``routes``, registered here on one router
(so they share its root view and the ``api`` namespace); the feeds bring their own patterns.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from alerts.api.urls import routes as alert_routes
from commitments.api.urls import routes as commitment_routes
from webhooks.api.urls import routes as webhook_routes

app_name = "api"

router = DefaultRouter()
for prefix, viewset, basename in (*commitment_routes, *alert_routes, *webhook_routes):
    router.register(prefix, viewset, basename=basename)


@csrf_exempt
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Answer a path under the API that names nothing with a JSON 404, as the API does."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("feeds.api.urls")),  # before the router: see feeds/api/urls.py
    path("", include(router.urls)),
    # Last, so that only paths no route above claims get the JSON 404.
    re_path(r"", not_found),
]
