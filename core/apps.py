from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class CoreConfig(AppConfig):
    """Shared plumbing below the domain: registries the apps above contribute to."""

    name = "core"
    verbose_name = pgettext_lazy("application", "Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.prepared import prepared_keep_few
        from core.sqlite import fold_case_in_like

        connection_created.connect(fold_case_in_like, dispatch_uid="core.sqlite.fold_case")
        connection_created.connect(prepared_keep_few, dispatch_uid="core.prepared.keep_few")
