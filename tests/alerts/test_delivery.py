"""Alert delivery through a real SMTP server: content, one connection, retries, exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import smtplib
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from io import StringIO
from pathlib import Path

import pytest
from django.core.mail import get_connection
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.services import user_set_language
from alerts.models import Alert, AlertState
from alerts.services import delivery
from alerts.services.delivery import (
    ALERT_OUTBOX,
    alerts_send_digests,
    alerts_send_pending,
)
from alerts.services.mail import alert_mail_build, digest_message_id
from commitments.models import Citation
from commitments.services.commitments import commitment_update
from core import outbox
from tests.factories import user_make
from tests.support.committed import committed_state
from tests.support.smtp_server import smtp_server_fixture, smtp_settings_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

# The default commitment (agreement 2025-10-28 in Asia/Tokyo, +180 days) is due 2026-04-26,
# that is until 2026-04-26T14:59:59.999999Z.
SEVEN_DAYS_BEFORE = dt.datetime(2026, 4, 19, 3, 0, tzinfo=dt.UTC)
QUOTE = "Le Japon investira 550 milliards de dollars aux États-Unis."


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 1_000_000))

    def make(*, email: str | None = None):
        n = next(counter)
        return user_make(
            username=f"watcher{n}", email=f"watcher{n}@example.org" if email is None else email
        )

    return make


@pytest.fixture
def make_alert(make_commitment, make_user):
    """Write an outbox row directly, as the scan would."""

    def make(*, commitment=None, user=None, email=None, threshold=7, digest=False, **fields):
        commitment = commitment or make_commitment()
        if user is None and email is None:
            user = make_user()
        return Alert.objects.create(
            user=user,
            email=user.email if email is None else email,
            commitment=commitment,
            due_date=fields.pop("due_date", commitment.due_date),
            threshold=threshold,
            digest=digest,
            created=SEVEN_DAYS_BEFORE - dt.timedelta(minutes=1),
            **fields,
        )

    return make


def _state(alert: Alert) -> tuple:
    alert.refresh_from_db()
    return (alert.state, alert.attempts, alert.next_attempt_at, alert.sent_at, alert.last_error)


def test_mail_has_message_id_both_parts_quote_link_and_days_left(
    smtp_settings, settings, make_alert, make_commitment, source, agreement
):
    settings.SITE_URL = "https://tracker.example.org"
    commitment = make_commitment(title="Investment of $550 billion in the United States")
    Citation.objects.create(source=source, commitment=commitment, quote=QUOTE)
    alert = make_alert(commitment=commitment, threshold=7)

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.mails) == (1, 1)
    [mail] = smtp_settings.messages
    assert mail.rcpt_tos == (alert.email,)
    assert mail.message_id == alert.message_id
    assert mail.subject == "[Due in 7 days] Investment of $550 billion in the United States"
    link = "https://tracker.example.org" + commitment.get_absolute_url()
    for part in (mail.text, mail.html):
        assert agreement.title in part
        assert "Japan" in part
        assert "April 26, 2026" in part  # written as precisely as it is known
        assert "This commitment is due in 7 days." in part
        assert "7 days left" in part.lower()
        assert "Asia/Tokyo" in part
        assert "Rencontre au sommet Japon" in part
        assert "Ministère des Affaires étrangères du Japon" in part
        assert "2025-10-28" in part
    assert QUOTE in mail.text
    assert "Le Japon investira 550 milliards de dollars aux États-Unis." in mail.html
    assert f"Open it: {link}" in mail.text
    assert f'href="{link}"' in mail.html
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert _state(alert) == (AlertState.SENT, 1, None, SEVEN_DAYS_BEFORE, "")


def test_mail_about_a_shared_commitment_names_every_obligor(
    smtp_settings, make_alert, make_commitment, usa
):
    commitment = make_commitment(title="Ministerial meeting within 180 days")
    commitment_update(commitment=commitment, co_obligors=[usa])
    make_alert(commitment=commitment, threshold=7)

    alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    [mail] = smtp_settings.messages
    assert "Obligors: Japan, United States" in mail.text
    assert "Obligors</th><td>Japan, United States</td>" in mail.html


def test_mail_is_written_in_the_recipient_language(smtp_settings, make_alert, make_user):
    reader = make_user()
    user_set_language(user=reader, language="fr")
    make_alert(user=reader, threshold=7)

    alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    [mail] = smtp_settings.messages
    assert mail.subject.startswith("[Échéance dans 7 jours] ")
    assert "7 jours restants" in mail.text


def test_a_french_mail_names_the_parties_and_the_commitment_in_french(
    smtp_settings, make_alert, make_commitment, make_user, japan, usa, agreement
):
    """The texts the mail quotes come in the reader's language, English where none exists."""
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    usa.name_fr = "États-Unis"
    usa.save(update_fields=["name_fr"])
    commitment = make_commitment(
        title="Hold the ministerial", title_fr="Tenir la réunion ministérielle", co_obligors=[usa]
    )
    reader, english = make_user(), make_user()
    user_set_language(user=reader, language="fr")
    make_alert(commitment=commitment, user=reader, threshold=7)
    make_alert(commitment=commitment, user=english, threshold=7)

    alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    french = next(m for m in smtp_settings.messages if reader.email in m.rcpt_tos)
    assert french.subject.strip() == "[Échéance dans 7 jours] Tenir la réunion ministérielle"
    assert "Japon, États-Unis" in french.text
    assert "Japon, États-Unis" in french.html
    assert "Tenir la réunion ministérielle" in french.html
    # The agreement has no French title: its English one, marked as such in the HTML part.
    assert f'<span lang="en">{agreement.title}</span>' in french.html
    # The page says its own language, for screen readers and translation tools.
    assert '<html lang="fr">' in french.html
    other = next(m for m in smtp_settings.messages if english.email in m.rcpt_tos)
    assert other.subject == "[Due in 7 days] Hold the ministerial"
    assert '<html lang="en">' in other.html
    assert "Japan, United States" in other.text


