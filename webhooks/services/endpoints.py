"""Register, change and remove webhook endpoints: the rules the API and the admin share."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from webhooks.models import EventKind, WebhookEndpoint
from webhooks.services.targets import UnsafeTarget, target_check

#: Fields a caller may change with :func:`webhook_endpoint_update`.
UPDATABLE = frozenset({"target_url", "secret", "description", "active", "events"})


def webhook_endpoint_validate(*, endpoint: WebhookEndpoint, check_target: bool = True) -> None:
    """Check ``endpoint`` as it would be saved; raise ``ValidationError`` naming each field.

    The model's own rules (a URL, a secret of 16 to 255 characters), at least one kind of
    event, one endpoint per URL and owner, at most ``WEBHOOK_MAX_ENDPOINTS_PER_USER`` each, and
    with ``check_target`` the target rules of :mod:`webhooks.services.targets` (https, a public
    address), which resolve the host name.
    """
    errors: dict[str, list[str]] = {}
    try:
        endpoint.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not endpoint.events:
        errors.setdefault("events", []).append(_("Choose at least one kind of event."))
    if check_target and "target_url" not in errors:
        try:
            target_check(endpoint.target_url)
        except UnsafeTarget as exc:
            errors["target_url"] = [str(exc)]
    others = WebhookEndpoint.objects.filter(owner_id=endpoint.owner_id).exclude(pk=endpoint.pk)
    if "target_url" not in errors and others.filter(target_url=endpoint.target_url).exists():
        errors["target_url"] = [_("You already have an endpoint with this URL.")]
    limit = settings.WEBHOOK_MAX_ENDPOINTS_PER_USER
    if endpoint.pk is None and others.count() >= limit:
        errors.setdefault("__all__", []).append(
            ngettext(
                "You have %(count)d endpoint already, the most one may have.",
                "You have %(count)d endpoints already, the most one may have.",
                limit,
            )
            % {"count": limit}
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_endpoint_create(
    *,
    owner: User,
    target_url: str,
    secret: str,
    events: Collection[str] = tuple(EventKind.values),
    description: str = "",
    active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint of ``owner``'s; raise ``ValidationError`` naming bad fields."""
    endpoint = WebhookEndpoint(
        owner=owner,
        target_url=target_url.strip(),
        secret=secret,
        description=description,
        active=active,
    )
    endpoint.subscribe(_kinds(events))
    webhook_endpoint_validate(endpoint=endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change ``endpoint``; check its target again if the URL changed.

    The secret, when given, replaces the old one for every attempt from now on, retries of
    earlier events included.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), _("This field cannot be set here.")))
    fields: list[str] = []
    if "events" in changes:
        fields += endpoint.subscribe(_kinds(changes.pop("events")))
    if "target_url" in changes:
        changes["target_url"] = str(changes["target_url"]).strip()
    url_changed = "target_url" in changes and changes["target_url"] != endpoint.target_url
    for name, value in changes.items():
        if getattr(endpoint, name) != value:
            setattr(endpoint, name, value)
            fields.append(name)
    webhook_endpoint_validate(endpoint=endpoint, check_target=url_changed)
    if fields:
        endpoint.save(update_fields=fields)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove ``endpoint`` with its delivery log; its pending deliveries are not sent."""
    endpoint.delete()


def _kinds(events: Collection[str]) -> set[str]:
    """Return ``events`` as a set of kinds; raise ``ValidationError`` on ``events`` if unknown."""
    unknown = sorted(str(kind) for kind in events if kind not in EventKind.values)
    if unknown:
        raise ValidationError(
            {"events": [_("%(kind)s is not a kind of event.") % {"kind": kind} for kind in unknown]}
        )
    return {str(kind) for kind in events}
