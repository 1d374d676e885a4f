"""How a secret handed out once (an API token key, a feed URL) is stored: its SHA-256."""

from __future__ import annotations

import hashlib


def token_hash(key: str) -> str:
    """Return the stored form of a token key: its SHA-256 in hex."""
    return hashlib.sha256(key.encode()).hexdigest()
