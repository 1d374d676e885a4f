"""Routes of the API v1, mounted at ``/api/v1/``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

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

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
