"""Builders for the tests' rows, each through the service the product itself calls.

Every builder takes keyword arguments only, fills what a test does not care about with a valid
value (unique keys and names from one counter), and returns what the service returns. Rows
that have no service of their own (parties, sources, citations, users) are made as the seeds
and the admin make them. The shared fixtures in ``tests/conftest.py`` are built from these.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from alerts.models import Subscription
from alerts.services.subscriptions import subscription_create
from api.models import ApiToken
from api.services import api_token_create
from commitments.choices import AgreementKind, Category, PartyKind
from commitments.models import (
    Agreement,
    Citation,
    Commitment,
    DeadlineRevision,
    Party,
    Source,
)
from commitments.services import commitments as svc
from commitments.services.revisions import revision_create
from webhooks.models import WebhookEndpoint
from webhooks.services.endpoints import webhook_endpoint_create

#: The password of every user the builders make (tests log in with it).
PASSWORD = "pw-for-tests-only"

_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


def party_make(*, key: str | None = None, **fields: Any) -> Party:
    """Make a party (a state unless ``kind`` says otherwise)."""
    n = _next()
    data: dict[str, Any] = {"name": f"Party {n}", "kind": PartyKind.STATE, **fields}
    return Party.objects.create(key=key or f"party-{n}", **data)


def source_make(*, key: str | None = None, **fields: Any) -> Source:
    """Make a source document (French, official, dated 28 October 2025 by default)."""
    data: dict[str, Any] = {
        "title": "Rencontre au sommet Japon – États-Unis",
        "publisher": "Ministère des Affaires étrangères du Japon",
        "url": "https://www.mofa.go.jp/",
        "language": "fr",
        "published_on": dt.date(2025, 10, 28),
        "kind": "official",
        **fields,
    }
    return Source.objects.create(key=key or f"source-{_next()}", **data)


def agreement_make(*, parties: list[Party], key: str | None = None, **fields: Any) -> Agreement:
    """Make an agreement between ``parties`` through ``agreement_create``."""
    n = _next()
    data: dict[str, Any] = {
        "title": f"Agreement {n}",
        "kind": AgreementKind.SUMMIT_OUTCOME,
        "date": dt.date(2025, 10, 28),
        "time_zone": "Asia/Tokyo",
        **fields,
    }
    return svc.agreement_create(key=key or f"agreement-{n}", parties=parties, **data)


def commitment_make(*, agreement: Agreement, obligor: Party, **fields: Any) -> Commitment:
    """Make a commitment through ``commitment_create``: a meeting due 180 days after the
    agreement unless ``fields`` say otherwise."""
    n = _next()
    data: dict[str, Any] = {
        "key": f"c-{n}",
        "title": f"Commitment {n}",
        "category": Category.MEETING,
        "deadline_kind": "relative",
        "offset_amount": 180,
        "offset_unit": "days",
        "anchor_kind": "agreement",
        **fields,
    }
    return svc.commitment_create(agreement=agreement, obligor=obligor, **data)


def citation_make(
    *,
    source: Source,
    commitment: Commitment | None = None,
    agreement: Agreement | None = None,
    quote: str = "Les deux dirigeants se sont engagés.",
    **fields: Any,
) -> Citation:
    """Cite ``source`` for one commitment or one agreement, checked as the admin checks it."""
    citation = Citation(
        source=source, commitment=commitment, agreement=agreement, quote=quote, **fields
    )
    citation.full_clean()
    citation.save()
    return citation


def user_make(
    *,
    username: str | None = None,
    role: str | None = None,
    permissions: list[str] | None = None,
    superuser: bool = False,
    **fields: Any,
) -> Any:
    """Make an active user with ``PASSWORD`` and an e-mail address (``fields`` may set
    ``is_staff``, ``email``...).

    ``role`` names the group to join; ``permissions`` (codenames), when given, become that
    group's only permissions, as a test's own role.
    """
    username = username or f"user{_next()}"
    model = get_user_model()
    make = model.objects.create_superuser if superuser else model.objects.create_user
    fields.setdefault("email", f"{username}@example.org")
    user = make(username=username, password=PASSWORD, **fields)
    if role is not None:
        group, _ = Group.objects.get_or_create(name=role)
        if permissions is not None:
            group.permissions.set(Permission.objects.filter(codename__in=permissions))
        user.groups.add(group)
    return user


def subscription_make(*, user: Any, scope: str = "all", **fields: Any) -> Subscription:
    """Subscribe ``user`` through ``subscription_create`` (to everything by default)."""
    return subscription_create(user=user, scope=scope, **fields)


def webhook_endpoint_make(
    *, owner: Any, target_url: str, secret: str, **fields: Any
) -> WebhookEndpoint:
    """Register ``owner``'s endpoint through ``webhook_endpoint_create``."""
    return webhook_endpoint_create(owner=owner, target_url=target_url, secret=secret, **fields)


