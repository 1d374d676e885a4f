"""The webhooks' API v1 routes, registered on the API's router by ``api/urls.py``."""

from . import views

#: ``(prefix, viewset, basename)`` of each resource, in the order the API's root lists them.
routes = [
    ("webhooks", views.WebhookEndpointViewSet, "webhook"),
]
