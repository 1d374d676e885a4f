from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class CoreConfig(AppConfig):
    """Shared plumbing below the domain: registries the apps above contribute to."""

    name = "core"
    verbose_name = pgettext_lazy("application", "Core")
