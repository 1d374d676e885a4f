"""URL configuration of the tracker."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.forms import LoginForm
from accounts.views import set_language
from publicsite.sitemaps import SITEMAPS
from publicsite.views import robots_txt
from tracker.health import healthz

# The admin says whose it is, in the reader's language (Django's default: "Django administration").
admin.site.site_header = _("Commitment Tracker administration")
admin.site.site_title = _("Commitment Tracker")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("healthz", healthz, name="healthz"),
    # At the host's root however the public site is mounted (issue 15).
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("i18n/setlang/", set_language, name="set_language"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
# The public site (issue 15) at /public/, or at the site root when TRACKER_PUBLIC_AT_ROOT is
# set: the review pages then move to /dashboard/.
if settings.TRACKER_PUBLIC_AT_ROOT:
    urlpatterns += [
        path("dashboard/", include("dashboard.urls")),
        path("", include("publicsite.urls")),
    ]
else:
    urlpatterns += [
        path("public/", include("publicsite.urls")),
        path("", include("dashboard.urls")),
    ]
