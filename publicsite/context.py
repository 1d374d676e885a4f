"""What every public page's template gets: its canonical URL, its other languages, the site."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .i18n import alternates


def public_context(request: HttpRequest) -> dict[str, Any]:
    """Return ``site_url``, ``canonical_url`` (absolute, no query) and ``alternates``."""
    site = settings.SITE_URL.rstrip("/")
    return {
        "site_url": site,
        "canonical_url": f"{site}{request.path}",
        "alternates": alternates(request),
    }
