"""Data for the security tests: a row of every kind, and the secrets that must never leak."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from accounts.services import user_set_language
from alerts.models import Alert
from alerts.services.subscriptions import subscription_create
from api.services import api_token_create
from commitments.choices import Status
from commitments.models import Citation, Commitment
from commitments.services import commitments as svc
from commitments.services.assessments import assessment_record
from commitments.services.revisions import revision_create
from core.roles import EDITORS, VIEWERS
from feeds.services import calendar_feed_create
from webhooks.services.endpoints import webhook_endpoint_create


@dataclasses.dataclass
class Route:
    """One URL pattern with the whole text of its route, through every include."""

    route: str  # the whole pattern text, e.g. "admin/commitments/party/<path:object_id>/change/"
    name: str | None
    pattern: URLPattern
    #: The parameters of the includes above it, e.g. the public site's ``<lang:lang>/``.
    inherited: tuple[str, ...] = ()

    @property
    def view(self) -> Any:
        return self.pattern.callback

    def parameters(self) -> list[str]:
        pattern = self.pattern.pattern
        if isinstance(pattern, RoutePattern):
            return [*self.inherited, *pattern.converters]
        assert isinstance(pattern, RegexPattern)
        named = list(pattern.regex.groupindex)
        return named or [f"#{i}" for i in range(pattern.regex.groups)]


def routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "",
           inherited: tuple[str, ...] = ()) -> Iterator[Route]:
    """Yield every URL pattern of the project, through every include."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        text = str(entry.pattern).removeprefix("^").removesuffix("$")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            above = (*inherited, *getattr(entry.pattern, "converters", {}))
            yield from routes(entry, prefix + text, inner, above)
        else:
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(prefix + text, name, entry, inherited)


#: The password of every user made here.
PASSWORD = "Sec-Tests-Only-Passw0rd-7731"
#: The signing secret of the webhook endpoint made here.
WEBHOOK_SECRET = "whsec-tests-only-5b2f9c7d1e"


@dataclasses.dataclass
class World:
    """One row of every kind the admin, the dashboard and the API show, and their secrets."""

    admin: Any
    editor: Any
    viewer: Any
    other: Any
    commitment: Commitment
    anchored: Commitment
    citation: Citation
    token_keys: dict[str, str]
    feed_secrets: dict[str, str]

    def secrets(self) -> list[str]:
        """Return every value that no answer to another user and no log line may contain."""
        users = [self.admin, self.editor, self.viewer, self.other]
        hashes = [user.password for user in users]
        tokens = [
            value
            for key in self.token_keys.values()
            for value in (key, _hash(key))
        ]
        feeds = [value for secret in self.feed_secrets.values() for value in (secret,
                                                                               _hash(secret))]
        return [PASSWORD, WEBHOOK_SECRET, *hashes, *tokens, *feeds]


def _hash(secret: str) -> str:
    from core.tokens import token_hash

    return token_hash(secret)


def make_user(django_user_model: Any, username: str, *, role: str | None = None,
              superuser: bool = False) -> Any:
    """Make an active user with ``PASSWORD``, an e-mail address and the given role."""
    make = django_user_model.objects.create_superuser if superuser else \
        django_user_model.objects.create_user
    user = make(username=username, email=f"{username}.private@example.net", password=PASSWORD)
    if role is not None:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def build_world(django_user_model: Any, agreement: Any, make_commitment: Any,
                source: Any) -> World:
    """Make users of every role and a row of every model the tracker shows or administers."""
    from commitments.roles import roles_sync
    from commitments.services.reports import report_freeze

    roles_sync()  # the groups and their permissions, as after `migrate`
    admin = make_user(django_user_model, "root", superuser=True)
    editor = make_user(django_user_model, "ed", role=EDITORS)
    viewer = make_user(django_user_model, "vi", role=VIEWERS)
    other = make_user(django_user_model, "other", role=VIEWERS)
    now = timezone.now()

    with override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"]):
        for owner in (editor, admin):  # their endpoints get the status change made below
            webhook_endpoint_create(owner=owner, target_url="http://127.0.0.1:9/hook",
                                    secret=WEBHOOK_SECRET)
    commitment = make_commitment(title="Ministerial meeting", owner=other)
    citation = Citation.objects.create(source=source, commitment=commitment,
                                       quote="dans un délai de 180 jours")
    Citation.objects.create(source=source, agreement=agreement, quote="sommet Japon–États-Unis")
    # Deadline revisions (issue 12): extended before it was fulfilled.
    revision_create(commitment=commitment, kind="extended", reason="Prorogé.", user=editor,
                    revised_on=dt.date(2025, 11, 15), new_due_date=dt.date(2026, 6, 30),
                    evidence=citation)
    svc.commitment_change_status(commitment=commitment, status=Status.FULFILLED, user=editor,
                                 occurred_on=dt.date(2025, 12, 1), note="Held in Tokyo",
                                 evidence=citation)
    # Ratings (issue 13): the obligor rated, with evidence; the walks review this rating.
    assessment_record(commitment=commitment, party=commitment.obligor, rating="kept",
                      justification="Held in Tokyo.", assessed_on=dt.date(2025, 12, 1),
                      user=editor, evidence=citation)
    anchored = make_commitment(title="Follow-up", anchor_kind="commitment",
                               anchor_commitment=commitment, offset_amount=30)
    # An open commitment with a deadline, for the walks that revise one (issue 12); with a
    # target and a measurement, its progress against pace (issue 13).
    tariff = make_commitment(title="Tariff cut", target_amount=10, target_unit="percent")
    svc.commitment_change_status(commitment=tariff, status=Status.IN_PROGRESS, user=editor,
                                 occurred_on=dt.date(2025, 12, 1), measured_value=4)
    # Yearly, twice: the walks see a recurrence and its occurrences (issue 12).
    make_commitment(title="Yearly purchases", recurrence="every", recurrence_interval=1,
                    recurrence_unit="years", recurrence_count=2)
    # A frozen compliance report (issue 13), for the walks that read or correct one.
    report_freeze(agreement=agreement, title="Interim", cutoff=dt.date(2026, 1, 31), user=editor)
    # An import run (issue 14), for the walks of every page.
    from commitments.models import ImportRun

    ImportRun.objects.create(file_name="c.csv", file_data=b"key\n", user=admin)

    token_keys, feed_secrets = {}, {}
    for user in (admin, editor, viewer, other):
        user_set_language(user=user, language="en")
        subscription_create(user=user, scope="commitment", commitment=commitment)
        Alert.objects.create(user=user, email=user.email, commitment=commitment,
                             due_date=dt.date(2026, 4, 26), threshold=7, created=now)
        _token, token_keys[user.username] = api_token_create(user=user, name="sec", now=now)
        _feed, feed_secrets[user.username] = calendar_feed_create(user=user, scope="all",
                                                                   now=now)

    interval = IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES)
    CrontabSchedule.objects.create(minute="0", hour="7")
    SolarSchedule.objects.create(event="sunrise", latitude=35.68, longitude=139.69)
    ClockedSchedule.objects.create(clocked_time=now + dt.timedelta(days=1))
    PeriodicTask.objects.create(name="scan", task="alerts.scan_deadlines", interval=interval)
    login = {"user_agent": "tests", "ip_address": "192.0.2.1", "username": "ed",
             "http_accept": "text/html", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(**login, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**login)
    AccessLog.objects.create(**login)
    return World(admin=admin, editor=editor, viewer=viewer, other=other, commitment=commitment,
                 anchored=anchored, citation=citation, token_keys=token_keys,
                 feed_secrets=feed_secrets)
