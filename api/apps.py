"""The REST API v1 plumbing: token authentication, pagination, throttling, schema, router."""

from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = pgettext_lazy("application", "REST API")

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the authentication scheme with the schema)
