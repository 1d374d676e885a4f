"""The tracker's roles as Django groups: viewers read, editors write; admins are superusers.

Every layer checks them (the API's permissions, the dashboard, the feeds, the webhook
recipients); the domain decides which model permissions each role's group holds
(``commitments.roles``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef

VIEWERS = "Viewers"
EDITORS = "Editors"
ROLES = (VIEWERS, EDITORS)


def user_roles(user: Any) -> set[str]:
    """Return the role groups ``user`` belongs to, cached on the user for the request."""
    cached = getattr(user, "_tracker_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._tracker_roles = cached
    return cached


def roles_of(user_id: str) -> ArraySubquery:
    """Return the role groups of the user whose id is the outer query's ``user_id`` column.

    An annotation that reads the roles in the statement that reads the user (the API's token
    look-up): one round trip a request instead of two; :func:`roles_remember` keeps them.
    """
    return ArraySubquery(
        Group.objects.filter(user=OuterRef(user_id), name__in=ROLES).values("name")
    )


def roles_remember(user: Any, roles: list[str]) -> None:
    """Keep the role groups read by :func:`roles_of` on ``user`` for the request."""
    user._tracker_roles = set(roles)


def can_read(user: Any) -> bool:
    """Return whether ``user`` may read the tracker's data: any role, or an administrator."""
    return bool(user.is_superuser or user_roles(user) & {VIEWERS, EDITORS})


def can_write(user: Any) -> bool:
    """Return whether ``user`` may change the tracker's data: editors and administrators."""
    return bool(user.is_superuser or EDITORS in user_roles(user))
