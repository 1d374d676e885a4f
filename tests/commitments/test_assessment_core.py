"""The assessment's core: the scale's scores, the pace band, and ratings as of a date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from commitments.assessment import RECORDABLE, SCALE, Rating, Tally, score
from commitments.assessment import pace as pace_engine
from commitments.models import Assessment, Commitment
from commitments.selectors import compliance_table
from commitments.services.assessments import assessment_record
from tests import factories

# The scoring table the methodology publishes: (score, counted in the average).
EXPECTED = {
    Rating.KEPT: (1, True),
    Rating.COMPROMISE: (0, True),
    Rating.IN_THE_WORKS: (0, True),
    Rating.STALLED: (-1, True),
    Rating.BROKEN: (-1, True),
    Rating.NOT_VERIFIABLE: (None, False),
    Rating.CANCELLED: (None, False),
    Rating.NOT_RATED: (None, False),
}


@pytest.mark.parametrize("rating", list(Rating))
def test_every_rating_has_its_published_score_and_inclusion(rating):
    expected_score, counted = EXPECTED[rating]
    assert score(rating) == expected_score
    tally = Tally.of([rating, Rating.KEPT])
    # Beside one "kept" (+1), a counted rating moves the average; an uncounted one does not.
    assert tally.scored == (2 if counted else 1)
    assert tally.unscored == (0 if counted else 1)
    expected_average = Decimal(1 + (expected_score or 0)) / 2 if counted else Decimal(1)
    assert tally.average == expected_average.quantize(Decimal("0.01"))


def test_the_scale_lists_every_rating_once_and_never_stores_not_rated():
    assert [rule.rating for rule in SCALE].count(Rating.NOT_RATED) == 1
    assert set(Rating) == {rule.rating for rule in SCALE}
    assert Rating.NOT_RATED not in RECORDABLE


def test_a_table_nobody_has_rated_has_no_average_and_counts_every_row_apart():
    tally = Tally.of([None, "", None])
    assert tally.average is None
    assert tally.percent is None
    assert tally.counts[Rating.NOT_RATED] == 3


def test_percent_is_the_g7_conversion():
    assert Tally.of(["kept", "broken"]).percent == Decimal(50)
    assert Tally.of(["kept"]).percent == Decimal(100)
    assert Tally.of(["stalled"]).percent == Decimal(0)


def _reference_pace(share: Fraction, start: dt.date, due: dt.date, on: dt.date) -> str:
    """The pace rule in exact fractions, as the methodology states it."""
    tolerance = Fraction(pace_engine.TOLERANCE)
    if share >= 1:
        return "met"
    if on >= due:
        required = Fraction(1)
    elif on <= start:
        required = Fraction(0)
    else:
        required = Fraction((on - start).days, (due - start).days)
    if share < required - tolerance:
        return "behind"
    if share > required + tolerance:
        return "ahead"
    return "on_pace"


@given(
    measured=st.integers(min_value=0, max_value=2000),
    target=st.integers(min_value=1, max_value=1000),
    span=st.integers(min_value=1, max_value=3000),
    offset=st.integers(min_value=-100, max_value=3200),
)
def test_the_stored_band_gives_the_pace_of_every_day(measured, target, span, offset):
    start = dt.date(2025, 8, 1)
    due = start + dt.timedelta(days=span)
    on = start + dt.timedelta(days=offset)
    band = pace_engine.pace_band(
        measured=Decimal(measured), target=Decimal(target), start=start, due=due
    )
    assert band is not None
    expected = _reference_pace(Fraction(measured, target), start, due, on)
    assert pace_engine.band_state(band, on) == expected


def test_energy_purchases_read_share_and_pace():
    # $260 bn of $750 bn, from 21 August 2025 through 2028: on 6 December 2026 the line asks
    # for 38 % (472 of 1,228 days) and 35 % is within 5 points of it; a month later it is not.
    measured, target = Decimal(260), Decimal(750)
    start, due = dt.date(2025, 8, 21), dt.date(2028, 12, 31)
    progress = pace_engine.progress(
        measured=measured, target=target, start=start, due=due, on=dt.date(2026, 12, 6)
    )
    assert progress is not None
    assert round(progress.share * 100) == 35
    assert progress.pace_share is not None
    assert round(progress.pace_share * 100) == 38
    assert progress.pace == "on_pace"
    later = pace_engine.progress(
        measured=measured, target=target, start=start, due=due, on=dt.date(2027, 3, 1)
    )
    assert later is not None
    assert later.pace == "behind"
    met = pace_engine.progress(
        measured=Decimal(800), target=target, start=start, due=due, on=dt.date(2026, 1, 1)
    )
    assert met is not None
    assert met.pace == "met"


@pytest.fixture
def shared(agreement, japan, usa, source):
    commitment = factories.commitment_make(
        agreement=agreement, obligor=japan, title="Meet within 180 days"
    )
    commitment.co_obligors.set([usa])
    return commitment


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def test_ratings_as_of_a_date_come_from_the_history(shared, japan, usa, source, editor):
    agreement = shared.agreement
    assessment_record(
        commitment=shared, party=japan, rating="in_the_works", justification="Talks began.",
        assessed_on=dt.date(2025, 11, 1), user=editor, now=_at("2025-11-02"),
    )
    assessment_record(
        commitment=shared, party=japan, rating="kept", justification="They met.",
        assessed_on=dt.date(2026, 3, 1), user=editor, now=_at("2026-03-02"),
        evidence_source=source, evidence_quote="Les deux pays se sont réunis.",
    )
    before = compliance_table(agreement=agreement, as_of=dt.date(2026, 2, 28))
    after = compliance_table(agreement=agreement, as_of=dt.date(2026, 3, 1))
    today = compliance_table(agreement=agreement)
    by_party = {p.party.key: p for p in before.parties}
    assert [r.rating for r in by_party["japan"].rows] == ["in_the_works"]
    assert [r.rating for r in by_party["united-states"].rows] == ["not_rated"]
    assert by_party["japan"].tally.average == Decimal("0.00")
    assert by_party["united-states"].tally.average is None
    assert [r.rating for r in after.rows] == ["kept", "not_rated"]
    assert [r.rating for r in today.rows] == ["kept", "not_rated"]
    assert Assessment.objects.filter(commitment=shared, current=True).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"justification": "  "}, "justification"),
        ({"rating": "kept"}, "evidence"),
        ({"rating": "not_rated"}, "rating"),
        ({"assessed_on": dt.date(2030, 1, 1)}, "assessed_on"),
        ({"assessed_on": dt.date(2020, 1, 1)}, "assessed_on"),
    ],
)
def test_a_bad_rating_names_its_field_and_writes_nothing(shared, japan, editor, change, field):
    data = {"rating": "in_the_works", "justification": "Talks began.", **change}
    with pytest.raises(ValidationError) as caught:
        assessment_record(commitment=shared, party=japan, user=editor, **data)
    assert field in caught.value.message_dict
    assert not Assessment.objects.exists()


def test_a_party_that_is_not_an_obligor_cannot_be_rated(agreement, japan, editor):
    commitment: Commitment = factories.commitment_make(agreement=agreement, obligor=japan)
    korea = factories.party_make(key="korea", name="Korea")
    with pytest.raises(ValidationError) as caught:
        assessment_record(
            commitment=commitment, party=korea, rating="stalled", justification="Nothing.",
            user=editor,
        )
    assert "party" in caught.value.message_dict
    assert not Assessment.objects.exists()


def test_a_rated_obligor_cannot_be_dropped(shared, japan, usa, editor):
    from commitments.services.commitments import commitment_update

    assessment_record(
        commitment=shared, party=usa, rating="stalled", justification="No date set.",
        user=editor,
    )
    with pytest.raises(ValidationError) as caught:
        commitment_update(commitment=shared, co_obligors=[], user=editor)
    assert "co_obligors" in caught.value.message_dict
    assert list(Commitment.objects.get(pk=shared.pk).co_obligors.all()) == [usa]
    with pytest.raises(ValidationError) as caught:
        commitment_update(commitment=shared, co_obligors=[japan], user=editor)
    assert "co_obligors" in caught.value.message_dict


def test_the_scan_counts_review_days_from_the_agreements_today(shared, japan, editor, settings):
    """Recording a rating and the scan judge "too old" on the same day, the agreement's:
    at 20:00 UTC on 1 June it is already 2 June in Tokyo."""
    from commitments.services.assessments import review_due_flag

    settings.TRACKER_REVIEW_AFTER_DAYS = 180
    now = dt.datetime(2026, 6, 1, 20, tzinfo=dt.UTC)
    rating = assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="Nothing yet.",
        assessed_on=dt.date(2025, 12, 3), user=editor, now=now,
    )
    assert rating.review_due is True  # 180 days before 2 June is 4 December
    assert review_due_flag(now=now) == {"flagged": 0, "cleared": 0}
    assert Assessment.objects.get(pk=rating.pk).review_due is True
    earlier = dt.datetime(2026, 6, 1, 14, tzinfo=dt.UTC)  # 23:00 on 1 June in Tokyo
    assert review_due_flag(now=earlier) == {"flagged": 0, "cleared": 1}
    assert Assessment.objects.get(pk=rating.pk).review_due is False


def test_the_pace_filter_and_the_shown_pace_agree_on_a_recurring_commitment(
    agreement, japan, editor
):
    """The stored band runs to the due date the commitment shows (its next open occurrence),
    so ``?pace=`` lists it where its own progress says it stands."""
    from commitments.services.commitments import commitment_change_status

    commitment = factories.recurring_commitment_make(
        agreement=agreement, obligor=japan, target_amount=100
    )
    first_due = commitment.due_date
    assert first_due is not None
    now = dt.datetime.combine(first_due + dt.timedelta(days=40), dt.time(3), tzinfo=dt.UTC)
    commitment_change_status(
        commitment=commitment, status="in_progress", measured_value=50, user=editor, now=now,
        occurred_on=first_due - dt.timedelta(days=10),
    )
    # The first year's occurrence is closed: the commitment now shows the second one.
    first = commitment.occurrences.order_by("due_date").first()
    commitment_change_status(
        commitment=commitment, status="fulfilled", occurrence=first, user=editor, now=now,
        evidence_source=factories.source_make(), evidence_quote="Achats réalisés.",
    )
    commitment = Commitment.objects.get(pk=commitment.pk)
    assert commitment.due_date is not None and commitment.due_date > first_due
    today = now.date()
    shown = commitment.progress_on(today)
    assert shown is not None and shown.pace is not None
    listed = {
        pace for pace in ("behind", "on_pace", "ahead", "met")
        if Commitment.objects.in_pace(pace, today).filter(pk=commitment.pk).exists()
    }
    assert listed == {shown.pace}


def test_percent_comes_from_the_exact_mean():
    # Kept, kept, broken: a mean of 1/3, 66.7 %, shown 67 % (not 66 % from a rounded 0.33).
    assert Tally.of(["kept", "kept", "broken"]).percent == Decimal(67)
    # Kept, kept, in the works: 2/3, 83.3 %, shown 83 % (not 84 % from a rounded 0.67).
    assert Tally.of(["kept", "kept", "in_the_works"]).percent == Decimal(83)
