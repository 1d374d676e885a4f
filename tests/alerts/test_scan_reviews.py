"""Reviews due: the scan flags ratings left unreviewed too long and mails their owner once
per rating and review cycle, through the real SMTP server."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import user_set_language
from alerts.models import Alert, AlertKind, AlertState, DeliveryMode
from alerts.services.delivery import alerts_send_digests, alerts_send_pending
from alerts.services.scan import scan
from commitments.models import Assessment
from commitments.services.assessments import assessment_record, assessment_review
from core.roles import VIEWERS
from tests.factories import subscription_make

pytestmark = pytest.mark.django_db

#: The rating below is dated 1 November 2025: with the default 180 days, its review is
#: still fine on 30 April 2026 (exactly 180 days later) and due from 1 May 2026.
ASSESSED_ON = dt.date(2025, 11, 1)
LAST_FINE_DAY = dt.date(2026, 4, 30)
FIRST_DUE_DAY = dt.date(2026, 5, 1)


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def rating(make_commitment, owner, japan, editor):
    """A rating of Japan on an ongoing commitment (no deadline, so no deadline alerts)."""
    commitment = make_commitment(
        owner=owner, deadline_kind="none", offset_amount=None, offset_unit="", anchor_kind=""
    )
    return assessment_record(
        commitment=commitment, party=japan, rating="in_the_works",
        justification="Talks began in November.", assessed_on=ASSESSED_ON, user=editor,
        now=_noon(ASSESSED_ON + dt.timedelta(days=1)),
    )


def _review_alerts():
    return list(Alert.objects.filter(kind=AlertKind.REVIEW_DUE).order_by("pk"))


def _scan_command(day: dt.date, *extra: str) -> str:
    out = StringIO()
    call_command("scan_deadlines", "--now", _noon(day).isoformat(), *extra, stdout=out)
    return out.getvalue()


def test_a_rating_reviewed_exactly_n_days_ago_is_not_due_and_one_day_more_is(rating, owner):
    output = _scan_command(LAST_FINE_DAY)
    rating.refresh_from_db()
    assert rating.review_due is False
    assert _review_alerts() == []
    assert "review" not in output

    output = _scan_command(FIRST_DUE_DAY)
    rating.refresh_from_db()
    assert rating.review_due is True
    assert "1 rating(s) flagged for review, 0 cleared; 1 review alert(s) written." in output
    [alert] = _review_alerts()
    assert (alert.user, alert.email, alert.assessment, alert.reviewed_on, alert.state) == (
        owner, "owner@example.org", rating, ASSESSED_ON, AlertState.PENDING
    )


def test_a_longer_review_interval_clears_the_flag(rating, settings):
    scan(now=_noon(FIRST_DUE_DAY))
    settings.TRACKER_REVIEW_AFTER_DAYS = 365
    result = scan(now=_noon(FIRST_DUE_DAY + dt.timedelta(days=1)))
    assert result.reviews == {"flagged": 0, "cleared": 1}
    rating.refresh_from_db()
    assert rating.review_due is False


def test_dry_run_says_what_it_would_flag_and_writes_nothing(rating):
    output = _scan_command(FIRST_DUE_DAY, "--dry-run")
    assert (
        "would alert owner <owner@example.org> about c-1: review due (Japan's rating, last "
        "reviewed 2025-11-01)"
    ) in output
    assert "1 rating(s) flagged for review, 0 cleared; 1 review alert(s) written." in output
    assert output.splitlines()[-1].startswith("Dry run, nothing written.")
    rating.refresh_from_db()
    assert rating.review_due is False
    assert not Alert.objects.exists()


def test_the_owner_gets_one_mail_per_review_cycle(rating, smtp_settings):
    scan(now=_noon(FIRST_DUE_DAY))
    alerts_send_pending(now=_noon(FIRST_DUE_DAY))
    [mail] = smtp_settings.wait_for_messages(1)
    assert mail.subject == "[Review due] Commitment 1"
    assert mail.rcpt_tos == ("owner@example.org",)
    [alert] = _review_alerts()
    assert mail.message_id == f"<review.{alert.pk}.{rating.pk}.20251101@commitment-tracker>"
    assert (
        "Review due: Japan's rating of \u201cCommitment 1\u201d was last reviewed on "
        "Nov. 1, 2025."
    ) in mail.text
    assert "Talks began in November." in mail.text
    assert "Talks began in November." in mail.html

    # The next scans find the same cycle: nothing new is written or sent.
    scan(now=_noon(FIRST_DUE_DAY + dt.timedelta(days=1)))
    alerts_send_pending(now=_noon(FIRST_DUE_DAY + dt.timedelta(days=1)))
    assert len(_review_alerts()) == 1
    assert len(smtp_settings.messages) == 1

    # A review starts the next cycle; when it too falls due, the owner hears again.
    reviewed = FIRST_DUE_DAY + dt.timedelta(days=2)
    assessment_review(assessment=rating, reviewed_on=reviewed, now=_noon(reviewed))
    rating.refresh_from_db()
    assert rating.review_due is False
    next_due = reviewed + dt.timedelta(days=181)
    scan(now=_noon(next_due - dt.timedelta(days=1)))
    assert len(_review_alerts()) == 1
    scan(now=_noon(next_due))
    alerts_send_pending(now=_noon(next_due))
    assert [a.reviewed_on for a in _review_alerts()] == [ASSESSED_ON, reviewed]
    assert len(smtp_settings.wait_for_messages(2)) == 2
    assert "was last reviewed on May 3, 2026." in smtp_settings.messages[1].text


def test_a_rating_reviewed_before_the_alert_goes_out_is_not_mailed(rating, smtp_settings):
    scan(now=_noon(FIRST_DUE_DAY))
    assessment_review(assessment=rating, reviewed_on=FIRST_DUE_DAY, now=_noon(FIRST_DUE_DAY))
    alerts_send_pending(now=_noon(FIRST_DUE_DAY))
    [alert] = _review_alerts()
    assert alert.state == AlertState.SKIPPED
    assert "reviewed or replaced" in alert.last_error
    assert smtp_settings.messages == []


def test_a_new_rating_is_a_new_cycle(rating, japan, editor, source):
    scan(now=_noon(FIRST_DUE_DAY))
    newer = assessment_record(
        commitment=rating.commitment, party=japan, rating="stalled",
        justification="Talks stopped.", assessed_on=dt.date(2025, 11, 2), user=editor,
        now=_noon(FIRST_DUE_DAY),
    )
    assert Assessment.objects.get(pk=rating.pk).review_due is False
    scan(now=_noon(FIRST_DUE_DAY + dt.timedelta(days=1)))
    assert [a.assessment_id for a in _review_alerts()] == [rating.pk, newer.pk]


def test_an_owner_reads_the_reminder_in_french_and_in_the_digest_they_chose(
    rating, owner, smtp_settings
):
    user_set_language(user=owner, language="fr")
    subscription_make(user=owner, scope="all", mode=DeliveryMode.DIGEST)
    scan(now=_noon(FIRST_DUE_DAY))
    [alert] = _review_alerts()
    assert alert.digest is True
    assert alerts_send_pending(now=_noon(FIRST_DUE_DAY)).mails == 0
    alerts_send_digests(now=_noon(FIRST_DUE_DAY))
    [mail] = smtp_settings.wait_for_messages(1)
    assert "[Révision à faire]" in mail.text
    assert "Dernier réexamen: 1 novembre 2025" in mail.text



def test_the_owner_sees_the_review_alert_among_their_alerts(rating, owner, client):
    scan(now=_noon(FIRST_DUE_DAY))
    owner.groups.add(Group.objects.get_or_create(name=VIEWERS)[0])
    client.force_login(owner)
    page = client.get(reverse("dashboard:watching")).content.decode()
    assert "Rating to review (last reviewed Nov. 1, 2025)" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_scan_whose_only_writes_are_reviews_commits_as_the_server_is_configured_to(rating):
    """The commit-lazily setting goes with the record, before the reviews' counts are known;
    once they wrote, it is set back."""
    scan(now=_noon(LAST_FINE_DAY))

    with CaptureQueriesContext(connection) as queries:
        result = scan(now=_noon(FIRST_DUE_DAY))

    assert (result.changed, result.alerts, result.reviews["flagged"], result.review_alerts) == (
        0, 0, 1, 1,
    )
    settings = [q["sql"] for q in queries if "synchronous_commit" in q["sql"]]
    assert settings[-1] == "SELECT set_config('synchronous_commit', 'on', true)"
