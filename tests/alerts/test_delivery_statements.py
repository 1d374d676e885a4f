"""The alert sender's statements: a few for the batch, one per mail, whatever the backlog."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import user_set_language
from alerts.models import Alert, AlertState
from alerts.services.delivery import alerts_send_pending
from tests.factories import user_make
from tests.support.smtp_server import smtp_server_fixture, smtp_settings_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

# The default commitment (Asia/Tokyo, agreement 2025-10-28 + 180 days) is due 2026-04-26.
SEVEN_DAYS_BEFORE = dt.datetime(2026, 4, 19, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def write_alerts(make_commitment):
    counter = iter(range(1, 1_000_000))

    def write(count: int) -> list[Alert]:
        alerts = []
        for _ in range(count):
            n = next(counter)
            user = user_make(username=f"reader{n}", email=f"reader{n}@example.org")
            # Every other reader chose French: the language comes with the batch, not per mail.
            if n % 2:
                user_set_language(user=user, language="fr")
            commitment = make_commitment()
            alerts.append(
                Alert.objects.create(
                    user=user,
                    email=user.email,
                    commitment=commitment,
                    due_date=commitment.due_date,
                    threshold=7,
                    created=SEVEN_DAYS_BEFORE,
                )
            )
        return alerts

    return write


def _statements(count: int, write_alerts) -> tuple[int, int]:
    """Send ``count`` new alerts; return the statements run, and the transaction control."""
    write_alerts(count)
    with CaptureQueriesContext(connection) as queries:
        report = alerts_send_pending(now=SEVEN_DAYS_BEFORE)
    assert report.sent == count
    # Transaction control (here savepoints: the test runs in a transaction) is counted apart.
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    controls = sum(1 for query in queries if query["sql"].startswith(control))
    return len(queries) - controls, controls


def test_a_batch_reads_its_mails_context_once_and_writes_one_statement_per_mail(
    smtp_settings, write_alerts
):
    """4 mails then 12: the claim and the context are read once; each mail adds only its mark.

    No transaction per mail either: the claim's locks are the session's, and each mark
    commits on its own as soon as the SMTP server accepted the mail.
    """
    few, few_control = _statements(4, write_alerts)
    many, many_control = _statements(12, write_alerts)

    if connection.vendor == "postgresql":
        assert many - few == 12 - 4
        assert few - 4 <= 8, few
        assert many_control == few_control == 0
    else:  # SQLite: each mail is claimed and marked in its own transaction.
        assert many - few == 2 * (12 - 4)
        assert few - 2 * 4 <= 6
    assert Alert.objects.exclude(state=AlertState.SENT).count() == 0
    subjects = [mail.subject for mail in smtp_settings.messages]
    assert len(subjects) == 16
    # The readers' languages, read with the batch: half the mails in French.
    assert sum(s.startswith("[Échéance dans 7 jours] ") for s in subjects) == 8, subjects