def test_recipients_of_one_alert_in_a_run_share_its_words_only_where_they_are_the_same(
    smtp_settings, make_alert, make_user, make_commitment
):
    """A run writes an alert's words once per language and kind of recipient; each mail says
    exactly what it says written alone, to its own address under its own Message-ID."""
    commitment = make_commitment()
    french = make_user()
    user_set_language(user=french, language="fr")
    alerts = [
        make_alert(commitment=commitment),
        make_alert(commitment=commitment, user=french),
        make_alert(commitment=commitment),
        make_alert(commitment=commitment, email="contact@example.org"),
        make_alert(),
    ]

    assert alerts_send_pending(now=SEVEN_DAYS_BEFORE).sent == 5

    sent = {mail.message_id: mail for mail in smtp_settings.messages}
    assert len(sent) == 5
    loaded = delivery._AlertMailer(report=delivery.DeliveryReport()).load([a.pk for a in alerts])
    for alert in loaded:
        alone = message_from_bytes(
            alert_mail_build(alerts=[alert], now=SEVEN_DAYS_BEFORE, mailer=get_connection())
            .message()
            .as_bytes(linesep="\r\n"),  # as the SMTP backend sends it
            policy=policy.default,
        )
        mail = sent[alert.message_id]
        assert mail.rcpt_tos == (alert.email,)
        assert _headers(mail.message) == _headers(alone)
        assert (mail.subject, mail.text, mail.html) == (
            str(alone["Subject"]),
            alone.get_body(preferencelist=("plain",)).get_content(),  # type: ignore[union-attr]
            alone.get_body(preferencelist=("html",)).get_content(),  # type: ignore[union-attr]
        )
    english, in_french, other_english, contact, elsewhere = (sent[a.message_id] for a in alerts)
    assert english.text == other_english.text
    assert in_french.subject.startswith("[Échéance dans 7 jours] ")
    assert "escalation contact" in contact.text
    assert "escalation contact" not in english.text
    assert len({english.text, in_french.text, contact.text, elsewhere.text}) == 4


def _headers(message) -> list[tuple[str, str]]:
    """Return a mail's headers but its date and boundary (drawn for each mail)."""
    return [
        (name, str(value))
        for name, value in message.items()
        if name not in {"Date", "Content-Type"}
    ] + [("Content-Type", message.get_content_type())]