def api_token_make(
    *, user: Any, name: str = "tests", expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Make an API token for ``user`` through ``api_token_create``; return it with its key."""
    return api_token_create(user=user, name=name, now=timezone.now(), expires_at=expires_at)


# Deadline revisions (issue 12).


def revision_make(
    *,
    commitment: Commitment,
    kind: str = "extended",
    reason: str = "Les parties ont convenu d'un délai supplémentaire.",
    source: Source | None = None,
    quote: str = "Le délai est prorogé.",
    **fields: Any,
) -> DeadlineRevision:
    """Revise ``commitment``'s deadline through ``revision_create``, citing ``source`` (a new
    source unless given) with ``quote`` as the evidence unless ``fields`` name one."""
    if "evidence" not in fields:
        fields.setdefault("evidence_source", source or source_make())
        fields.setdefault("evidence_quote", quote)
    return revision_create(commitment=commitment, kind=kind, reason=reason, **fields)


def deadline_revision_make(
    *,
    commitment: Commitment,
    source: Source,
    kind: str = "extended",
    revised_on: dt.date = dt.date(2026, 5, 1),
    new_due_date: dt.date | None = None,
    new_precision: str = "",
    reason: str = "the talks slipped",
) -> Commitment:
    """Revise ``commitment`` through ``revision_create`` citing ``source``; return it revised."""
    revision_make(
        commitment=commitment,
        kind=kind,
        reason=reason,
        source=source,
        quote=f"Révision : {reason}",
        revised_on=revised_on,
        new_due_date=new_due_date,
        new_precision=new_precision or None,
    )
    commitment.refresh_from_db()
    return commitment


# Recurrence (issue 12, item 3).
def recurring_commitment_make(*, agreement: Agreement, obligor: Party, **fields: Any) -> Commitment:
    """Make a recurring commitment through ``commitment_create``: purchases of 8 billion USD a
    year, the first due one year after the agreement, three years in all, unless ``fields``
    say otherwise."""
    data: dict[str, Any] = {
        "category": Category.PURCHASE,
        "target_amount": 8_000_000_000,
        "target_unit": "USD",
        "offset_amount": 1,
        "offset_unit": "years",
        "recurrence": "every",
        "recurrence_interval": 1,
        "recurrence_unit": "years",
        "recurrence_count": 3,
        **fields,
    }
    return commitment_make(agreement=agreement, obligor=obligor, **data)


def month_end_series_make(
    *, agreement: Agreement, obligor: Party, first: dt.date, count: int | None = 6, **fields: Any
) -> Commitment:
    """Make a commitment due at each month's end from the month of ``first``, ``count`` in
    all (monthly reports, say; ``None``: open-ended), through ``commitment_create``."""
    return recurring_commitment_make(
        agreement=agreement,
        obligor=obligor,
        deadline_kind="fixed",
        deadline_date=first,
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
        recurrence="month_end",
        recurrence_interval=1,
        recurrence_unit="",
        recurrence_count=count,
        **fields,
    )
