"""The hostile-input walk's shared parts: values, sampling, form discovery, the world, tallies.

Every fuzz module under ``tests/system/`` sends these values through one interface and checks
each answer the same way: no 5xx; a refusal names the field and writes nothing; anything
accepted can be displayed afterwards. Each submission runs inside a savepoint that is rolled
back, so the next one starts from the same world.

The default run sends a deterministic sample of the values per field (a few per field, chosen
by the field's name, so every value is used somewhere); ``pytest -m fuzz_full`` sends them all.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import sys
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_plus

import pytest
from django.apps import apps
from django.db import connection, models, transaction
from django.test import Client
from django.utils import timezone

#: The apps whose models and pages the walk covers (third-party admin pages are not ours).
OUR_APPS = ("commitments", "alerts", "webhooks", "feeds", "accounts", "api", "dashboard")

#: Values a careless user or an attacker types into a text box (sent UTF-8 encoded; a lone
#: surrogate goes out as the invalid bytes ED A0 80).
HOSTILE_TEXT: tuple[str, ...] = (
    "",
    "x" * 10_000,
    "1e30",
    "NaN",
    "Infinity",
    "-1",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "31/12/2026",
    "a\x00b",
    "\ud800",
    "<script>alert(1)</script>",
    "zz-unknown-choice",
    "999999999",
    "abc",
    "²",
)

#: Values for a JSON body: the text ones plus the types JSON adds.
HOSTILE_JSON: tuple[Any, ...] = (
    *HOSTILE_TEXT,
    None,
    1e30,
    -1,
    0,
    999_999_999,
    True,
    [],
    {},
    ["abc"],
    {"a": "\ud800"},
)

#: How many values each field gets in the default run.
SAMPLE_PER_FIELD = 2


def full_walk(config: pytest.Config) -> bool:
    """Return whether this run asked for the full walk (``-m fuzz_full``)."""
    return "fuzz_full" in (config.option.markexpr or "")


def sample(values: Sequence[Any], key: str, *, full: bool, size: int = SAMPLE_PER_FIELD) -> list:
    """Return ``size`` of ``values`` picked by ``key`` (all of them in the full walk).

    The pick is a window starting at a hash of the key, so it is the same on every run and
    different fields get different values.
    """
    if full or size >= len(values):
        return list(values)
    start = zlib.crc32(key.encode()) % len(values)
    return [values[(start + i) % len(values)] for i in range(size)]


def form_body(data: Iterable[tuple[str, str]]) -> str:
    """Encode form fields as a browser would, a lone surrogate as the bytes it stands for."""
    return "&".join(
        f"{quote_plus(name)}={quote_plus(value.encode('utf-8', 'surrogatepass'))}"
        for name, value in data
    )


FORM_URLENCODED = "application/x-www-form-urlencoded"


# Forms found in pages ----------------------------------------------------------------------


@dataclasses.dataclass
class Form:
    """A form of a rendered page: where it posts and the fields a browser would send."""

    action: str
    method: str
    fields: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: Every field name the form has (also unchecked boxes and unselected selects).
    names: list[str] = dataclasses.field(default_factory=list)
    #: The options of each select (what a browser could send).
    options: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def names_fuzzable(self) -> list[str]:
        skip = ("csrfmiddlewaretoken",)
        return [
            n for n in dict.fromkeys(self.names)
            if n not in skip and not n.endswith(("-TOTAL_FORMS", "-INITIAL_FORMS",
                                                  "-MIN_NUM_FORMS", "-MAX_NUM_FORMS"))
        ]

    def with_value(self, name: str, value: str) -> list[tuple[str, str]]:
        """Return the fields with ``name`` set to ``value`` alone (added if the form had none)."""
        rest = [(n, v) for n, v in self.fields if n != name]
        return [*rest, (name, value)]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: tuple[str, bool] | None = None
        self._select_values: list[str] = []
        self._select_chosen: list[str] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    @property
    def _form(self) -> Form | None:
        return self.forms[-1] if self.forms else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get")))
            return
        form = self._form
        name = a.get("name", "")
        if form is None or (not name and tag != "option") or "__prefix__" in name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("file", "image", "reset", "button"):
                return
            form.names.append(name)
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind != "submit":
                form.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = (name, "multiple" in a)
            self._select_values, self._select_chosen = [], []
            form.names.append(name)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select_values.append(value)
            if "selected" in a:
                self._select_chosen.append(value)
        elif tag == "textarea":
            self._textarea, self._text = name, []
            form.names.append(name)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        if tag == "select" and self._select is not None:
            name, multiple = self._select
            form.options[name] = self._select_values
            chosen = self._select_chosen or ([] if multiple else self._select_values[:1])
            form.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            form.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def page_forms(html: str) -> list[Form]:
    """Return the forms of a page with the values a browser would submit unchanged."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