@pytest.mark.parametrize(
    ("now", "subject", "countdown"),
    [
        (dt.datetime(2026, 4, 26, 14, 59, 59, tzinfo=dt.UTC), "[Due today]", "due today"),
        (dt.datetime(2026, 4, 26, 15, 0, 0, tzinfo=dt.UTC), "[Overdue 1 day]", "1 day overdue"),
        (dt.datetime(2026, 4, 29, 3, 0, tzinfo=dt.UTC), "[Overdue 3 days]", "3 days overdue"),
        (dt.datetime(2026, 4, 25, 14, 59, 59, tzinfo=dt.UTC), "[Due in 1 day]", "1 day left"),
    ],
)
def test_days_count_in_the_agreement_time_zone(
    smtp_settings, make_alert, make_commitment, now, subject, countdown
):
    make_alert(commitment=make_commitment(title="Ministerial meeting"), threshold=0)

    alerts_send_pending(now=now)

    [mail] = smtp_settings.messages
    assert mail.subject == f"{subject} Ministerial meeting"
    assert countdown in mail.text.lower()


def test_escalation_goes_to_the_contact_address(smtp_settings, make_alert, make_commitment):
    commitment = make_commitment(title="Ministerial meeting")
    alert = make_alert(commitment=commitment, email="desk@example.org", threshold=-7)

    alerts_send_pending(now=dt.datetime(2026, 5, 5, 3, 0, tzinfo=dt.UTC))

    [mail] = smtp_settings.messages
    assert mail.rcpt_tos == ("desk@example.org",)
    assert mail.subject == "[Escalation: overdue 9 days] Ministerial meeting"
    for part in (mail.text, mail.html):
        assert "9 days past its deadline. You are its escalation contact." in part
    assert mail.message_id == alert.message_id


def test_one_connection_per_batch_and_none_when_idle(smtp_settings, make_alert):
    alerts_send_pending(now=SEVEN_DAYS_BEFORE)
    assert smtp_settings.connections == 0

    for _ in range(5):
        make_alert()
    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert report.sent == 5
    assert smtp_settings.connections == 1
    assert len({mail.peer for mail in smtp_settings.messages}) == 1


def test_sending_twice_sends_nothing_new(smtp_settings, make_alert):
    alerts = [make_alert() for _ in range(3)]

    first = alerts_send_pending(now=SEVEN_DAYS_BEFORE)
    second = alerts_send_pending(now=SEVEN_DAYS_BEFORE + dt.timedelta(hours=1))

    assert (first.sent, second.sent) == (3, 0)
    assert sorted(m.message_id for m in smtp_settings.messages) == sorted(
        a.message_id for a in alerts
    )


def test_batch_limit_leaves_the_rest_for_the_next_run(smtp_settings, make_alert):
    alerts = [make_alert() for _ in range(3)]

    assert alerts_send_pending(now=SEVEN_DAYS_BEFORE, limit=2).sent == 2
    assert [_state(a)[0] for a in alerts] == [AlertState.SENT, AlertState.SENT, AlertState.PENDING]
    assert alerts_send_pending(now=SEVEN_DAYS_BEFORE, limit=2).sent == 1


def test_refused_mail_stays_pending_with_backoff_then_goes_once(
    smtp_settings, settings, make_alert
):
    settings.TRACKER_ALERT_BACKOFF_SECONDS = 60
    alert = make_alert()
    smtp_settings.refuse("451 4.3.0 Mailbox busy, try later")

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.deferred) == (0, 1)
    state, attempts, next_attempt_at, sent_at, error = _state(alert)
    assert (state, attempts, sent_at) == (AlertState.PENDING, 1, None)
    assert next_attempt_at == SEVEN_DAYS_BEFORE + dt.timedelta(seconds=60)
    assert "451" in error and "Mailbox busy" in error

    smtp_settings.accept()
    smtp_settings.reset()
    assert alerts_send_pending(now=SEVEN_DAYS_BEFORE + dt.timedelta(seconds=59)).sent == 0
    assert smtp_settings.connections == 0
    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE + dt.timedelta(seconds=60))

    assert report.sent == 1
    assert [m.message_id for m in smtp_settings.messages] == [alert.message_id]
    state, attempts, next_attempt_at, sent_at, error = _state(alert)
    assert (state, attempts, next_attempt_at) == (AlertState.SENT, 2, None)
    assert sent_at == SEVEN_DAYS_BEFORE + dt.timedelta(seconds=60)
    assert "451" in error, "the last error stays visible for the audit"


