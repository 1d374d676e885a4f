"""The Content-Security-Policy of our pages, with the few third-party pages that need more."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import DIRECTIVES_T
from django.http import HttpRequest, HttpResponseBase

#: Path prefixes whose third-party templates carry inline code, and the directives each one
#: relaxes; the first matching prefix wins, every other page keeps the strict policy. Checked
#: in Chromium: with these, no page of the admin, the dashboard or the API logs a violation.
RELAXED: list[tuple[str, DIRECTIVES_T]] = [
    # drf-spectacular's Swagger UI: an inline start-up script and an inline style block.
    ("/api/v1/docs/", {"script-src": [SELF, UNSAFE_INLINE], "style-src": [SELF, UNSAFE_INLINE]}),
    # DRF's browsable API: a style block for code highlighting and style attributes.
    ("/api/v1/", {"style-src": [SELF, UNSAFE_INLINE]}),
    # django-simple-history's history page: one style attribute (attributes cannot run code).
    ("/admin/", {"style-src-attr": [UNSAFE_INLINE]}),
]


class ScopedCSPMiddleware(CSPMiddleware):
    """Send settings.CONTENT_SECURITY_POLICY, relaxed as ``RELAXED`` says on its paths."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        for prefix, directives in RELAXED:
            if request.path_info.startswith(prefix):
                parts.replace = {**(parts.replace or {}), **directives}
                break
        return parts
