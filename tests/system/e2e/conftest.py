"""Browser tests: Playwright driving Debian's Chromium against Django's live server.

``scripts/test.sh`` installs Debian's chromium when it is missing; Playwright never downloads
a browser here. Screenshots of every page visited go to ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from core.roles import EDITORS

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PASSWORD = "e2e-password-not-secret"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh, which installs it")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_beside_playwright():
    # Playwright's sync API runs an event loop in the test thread; the ORM calls made by
    # fixtures in that thread (database set-up included) are still synchronous and safe.
    # tests/conftest.py runs the browser tests last, so no other test runs with this set.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def seeded(transactional_db):
    call_command("loadseeds", verbosity=0)


@pytest.fixture
def editor_login(seeded, django_user_model):
    user = django_user_model.objects.create_user("erin", "erin@example.org", PASSWORD)
    user.groups.add(Group.objects.get(name=EDITORS))
    return user


@pytest.fixture
def shoot(request):
    """Save a full-page screenshot named after the test and the step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, step: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{step}.png"), full_page=True)

    return take


@pytest.fixture
def logged_in(live_server, editor_login, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(editor_login.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form.login button").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


