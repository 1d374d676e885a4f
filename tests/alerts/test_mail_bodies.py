"""The alert mails' bodies written in Python (:mod:`alerts.services.mail_bodies`) are the bytes
the Django templates wrote before them, in English and in French.

The templates are kept beside this test (``mail_templates/``) only as the oracle: each mail's
items are rendered with the context the sender gave them and compared with the writer's text
and HTML, on mails that cover the cases: a deadline alert with a quoted source (linked or
not) and a deadline phrase, several obligors, an escalation contact, a rating's review, a
digest of both, French texts with their English fallback and a machine translation, and
hostile values (markup, ampersands, quotes, percent signs) in every field a mail writes.
"""

from __future__ import annotations

import copy as copy_module
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.template import Context, Engine, engines
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.services import user_set_language
from alerts.models import Alert, AlertKind
from alerts.services import delivery, mail, mail_bodies
from commitments.models import Assessment, Citation
from commitments.selectors import obligors_prefetch, revisions_prefetch
from commitments.services.commitments import commitment_update
from core.mime import MailWriter
from tests import factories

pytestmark = pytest.mark.django_db

ORACLE = Engine(
    dirs=[str(Path(__file__).parent / "mail_templates")],
    libraries=engines["django"].engine.libraries,  # type: ignore[attr-defined]
)
NOW = dt.datetime(2026, 4, 19, 3, 0, tzinfo=dt.UTC)
HOSTILE = "<b>bold</b> & 'single' \"double\" 100% {{ x }} %(zone)s"


def _oracle(template: str, items: list[dict[str, Any]], subject: str) -> tuple[str, str]:
    """Render the template pair as the sender did before the writer."""
    context = {
        "items": items,
        "item": items[0],
        "subject": subject,
        "now": NOW,
        "LANGUAGE_CODE": translation.get_language(),
    }
    return (
        ORACLE.get_template(f"alerts/email/{template}.txt").render(Context(context)),
        ORACLE.get_template(f"alerts/email/{template}.html").render(Context(context)),
    )


@pytest.fixture
def alerts(agreement, japan, usa, make_commitment, source, owner):
    """Alerts whose mails cover what a mail may say, loaded as the sender loads them."""
    hostile_party = factories.party_make(
        name=f"Party {HOSTILE}", machine_translations={"fr": {"name": f"Partie {HOSTILE}"}}
    )
    hostile_agreement = factories.agreement_make(
        parties=[japan, hostile_party],
        title=f"Agreement {HOSTILE}",
        title_fr=f"Accord {HOSTILE}",
        time_zone="America/New_York",
    )
    plain = make_commitment(title="Hold the ministerial", title_fr="Tenir la ministérielle")
    hostile = factories.commitment_make(
        agreement=hostile_agreement,
        obligor=hostile_party,
        key="hostile",
        title=f"Title {HOSTILE}",
        machine_translations={"fr": {"title": f"Titre {HOSTILE}"}},
        deadline_phrase=f"within 180 days {HOSTILE}",
    )
    commitment_update(commitment=hostile, co_obligors=[usa, japan])
    unlinked = factories.source_make(
        title=f"Source {HOSTILE}", publisher=f"Publisher {HOSTILE}", url="", language="en"
    )
    Citation.objects.create(source=source, commitment=plain, quote="Le Japon s'engage.")
    Citation.objects.create(source=unlinked, commitment=hostile, quote=f"Quote {HOSTILE}")
    rating = Assessment.objects.create(
        commitment=plain,
        party=hostile_party,
        rating="in_the_works",
        justification=f"Because {HOSTILE}",
        machine_translations={"fr": {"justification": f"Parce que {HOSTILE}"}},
        assessed_on=dt.date(2025, 11, 1),
        reviewed_on=dt.date(2025, 11, 1),
    )
    watcher = factories.user_make(username="watcher", email="watcher@example.org")
    made = [
        Alert(user=watcher, email=watcher.email, commitment=plain, threshold=7),
        Alert(user=watcher, email=watcher.email, commitment=hostile, threshold=0),
        Alert(user=None, email="contact@example.org", commitment=hostile, threshold=-7),
        Alert(user=owner, email=owner.email, commitment=plain, threshold=7),
        Alert(
            user=owner,
            email=owner.email,
            commitment=plain,
            threshold=0,
            kind=AlertKind.REVIEW_DUE,
            assessment=rating,
            reviewed_on=rating.reviewed_on,
        ),
    ]
    for alert in made:
        alert.due_date = alert.commitment.due_date or dt.date(2026, 5, 1)
        alert.created = NOW
        alert.save()
    loader = delivery._AlertMailer(report=delivery.DeliveryReport())
    return loader.load([alert.pk for alert in made])


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("now", [NOW, NOW + dt.timedelta(days=30)], ids=["due", "overdue"])
def test_an_alert_mail_is_what_its_templates_wrote(alerts, language, now):
    for alert in alerts:
        with translation.override(language):
            item = mail._item(alert=alert, now=now)
            subject = f"{item['headline']} {alert.commitment.title}"
            text, html = _oracle("alert", [item], subject)
            assert mail_bodies.alert_text(item) == text
            assert mail_bodies.alert_html(item, subject=subject, language=language) == html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_digest_is_what_its_templates_wrote(alerts, language):
    with translation.override(language):
        for items in (
            [mail._item(alert=alert, now=NOW) for alert in alerts],
            [mail._item(alert=alerts[-1], now=NOW)],
        ):
            subject = f"Digest {HOSTILE}"
            text, html = _oracle("digest", items, subject)
            assert mail_bodies.digest_text(items) == text
            assert mail_bodies.digest_html(items, subject=subject, language=language) == html


