"""Routes of the public site under ``<lang>/``: see :mod:`publicsite.urls`."""

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("agreements/<slug:key>/", views.agreement, name="agreement"),
    path("agreements/<slug:key>/reports/<int:report_id>/", views.report, name="report"),
    path("commitments/<slug:key>/", views.commitment, name="commitment"),
    path("parties/<slug:key>/", views.party, name="party"),
    path("sources/<slug:key>/", views.source, name="source"),
    path("methodology/", views.methodology_page, name="methodology"),
]
