"""What each role may do to the domain's models, kept in step after every ``migrate``.

Who holds a role (``core.roles``) is plumbing every app checks; which models the roles work on
is the domain's: the groups and their permissions are synced with the models after every
``migrate`` (``post_migrate``), so a fresh database has them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from core.roles import EDITORS, VIEWERS

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
        "deadlinerevision",
        "assessment",
        "report",
        "reportcorrection",
        # Publishing (issue 15): corrections with a public note, the workflow's events.
        "correction",
        "publicationevent",
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
