"""Gunicorn's logger with secrets kept out of the access log (``scripts/web.sh`` selects it).

The access log writes every request line, and a calendar feed's path is its credential:
calendar apps poll it all day, so the plain log would hold every live feed secret. Credential
headers are dropped too, should an access-log format ever name them.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from tracker.logging import redact_secrets

#: Access-log atoms that carry credentials: request headers (``{name}i``) and environ (``e``).
CREDENTIAL_ATOMS = frozenset(
    {"{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e"}
)


class RedactingLogger(Logger):
    """Write gunicorn's access log with feed secrets cut to their hint and no credentials."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        return {
            name: (
                "-"
                if name in CREDENTIAL_ATOMS
                else redact_secrets(value)
                if isinstance(value, str)
                else value
            )
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }
