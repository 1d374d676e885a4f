"""The tracker's roles as Django groups: viewers read, editors write.

Admins are superusers. The groups and their permissions are kept in step with the models
after every ``migrate`` (``post_migrate``), so a fresh database has them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

VIEWERS = "Viewers"
EDITORS = "Editors"

#: The models each role works on, by app label.
DOMAIN_MODELS = {
    "commitments": [
        "party",
        "agreement",
        "source",
        "citation",
        "commitment",
        "commitmentrelation",
        "progressupdate",
    ],
}


def _codenames(actions: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (app, f"{action}_{model}")
        for app, models in DOMAIN_MODELS.items()
        for model in models
        for action in actions
    ]


ROLE_PERMISSIONS = {
    VIEWERS: _codenames(("view",)),
    # Editors pick a commitment's owner with the admin's autocomplete, which asks for this.
    EDITORS: [*_codenames(("view", "add", "change")), ("auth", "view_user")],
}


def roles_sync(**_: Any) -> None:
    """Create the role groups and give each exactly its permissions."""
    for name, wanted in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = [
            permission
            for permission in Permission.objects.select_related("content_type").filter(
                codename__in=[codename for _app, codename in wanted]
            )
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        group.permissions.set(permissions)


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
