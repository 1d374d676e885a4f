"""The Content-Security-Policy of our pages, with the one page that needs more."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

#: Paths whose third-party page carries inline script and style (drf-spectacular's Swagger
#: UI); only these get ``'unsafe-inline'``, every other page keeps the strict policy.
INLINE_ALLOWED_PREFIXES = ("/api/v1/docs/",)


class ScopedCSPMiddleware(CSPMiddleware):
    """Send settings.CONTENT_SECURITY_POLICY, relaxed to inline code on the listed paths."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(INLINE_ALLOWED_PREFIXES):
            parts.replace = {
                **(parts.replace or {}),
                "script-src": [SELF, UNSAFE_INLINE],
                "style-src": [SELF, UNSAFE_INLINE],
            }
        return parts
