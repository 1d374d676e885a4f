"""``django.contrib.admin`` with the tracker's site (apart: settings import it before models)."""

from django.contrib.admin.apps import AdminConfig


class TrackerAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`tracker.admin_site.TrackerAdminSite` as its site."""

    default_site = "tracker.admin_site.TrackerAdminSite"