# What the database holds -------------------------------------------------------------------


def our_models() -> list[type[models.Model]]:
    """Return every model of our apps, their history tables included."""
    return [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()]


def row_counts() -> dict[str, int]:
    """Return the number of rows of each of our tables (history tables included), in one query."""
    tables = [m._meta.db_table for m in our_models()]
    sql = "SELECT " + ", ".join(  # noqa: S608 (the names of our own tables, quoted)
        f"(SELECT count(*) FROM {connection.ops.quote_name(t)})"  # noqa: S608 (our tables)
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a savepoint that is always rolled back (also after a database error)."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


# Tallies and findings ----------------------------------------------------------------------


@dataclasses.dataclass
class Finding:
    interface: str
    request: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.interface}] {self.request}: {self.problem}"


@dataclasses.dataclass
class Tally:
    """Requests, server errors, refusals and accepted-then-displayed checks, per interface."""

    counts: dict[str, collections.Counter] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    findings: list[Finding] = dataclasses.field(default_factory=list)

    def count(self, interface: str, what: str, n: int = 1) -> None:
        self.counts[interface][what] += n

    def find(self, interface: str, request: str, problem: str) -> None:
        self.findings.append(Finding(interface, request, problem))

    def report(self) -> str:
        lines = []
        for interface, c in sorted(self.counts.items()):
            lines.append(
                f"{interface}: {c['requests']} requests, {c['5xx']} 5xx, {c['refused']} "
                f"refused, {c['accepted']} accepted, {c['displayed']} display checks"
            )
        return "\n".join(lines)

    def unexplained(self, known: dict[int, Callable[[Finding], bool]]) -> list[Finding]:
        """Return the findings no known class (issue 11's numbering) explains."""
        return [f for f in self.findings if not any(match(f) for match in known.values())]


def print_report(tally: Tally, title: str,
                 known: dict[int, Callable[[Finding], bool]] | None = None) -> None:
    """Write the counts, and the findings of each known class, to the terminal (``-s``)."""
    lines = [title, tally.report()]
    for number, match in (known or {}).items():
        found = [f for f in tally.findings if match(f)]
        if found:
            lines.append(f"  issue 11 class {number} (known): {len(found)}, e.g. {found[0]}")
    sys.stdout.write("\n" + "\n".join(lines) + "\n")


def server_error(response: Any) -> str:
    """Describe the exception behind a 5xx answer, with its innermost frame of our code."""
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return f"HTTP {response.status_code}"
    _type, exc, tb = exc_info
    frames = [f for f in traceback.extract_tb(tb) if "/site-packages/" not in f.filename]
    where = f" at {frames[-1].filename.rsplit('/', 2)[-2:]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {str(exc)[:160]}{where}"


