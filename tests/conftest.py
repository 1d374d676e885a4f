"""Shared fixtures: users with roles, and domain data built through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission

from commitments.choices import AgreementKind, Category, PartyKind
from commitments.models import Agreement, Party, Source
from commitments.services import commitments as svc

#: The in-process SMTP server (tests/support/smtp_server.py) for every test that sends mail.
pytest_plugins = ["tests.support.smtp_server"]


@pytest.fixture
def japan(db) -> Party:
    return Party.objects.create(key="japan", name="Japan", kind=PartyKind.STATE, country_code="JP")


@pytest.fixture
def usa(db) -> Party:
    return Party.objects.create(
        key="united-states", name="United States", kind=PartyKind.STATE, country_code="US"
    )


@pytest.fixture
def source(db) -> Source:
    return Source.objects.create(
        key="mofa-2025-10-28",
        title="Rencontre au sommet Japon – États-Unis",
        publisher="Ministère des Affaires étrangères du Japon",
        url="https://www.mofa.go.jp/",
        language="fr",
        published_on=dt.date(2025, 10, 28),
        kind="official",
    )


@pytest.fixture
def agreement(japan, usa) -> Agreement:
    return svc.agreement_create(
        key="summit-2025-10-28",
        title="Japan–US summit",
        kind=AgreementKind.SUMMIT_OUTCOME,
        date=dt.date(2025, 10, 28),
        place="Tokyo",
        time_zone="Asia/Tokyo",
        parties=[japan, usa],
    )


@pytest.fixture
def make_commitment(agreement, japan):
    """Build commitments through the service, with a unique key each."""
    counter = iter(range(1, 1_000_000))

    def make(**overrides):
        n = next(counter)
        data = {
            "agreement": agreement,
            "key": f"c-{n}",
            "title": f"Commitment {n}",
            "obligor": japan,
            "category": Category.MEETING,
            "deadline_kind": "relative",
            "offset_amount": 180,
            "offset_unit": "days",
            "anchor_kind": "agreement",
        }
        data.update(overrides)
        return svc.commitment_create(**data)

    return make


def _user_in_group(django_user_model, username: str, group_name: str, codenames: list[str]):
    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@example.org", password="pw-for-tests-only"
    )
    user.is_staff = True
    user.save()
    user.groups.add(group)
    return user


@pytest.fixture
def editor(db, django_user_model):
    """A staff user with the editors' rights on every domain model."""
    models = ["party", "agreement", "source", "citation", "commitment", "progressupdate",
              "commitmentrelation"]
    codenames = [f"{action}_{m}" for m in models for action in ("add", "change", "view")]
    return _user_in_group(django_user_model, "editor", "Editors", codenames)


@pytest.fixture
def viewer(db, django_user_model):
    """A staff user who may only view."""
    models = ["party", "agreement", "source", "citation", "commitment", "progressupdate"]
    return _user_in_group(django_user_model, "viewer", "Viewers", [f"view_{m}" for m in models])


def pytest_collection_modifyitems(config, items):
    """Run the browser tests last: they relax Django's async-safety check for the session."""
    items.sort(key=lambda item: "/tests/system/e2e/" in str(item.path))
