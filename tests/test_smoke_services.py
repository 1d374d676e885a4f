import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from commitments.services import commitments as svc

pytestmark = pytest.mark.django_db


def test_relative_rule_due_date_is_computed_in_agreement_zone(make_commitment):
    c = make_commitment()
    assert c.due_date == dt.date(2026, 4, 26)
    assert c.due_at == dt.datetime(2026, 4, 26, 14, 59, 59, 999999, tzinfo=dt.UTC)


def test_agreement_date_change_recomputes(agreement, make_commitment):
    c = make_commitment()
    svc.agreement_update(agreement=agreement, date=dt.date(2025, 11, 1))
    c.refresh_from_db()
    assert c.due_date == dt.date(2026, 4, 30)


def test_fixed_before_agreement_rejected(make_commitment):
    with pytest.raises(ValidationError) as exc:
        make_commitment(deadline_kind="fixed", deadline_date=dt.date(2025, 1, 1))
    assert "deadline_date" in exc.value.message_dict
