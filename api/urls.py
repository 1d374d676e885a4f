"""Routes of the API v1, mounted at ``/api/v1/``."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from webhooks.api import WebhookEndpointViewSet

from . import views

app_name = "api"

router = DefaultRouter()
router.register("parties", views.PartyViewSet, basename="party")
router.register("sources", views.SourceViewSet, basename="source")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("progress-updates", views.ProgressUpdateViewSet, basename="progressupdate")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")


@csrf_exempt
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Answer a path under the API that names nothing with a JSON 404, as the API does."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("feeds.urls")),  # before the router: see feeds/urls.py
    path("", include(router.urls)),
    # Last, so that only paths no route above claims get the JSON 404.
    re_path(r"", not_found),
]