def client_for(user: Any) -> Client:
    """Return a client logged in as ``user`` that answers a server error instead of raising."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


# The world every walk starts from ----------------------------------------------------------


@dataclasses.dataclass
class World:
    admin: Any
    editor: Any
    agreement: Any
    commitment: Any
    anchored: Any
    feed_secret: str
    token_key: str


def build_world(django_user_model: Any) -> World:
    """Make a row of every model the admin, dashboard and API show, through the services."""
    from django.test import override_settings

    from accounts.services import user_set_language
    from alerts.models import Alert
    from alerts.services.subscriptions import subscription_create
    from api.services import api_token_create
    from commitments.choices import AgreementKind, Category, PartyKind, Status
    from commitments.models import Citation, Party, Source
    from commitments.roles import roles_sync
    from commitments.services import commitments as svc
    from feeds.services import calendar_feed_create
    from webhooks.services.endpoints import webhook_endpoint_create

    roles_sync()
    admin = django_user_model.objects.create_superuser(
        username="root", email="root@example.org", password="pw-for-tests-only"
    )
    editor = django_user_model.objects.create_user(
        username="ed", email="ed@example.org", password="pw-for-tests-only", is_staff=True
    )
    from django.contrib.auth.models import Group

    editor.groups.add(*Group.objects.all())
    japan = Party.objects.create(key="japan", name="Japan", kind=PartyKind.STATE,
                                 country_code="JP")
    usa = Party.objects.create(key="united-states", name="United States",
                               kind=PartyKind.STATE, country_code="US")
    source = Source.objects.create(
        key="mofa-2025-10-28", title="Sommet", publisher="MOFA", url="https://www.mofa.go.jp/",
        language="fr", published_on=dt.date(2025, 10, 28), kind="official",
    )
    agreement = svc.agreement_create(
        key="summit-2025-10-28", title="Japan–US summit", kind=AgreementKind.SUMMIT_OUTCOME,
        date=dt.date(2025, 10, 28), place="Tokyo", time_zone="Asia/Tokyo", parties=[japan, usa],
    )
    common: dict[str, Any] = {
        "agreement": agreement, "obligor": japan, "category": Category.MEETING,
        "deadline_kind": "relative", "offset_amount": 180, "offset_unit": "days",
    }
    commitment = svc.commitment_create(key="c-1", title="Ministerial meeting",
                                       anchor_kind="agreement", **common)
    anchored = svc.commitment_create(key="c-2", title="Follow-up", anchor_kind="commitment",
                                     anchor_commitment=commitment, **common)
    citation = Citation.objects.create(source=source, commitment=commitment, quote="180 jours")
    Citation.objects.create(source=source, agreement=agreement, quote="sommet")
    svc.commitment_change_status(commitment=commitment, status=Status.IN_PROGRESS, user=editor,
                                 occurred_on=dt.date(2025, 12, 1), note="Planned",
                                 evidence=citation)
    from commitments.models import CommitmentRelation

    kind: Any = CommitmentRelation._meta.get_field("kind").choices
    CommitmentRelation.objects.create(from_commitment=anchored, to_commitment=commitment,
                                      kind=kind[0][0])
    now = timezone.now()
    for user in (admin, editor):
        user_set_language(user=user, language="en")
        subscription_create(user=user, scope="commitment", commitment=commitment)
        Alert.objects.create(user=user, email=user.email, commitment=commitment,
                             due_date=dt.date(2026, 4, 26), threshold=7, created=now)
        with override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"]):
            webhook_endpoint_create(owner=user, target_url="http://127.0.0.1:9/hook",
                                    secret="s" * 32)
    _token, token_key = api_token_create(user=admin, name="fuzz", now=now)
    calendar_feed_create(user=admin, scope="all", now=now)  # the walks may rotate or revoke it
    _feed, feed_secret = calendar_feed_create(user=editor, scope="all", now=now)
    return World(admin=admin, editor=editor, agreement=agreement, commitment=commitment,
                 anchored=anchored, feed_secret=feed_secret, token_key=token_key)


#: The pages that show what the tracker holds, to load after anything was accepted.
def display_urls(world: World) -> list[str]:
    """Return the dashboard, API, calendar and export pages that show every commitment."""
    from commitments.models import Agreement, Commitment

    urls = ["/", "/commitments/", "/watching/", f"/api/v1/calendar/{world.feed_secret}.ics",
            "/api/v1/commitments/export.csv", "/api/v1/commitments/", "/api/v1/agreements/",
            "/api/v1/progress-updates/"]
    urls += [f"/commitments/{pk}/" for pk in Commitment.objects.values_list("pk", flat=True)]
    urls += [f"/api/v1/commitments/{pk}/" for pk in Commitment.objects.values_list("pk",
                                                                                     flat=True)]
    urls += [f"/agreements/{pk}/" for pk in Agreement.objects.values_list("pk", flat=True)]
    return urls


def check_display(client: Client, urls: Iterable[str], tally: Tally, interface: str,
                  request: str) -> None:
    """Load each page that shows the data; any answer but a 200 is a finding."""
    from django.core.cache import cache

    cache.clear()  # the throttles count in the cache; the walk is not a client to slow down
    for url in urls:
        response = client.get(url)
        tally.count(interface, "displayed")
        if response.status_code != 200:
            problem = (server_error(response) if response.status_code >= 500
                       else f"HTTP {response.status_code}")
            tally.find(interface, request, f"accepted, then {url} fails: {problem}")