def test_one_refused_recipient_does_not_stop_the_batch(smtp_settings, make_alert, make_user):
    first, refused, last = make_alert(), make_alert(user=make_user()), make_alert()
    smtp_settings.refuse_recipient(refused.email, "550 5.1.1 No such mailbox")

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.deferred, report.interrupted) == (2, 1, "")
    assert [_state(a)[0] for a in (first, refused, last)] == [
        AlertState.SENT,
        AlertState.PENDING,
        AlertState.SENT,
    ]
    assert "550" in _state(refused)[4]
    assert smtp_settings.connections == 1


def test_smtp_down_loses_nothing_and_stops_the_batch(smtp_settings, make_alert):
    alerts = [make_alert() for _ in range(3)]
    smtp_settings.stop()

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert report.sent == 0
    assert "Connection refused" in report.interrupted
    first = _state(alerts[0])
    assert (first[0], first[1]) == (AlertState.PENDING, 0)
    assert "Connection refused" in first[4]
    assert [_state(a) for a in alerts[1:]] == [(AlertState.PENDING, 0, None, None, "")] * 2

    smtp_settings.start()
    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE + dt.timedelta(hours=1))

    assert report.sent == 3
    assert sorted(m.message_id for m in smtp_settings.messages) == sorted(
        a.message_id for a in alerts
    )


def test_a_long_outage_never_uses_up_an_alert_attempts(smtp_settings, settings, make_alert):
    alert = make_alert()
    smtp_settings.stop()
    for minute in range(settings.TRACKER_ALERT_MAX_ATTEMPTS * 3):
        alerts_send_pending(now=SEVEN_DAYS_BEFORE + dt.timedelta(minutes=minute))
    assert _state(alert)[:2] == (AlertState.PENDING, 0)

    smtp_settings.start()
    assert alerts_send_pending(now=SEVEN_DAYS_BEFORE + dt.timedelta(hours=1)).sent == 1


def test_server_closing_the_channel_stops_the_batch(smtp_settings, make_alert):
    alerts = [make_alert() for _ in range(3)]
    smtp_settings.refuse("421 4.3.2 Service shutting down", count=1)

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.deferred) == (0, 1)
    assert "421" in report.interrupted
    assert [_state(a)[1] for a in alerts] == [0, 0, 0]


