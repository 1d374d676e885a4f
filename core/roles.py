"""The tracker's roles as Django groups: viewers read, editors write; admins are superusers.

Every layer checks them (the API's permissions, the dashboard, the feeds, the webhook
recipients); the domain decides which model permissions each role's group holds
(``commitments.roles``).
"""

from __future__ import annotations

from typing import Any

VIEWERS = "Viewers"
EDITORS = "Editors"


def user_roles(user: Any) -> set[str]:
    """Return the role groups ``user`` belongs to, cached on the user for the request."""
    cached = getattr(user, "_tracker_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=[VIEWERS, EDITORS]).values_list("name", flat=True))
        user._tracker_roles = cached
    return cached


def can_read(user: Any) -> bool:
    """Return whether ``user`` may read the tracker's data: any role, or an administrator."""
    return bool(user.is_superuser or user_roles(user) & {VIEWERS, EDITORS})


def can_write(user: Any) -> bool:
    """Return whether ``user`` may change the tracker's data: editors and administrators."""
    return bool(user.is_superuser or EDITORS in user_roles(user))