def test_the_mails_built_are_the_writer_bodies(alerts):
    """The sender's mail carries the writer's bodies (in the recipient's language)."""
    built = mail.alert_mail_build(alerts=[alerts[0]], now=NOW, mailer=None)  # type: ignore[arg-type]
    with translation.override("en"):
        item = mail._item(alert=alerts[0], now=NOW)
        subject = f"{item['headline']} Hold the ministerial"
        assert built.body == _oracle("alert", [item], subject)[0]
        assert built.alternatives[0][0] == _oracle("alert", [item], subject)[1]


def _orm_load(pks: list[int]) -> list[Alert]:
    """Load the alerts as the sender did before :class:`core.instances.InstancesRead`: the
    ORM's ``select_related`` and ``prefetch_related`` (the oracle of the sender's load)."""
    return list(
        Alert.objects.filter(pk__in=pks)
        .order_by("pk")
        .select_related(
            "user__profile",
            "commitment__agreement",
            "commitment__obligor",
            "commitment__anchor_commitment",
            "assessment__party",
        )
        .prefetch_related(
            Prefetch(
                "commitment__citations",
                queryset=Citation.objects.select_related("source").order_by("id"),
            ),
            revisions_prefetch("commitment__"),
            obligors_prefetch("commitment__"),
        )
    )


def _values(instance: Any) -> Any:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_sender_loads_what_the_orm_loaded_and_writes_the_same_mails(
    alerts, language, make_commitment
):
    """Every object a mail reads, and every mail's bytes (date and boundary fixed), equal."""
    for user in {alert.user for alert in alerts if alert.user is not None}:
        user_set_language(user=user, language=language)
    factories.revision_make(commitment=alerts[1].commitment, new_due_date=dt.date(2026, 12, 1))
    pks = list(Alert.objects.order_by("pk").values_list("pk", flat=True))
    loaded = delivery._AlertMailer(report=delivery.DeliveryReport()).load(pks)
    expected = _orm_load(pks)
    assert len(loaded) == len(alerts)
    assert any(alert.commitment.revisions.all() for alert in loaded)

    for got, want in zip(loaded, expected, strict=True):
        for path in ("", "user", "user.profile", "commitment", "commitment.agreement",
                     "commitment.obligor", "commitment.anchor_commitment", "assessment",
                     "assessment.party"):  # fmt: skip
            assert _values(_follow(got, path)) == _values(_follow(want, path)), path
        for name in ("citations", "revisions"):
            assert [_values(row) for row in getattr(got.commitment, name).all()] == [
                _values(row) for row in getattr(want.commitment, name).all()
            ]
        assert [_values(c.source) for c in got.commitment.citations.all()] == [
            _values(c.source) for c in want.commitment.citations.all()
        ]
        assert [_values(p) for p in got.commitment.obligor_list] == [
            _values(p) for p in want.commitment.obligor_list
        ]

    writer = MailWriter()
    with CaptureQueriesContext(connection) as queries:
        mails = [_mails(rows, writer=writer) for rows in (loaded, expected)]
    assert mails[0] == mails[1]
    assert len(queries) == 0, "the load read everything a mail shows"


def _mails(alerts: list[Alert], *, writer: MailWriter) -> list[tuple[str, list[str], bytes]]:
    """Write each alert's mail, then the digest of them all, at two instants (fixed date and
    boundary: a mail's bytes otherwise)."""
    written = []
    for now in (NOW, NOW + dt.timedelta(days=30)):
        groups = [[alert] for alert in alerts] + [[_digest(alert) for alert in alerts]]
        for group in groups:
            message = mail.alert_mail_build(alerts=group, now=now, mailer=None)  # type: ignore[arg-type]
            written.append(
                writer.write(
                    message,
                    date="Mon, 20 Apr 2026 03:00:00 -0000",
                    boundary="===============0000000000000000001==",
                )
            )
    return written


def _follow(instance: Any, path: str) -> Any:
    for name in filter(None, path.split(".")):
        instance = getattr(instance, name) if instance is not None else None
    return instance


def _digest(alert: Alert) -> Alert:
    """Return a copy of ``alert`` sent in a digest."""
    copy = copy_module.copy(alert)
    copy.digest = True
    return copy