def test_gives_up_after_max_attempts_and_keeps_the_error(smtp_settings, settings, make_alert):
    settings.TRACKER_ALERT_MAX_ATTEMPTS = 3
    alert = make_alert()
    smtp_settings.refuse("554 5.7.1 Message rejected")
    now = SEVEN_DAYS_BEFORE

    reports = []
    for _ in range(3):
        reports.append(alerts_send_pending(now=now))
        now += dt.timedelta(days=1)

    assert [(r.deferred, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    state, attempts, next_attempt_at, sent_at, error = _state(alert)
    assert (state, attempts, next_attempt_at, sent_at) == (AlertState.FAILED, 3, None, None)
    assert error == "SMTP 554: 5.7.1 Message rejected"

    smtp_settings.accept()
    smtp_settings.reset()
    assert alerts_send_pending(now=now + dt.timedelta(days=30)).sent == 0
    assert _state(alert)[:2] == (AlertState.FAILED, 3)
    assert smtp_settings.connections == 0


def test_backoff_is_exponential_and_capped(settings):
    settings.TRACKER_ALERT_BACKOFF_SECONDS = 60
    settings.TRACKER_ALERT_BACKOFF_MAX_SECONDS = 300

    delays = [ALERT_OUTBOX.retry_delay(attempts=n).total_seconds() for n in (1, 2, 3, 4, 10, 100)]

    assert delays == [60, 120, 240, 300, 300, 300]


def test_skipped_rows_are_never_touched(smtp_settings, make_alert):
    alert = make_alert(state=AlertState.SKIPPED, last_error="The recipient has no e-mail address")
    before = _state(alert)

    alerts_send_pending(now=SEVEN_DAYS_BEFORE)
    alerts_send_digests(now=SEVEN_DAYS_BEFORE)

    assert _state(alert) == before
    assert smtp_settings.messages == []


def test_alert_without_address_is_skipped_not_retried(smtp_settings, make_alert, make_user):
    alert = make_alert(user=make_user(email=""))

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert (report.skipped, report.sent) == (1, 0)
    state, attempts, next_attempt_at, _sent, error = _state(alert)
    assert (state, attempts, next_attempt_at) == (AlertState.SKIPPED, 0, None)
    assert error == "No e-mail address."
    assert smtp_settings.connections == 0


def test_alert_for_an_old_due_date_or_a_closed_commitment_is_skipped(
    smtp_settings, make_alert, make_commitment, source
):
    stale = make_alert(due_date=dt.date(2026, 3, 1))
    closed_commitment = make_commitment()
    closed = make_alert(commitment=closed_commitment)
    from commitments.services.commitments import commitment_change_status

    commitment_change_status(
        commitment=closed_commitment,
        status="fulfilled",
        evidence_source=source,
        evidence_quote="La réunion a eu lieu.",
        now=SEVEN_DAYS_BEFORE,
    )
    current = make_alert()

    report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.skipped) == (1, 2)
    assert [m.message_id for m in smtp_settings.messages] == [current.message_id]
    assert _state(stale)[0] == AlertState.SKIPPED
    assert "due date changed" in _state(stale)[4]
    assert _state(closed)[0] == AlertState.SKIPPED
    assert "closed (Fulfilled)" in _state(closed)[4]


def test_crash_after_smtp_accepted_resends_only_that_mail_with_the_same_message_id(
    smtp_settings, make_alert, monkeypatch
):
    """The documented bound: a crash between SMTP and commit duplicates one mail, loses none."""
    first, in_flight, last = make_alert(), make_alert(), make_alert()
    real_write = outbox._write

    def crash_when_marking_in_flight(row, fields, **options):
        if row.pk == in_flight.pk and row.state == AlertState.SENT:
            raise SystemExit("worker killed")
        return real_write(row, fields, **options)

    # The mark's one statement (core.outbox._write) is where the worker dies.
    monkeypatch.setattr(outbox, "_write", crash_when_marking_in_flight)
    with pytest.raises(SystemExit):
        alerts_send_pending(now=SEVEN_DAYS_BEFORE)
    monkeypatch.setattr(outbox, "_write", real_write)

    assert [_state(a)[0] for a in (first, in_flight, last)] == [
        AlertState.SENT,
        AlertState.PENDING,
        AlertState.PENDING,
    ]
    assert alerts_send_pending(now=SEVEN_DAYS_BEFORE).sent == 2
    ids = [m.message_id for m in smtp_settings.messages]
    assert ids == [first.message_id, in_flight.message_id, in_flight.message_id, last.message_id]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="on SQLite each mail is claimed, sent and marked in one transaction: no mark commits"
    " while the next mail goes",
)
@pytest.mark.django_db(transaction=True)
def test_the_next_mails_envelope_goes_while_a_mark_commits_and_its_content_only_after(
    smtp_settings, make_alert
):
    """The first alert's mark is held up by another transaction's lock on its row: the second
    mail's envelope (MAIL FROM, RCPT TO) reaches the server meanwhile, and its content only
    once the first mark committed, so a sender that dies has sent nothing since its last
    mark."""
    first, second = make_alert(), make_alert()
    locked, release = threading.Event(), threading.Event()

    def hold_the_first_row() -> None:
        try:
            with transaction.atomic():
                Alert.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(timeout=5)
        finally:
            connection.close()

    seen: dict[str, str] = {}

    async def at_recipient(address: str) -> None:
        if address == second.email:
            seen["envelope"] = await asyncio.to_thread(committed_state, Alert, first.pk)
            threading.Timer(0.3, release.set).start()

    async def at_content(messages) -> None:
        if messages[-1].rcpt_tos == (second.email,):
            seen["content"] = await asyncio.to_thread(committed_state, Alert, first.pk)

    smtp_settings.before_recipient(at_recipient)
    smtp_settings.before_reply(at_content)
    holder = threading.Thread(target=hold_the_first_row)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)
    finally:
        release.set()
        holder.join(timeout=30)

    assert report.sent == 2
    assert seen == {"envelope": "pending", "content": "sent"}
    assert [_state(a)[0] for a in (first, second)] == [AlertState.SENT, AlertState.SENT]


