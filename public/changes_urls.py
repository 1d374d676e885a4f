"""Routes of the public site under ``<lang>/``: see :mod:`public.urls`."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
