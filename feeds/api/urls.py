"""Calendar feeds and exports, mounted under ``/api/v1/`` by ``api/urls.py``.

Include these before the API router: its format-suffix route for commitment detail would
otherwise read ``commitments/export.csv`` as the commitment ``export`` in format ``csv``.
"""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "feeds"

router = SimpleRouter()
router.register("calendar-feeds", views.CalendarFeedViewSet, basename="calendar-feed")

urlpatterns = [
    re_path(
        r"^calendar/(?P<secret>[A-Za-z0-9_-]{20,100})\.ics$",
        views.calendar_feed,
        name="calendar",
    ),
    path("commitments/export.csv", views.CommitmentExportView.as_view(), name="commitment-export"),
    *router.urls,
]
