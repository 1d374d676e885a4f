"""The tracker's roles as Django groups: viewers read, editors write; admins are superusers.

Every layer checks them (the API's permissions, the dashboard, the feeds, the webhook
recipients); the domain decides which model permissions each role's group holds
(``commitments.roles``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import OuterRef, QuerySet

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


def with_roles(rows: QuerySet[Any], user_id: str) -> QuerySet[Any]:
    """Return ``rows`` reading, as ``user_roles``, the role groups of the user whose id is
    their ``user_id`` column: in the statement that reads the user (the API's token look-up),
    one round trip a request instead of two; :func:`roles_remember` keeps them.

    PostgreSQL only (an array subquery); on another database ``rows`` are returned as they
    are and the roles are read by :func:`user_roles` when first asked for.
    """
    if connections[rows.db].vendor != "postgresql":
        return rows
    return rows.annotate(
        user_roles=ArraySubquery(
            Group.objects.filter(user=OuterRef(user_id), name__in=ROLES).values("name")
        )
    )


def roles_remember(user: Any, row: Any) -> None:
    """Keep on ``user``, for the request, the roles :func:`with_roles` read with ``row``."""
    roles = getattr(row, "user_roles", None)
    if roles is not None:
        user._tracker_roles = set(roles)


def can_read(user: Any) -> bool:
    """Return whether ``user`` may read the tracker's data: any role, or an administrator."""
    return bool(user.is_superuser or user_roles(user) & {VIEWERS, EDITORS})


def can_write(user: Any) -> bool:
    """Return whether ``user`` may change the tracker's data: editors and administrators."""
    return bool(user.is_superuser or EDITORS in user_roles(user))
