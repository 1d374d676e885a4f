from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing below the domain: registries the apps above contribute to."""

    name = "core"
    verbose_name = "Core"
