from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = pgettext_lazy("application", "Dashboard")
