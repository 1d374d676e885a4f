"""Shared fixtures: users with roles, clients logged in as them, and domain data, all made by
the builders in ``tests/factories.py``."""

from __future__ import annotations

import pytest

from commitments.models import Agreement, Party, Source
from tests import factories
from tests.support.api_support import token_client

#: The in-process SMTP server (tests/support/smtp_server.py) for every test that sends mail.
pytest_plugins = ["tests.support.smtp_server"]


@pytest.fixture
def japan(db) -> Party:
    return factories.party_make(key="japan", name="Japan", country_code="JP")


@pytest.fixture
def usa(db) -> Party:
    return factories.party_make(key="united-states", name="United States", country_code="US")


@pytest.fixture
def source(db) -> Source:
    return factories.source_make(key="mofa-2025-10-28")


@pytest.fixture
def agreement(japan, usa) -> Agreement:
    return factories.agreement_make(
        key="summit-2025-10-28", title="Japan–US summit", place="Tokyo", parties=[japan, usa]
    )


@pytest.fixture
def make_commitment(agreement, japan):
    """Build commitments through the service, keyed ``c-1``, ``c-2``... in each test."""
    counter = iter(range(1, 1_000_000))

    def make(**overrides):
        n = next(counter)
        data = {"agreement": agreement, "obligor": japan, "key": f"c-{n}",
                "title": f"Commitment {n}", **overrides}
        return factories.commitment_make(**data)

    return make


@pytest.fixture
def editor(db):
    """A staff user with the editors' rights on every domain model."""
    models = ["party", "agreement", "source", "citation", "commitment", "progressupdate",
              "commitmentrelation", "deadlinerevision", "assessment", "report",
              "reportcorrection", "correction", "publicationevent"]
    codenames = [f"{action}_{m}" for m in models for action in ("add", "change", "view")]
    return factories.user_make(username="editor", role="Editors", permissions=codenames,
                               is_staff=True)


@pytest.fixture
def viewer(db):
    """A staff user who may only view."""
    models = ["party", "agreement", "source", "citation", "commitment", "progressupdate"]
    return factories.user_make(username="viewer", role="Viewers",
                               permissions=[f"view_{m}" for m in models], is_staff=True)


@pytest.fixture
def editor_client(client, editor):
    """Django's test client, logged in as ``editor``."""
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    """Django's test client, logged in as ``viewer``."""
    client.force_login(viewer)
    return client


@pytest.fixture
def editor_api(editor):
    """An API client sending a token of ``editor``."""
    return token_client(editor)


@pytest.fixture
def viewer_api(viewer):
    """An API client sending a token of ``viewer``."""
    return token_client(viewer)


def pytest_collection_modifyitems(config, items):
    """Run the slow suites first and the browser tests last; leave the full hostile-input
    walk out unless asked for.

    The slow suites (``slow``: minutes each) go first so that pytest-xdist's processes share
    them out at the start and the short tests fill in around them; a walk of several minutes
    handed out near the end kept one process running alone. The browser tests relax Django's
    async-safety check for the session. The full walk (``-m fuzz_full``, every value on every
    field) is deselected, not skipped, from a run that does not ask for it: the default run
    walks the same pages with a sample per field.
    """
    if "fuzz_full" not in (config.option.markexpr or ""):
        full = [item for item in items if item.get_closest_marker("fuzz_full")]
        if full:
            config.hook.pytest_deselected(items=full)
            items[:] = [item for item in items if not item.get_closest_marker("fuzz_full")]
    items.sort(
        key=lambda item: (
            "/tests/system/e2e/" in str(item.path),
            item.get_closest_marker("slow") is None,
        )
    )


@pytest.fixture(autouse=True)
def _language_reset():
    """Start every test in the default language: a page request in French (the locale
    middleware activates the reader's language in this thread) must not leak into the next."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path_factory):
    """Uploaded originals go to the session's temporary folder, never to var/media."""
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media")