@pytest.mark.parametrize(
    "address",
    [
        "plain@example.org",
        "Ann Example <ann@example.org>",
        '"Doe, Jane" <jane@example.org>',
        "=?utf-8?q?Ren=C3=A9e?= <renee@example.org>",
        "<bracketed@example.org>",
        "user@xn--bcher-kva.example",
    ],
)
def test_the_envelope_is_what_smtplib_sends(smtp_server, address):
    """Addresses are quoted once per process rather than at each command: the server gets
    the same envelope as smtplib's own ``sendmail`` gives it."""
    content = b"Subject: probe\r\n\r\nbody\r\n"
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        client.sendmail(address, [address, "other@example.org"], content)
        delivery._sendmail(
            client, address, [address, "other@example.org"], content, ready=lambda: None
        )
    plain, ours = smtp_server.wait_for_messages(2)
    assert (ours.mail_from, ours.rcpt_tos) == (plain.mail_from, plain.rcpt_tos)
    assert ours.message.as_bytes() == plain.message.as_bytes()


def test_digest_sends_one_mail_per_recipient_with_all_items(
    smtp_settings, make_alert, make_commitment, make_user
):
    ann, bob = make_user(), make_user()
    ann_alerts = [
        make_alert(commitment=make_commitment(title=f"Ann item {n}"), user=ann, digest=True)
        for n in range(3)
    ]
    bob_alert = make_alert(commitment=make_commitment(title="Bob item"), user=bob, digest=True)
    immediate = make_alert(user=ann)

    report = alerts_send_digests(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.mails) == (4, 2)
    assert smtp_settings.connections == 1
    by_rcpt = {mail.rcpt_tos: mail for mail in smtp_settings.messages}
    ann_mail, bob_mail = by_rcpt[(ann.email,)], by_rcpt[(bob.email,)]
    assert ann_mail.subject == "[Deadline digest] 3 commitments to watch"
    for n in range(3):
        assert f"Ann item {n}" in ann_mail.text and f"Ann item {n}" in ann_mail.html
    assert "Bob item" not in ann_mail.text
    assert ann_mail.message_id == digest_message_id(
        recipient=f"user-{ann.pk}", alert_ids=[a.pk for a in ann_alerts]
    )
    assert bob_mail.subject == "[Deadline digest] 1 commitment to watch"
    assert "Bob item" in bob_mail.text
    assert {_state(a)[0] for a in [*ann_alerts, bob_alert]} == {AlertState.SENT}
    assert _state(immediate)[0] == AlertState.PENDING

    assert alerts_send_digests(now=SEVEN_DAYS_BEFORE).sent == 0
    assert len(smtp_settings.messages) == 2


