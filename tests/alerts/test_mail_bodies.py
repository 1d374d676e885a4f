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

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Engine, engines
from django.utils import translation

from alerts.models import Alert, AlertKind
from alerts.services import delivery, mail, mail_bodies
from commitments.models import Assessment, Citation
from commitments.services.commitments import commitment_update
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