def test_refused_digest_is_retried_with_the_same_message_id(smtp_settings, make_alert, make_user):
    ann = make_user()
    alerts = [make_alert(user=ann, digest=True) for _ in range(2)]
    smtp_settings.refuse("451 4.3.0 Try again later", count=1)

    report = alerts_send_digests(now=SEVEN_DAYS_BEFORE)

    assert (report.sent, report.deferred) == (0, 2)
    assert [_state(a)[:2] for a in alerts] == [(AlertState.PENDING, 1)] * 2
    report = alerts_send_digests(now=SEVEN_DAYS_BEFORE + dt.timedelta(hours=1))
    assert (report.sent, report.mails) == (2, 1)
    [mail] = smtp_settings.messages
    assert mail.message_id == digest_message_id(
        recipient=f"user-{ann.pk}", alert_ids=[a.pk for a in alerts]
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks with SKIP LOCKED between threads need PostgreSQL (SQLite serialises)",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("digest", [False, True], ids=["immediate", "digest"])
def test_concurrent_senders_send_each_alert_exactly_once(
    smtp_settings, make_alert, make_commitment, make_user, digest
):
    users = [make_user() for _ in range(8)]
    commitments = [make_commitment() for _ in range(5)]
    alerts = [make_alert(commitment=c, user=u, digest=digest) for c in commitments for u in users]
    smtp_settings.delay = 0.02  # long enough per mail that every sender gets rows to claim
    send = alerts_send_digests if digest else alerts_send_pending
    barrier = threading.Barrier(4)
    reports: list[delivery.DeliveryReport] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            reports.append(send(now=SEVEN_DAYS_BEFORE))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(r.sent for r in reports) == len(alerts)
    assert sum(1 for r in reports if r.sent) >= 2, "the senders really ran side by side"
    mails = smtp_settings.messages
    assert len(mails) == (len(users) if digest else len(alerts))
    assert len({m.message_id for m in mails}) == len(mails)
    assert set(Alert.objects.values_list("state", flat=True)) == {AlertState.SENT}


def test_command_prints_counts(smtp_settings, make_alert):
    make_alert()
    make_alert(digest=True)
    out = StringIO()

    call_command("send_alerts", "--now", "2026-04-19T03:00:00Z", stdout=out)
    call_command("send_alerts", "--now", "2026-04-19T12:00:00+09:00", "--digests", stdout=out)

    assert out.getvalue().splitlines() == [
        "Alerts: 1 sent in 1 mail(s), 0 deferred, 0 failed, 0 skipped.",
        "Digest alerts: 1 sent in 1 mail(s), 0 deferred, 0 failed, 0 skipped.",
    ]


def test_command_reports_an_unavailable_server(smtp_settings, make_alert):
    make_alert()
    smtp_settings.stop()
    out, err = StringIO(), StringIO()

    call_command("send_alerts", "--now", "2026-04-19T03:00:00Z", stdout=out, stderr=err)

    assert "0 sent in 0 mail(s), 1 deferred" in out.getvalue()
    assert "The SMTP server is unavailable" in err.getvalue()
    alert = Alert.objects.get()
    assert (alert.state, alert.sent_at) == (AlertState.PENDING, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "yesterday"], "--now: 'yesterday' is not an ISO-8601 date-time"),
        (["--now", "2026-04-19T03:00:00"], "--now: '2026-04-19T03:00:00' has no time zone"),
        (["--now", "2026-02-30T00:00:00Z"], "--now: '2026-02-30T00:00:00Z' is not an ISO-8601"),
        (["--limit", "0"], "--limit: 0 is not a positive number"),
        (["--digests", "--limit", "5"], "--limit: applies to immediate alerts"),
    ],
)
def test_command_rejects_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("send_alerts", *args)
    assert not Alert.objects.exists()


def test_command_exits_non_zero_on_bad_input():
    project = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "manage.py", "send_alerts", "--now", "soon"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--now: 'soon' is not an ISO-8601 date-time" in result.stderr


EMBEDDED_DATA = """
import datetime as dt
from django.core.management import call_command
import os
import re
from django.contrib.auth.models import User
from alerts.models import Alert
from commitments.models import Party
from commitments.services import commitments as svc

call_command("migrate", verbosity=0)
japan = Party.objects.create(key="japan", name="Japan", kind="state")
agreement = svc.agreement_create(
    key="summit", title="Summit", kind="summit_outcome", date=dt.date(2025, 10, 28),
    time_zone="Asia/Tokyo", parties=[japan],
)
commitment = svc.commitment_create(
    agreement=agreement, key="c-1", title="Meeting", obligor=japan, category="meeting",
    deadline_kind="relative", offset_amount=180, offset_unit="days", anchor_kind="agreement",
)
for n in range(30):
    user = User.objects.create_user(username=f"u{n}", email=f"u{n}@example.org")
    Alert.objects.create(
        user=user, email=user.email, commitment=commitment, due_date=commitment.due_date,
        threshold=7, created=dt.datetime(2026, 4, 19, tzinfo=dt.UTC),
    )
"""


def test_concurrent_senders_on_the_embedded_sqlite_database_send_each_alert_once(
    smtp_server, tmp_path
):
    """SQLite has no row locks: three processes queue on its write lock instead."""
    project = Path(__file__).resolve().parents[2]
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}},
        "TRACKER_VAR_DIR": str(tmp_path),
        "EMAIL_URL": smtp_server.url,
    }

    def manage(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    setup = manage("shell", "-c", EMBEDDED_DATA)
    assert setup.wait(timeout=180) == 0, setup.communicate()
    smtp_server.delay = 0.03

    senders = [manage("send_alerts", "--now", "2026-04-19T03:00:00Z") for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in senders]

    assert [process.returncode for process in senders] == [0, 0, 0], outputs
    counts = [re.search(r"Alerts: (\d+) sent", out) for out, _err in outputs]
    sent = [int(match.group(1)) for match in counts if match]
    assert len(sent) == 3 and sum(sent) == 30, outputs
    ids = [mail.message_id for mail in smtp_server.messages]
    assert len(ids) == len(set(ids)) == 30
