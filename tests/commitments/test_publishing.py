"""The editorial workflow: each step from the states it leads on from, who may take it, the
second reviewer where the site requires one, and the record of who, when and why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from commitments.choices import PublicationAction, PublicationState
from commitments.models import Agreement, PublicationEvent
from commitments.services import commitments as svc
from commitments.services.publishing import publication_change, publication_steps
from core.roles import EDITORS, VIEWERS
from tests.factories import user_make

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def ana(db):
    return user_make(username="ana", role=EDITORS)


@pytest.fixture
def bo(db):
    return user_make(username="bo", role=EDITORS)


@pytest.fixture
def rita(db):
    return user_make(username="rita", role=VIEWERS)


def _state(agreement: Agreement) -> str:
    agreement.refresh_from_db()
    return agreement.publication_state


def test_a_new_agreement_is_a_draft_with_no_steps(agreement):
    assert agreement.publication_state == PublicationState.DRAFT
    assert agreement.published_at is None and agreement.published_by is None
    assert publication_steps(agreement) == [PublicationAction.SUBMIT, PublicationAction.PUBLISH]


def test_submit_then_publish_records_each_step_with_who_when_and_why(agreement, ana):
    publication_change(agreement=agreement, action="submit", user=ana, note="Ready", now=WHEN)
    later = WHEN + dt.timedelta(hours=1)
    publication_change(agreement=agreement, action="publish", user=ana, now=later)

    agreement.refresh_from_db()
    assert agreement.publication_state == PublicationState.PUBLISHED
    assert (agreement.published_at, agreement.published_by) == (later, ana)
    steps = list(
        PublicationEvent.objects.filter(agreement=agreement)
        .order_by("at")
        .values_list("action", "state_from", "state_to", "note", "user__username", "at")
    )
    assert steps == [
        ("submit", "draft", "review", "Ready", "ana", WHEN),
        ("publish", "review", "published", "", "ana", later),
    ]


def test_unpublish_needs_a_reason_and_then_takes_the_agreement_off(agreement, ana):
    publication_change(agreement=agreement, action="publish", user=ana)
    with pytest.raises(ValidationError) as refused:
        publication_change(agreement=agreement, action="unpublish", user=ana, note="   ")
    assert "note" in refused.value.message_dict
    assert _state(agreement) == PublicationState.PUBLISHED
    assert PublicationEvent.objects.filter(action="unpublish").count() == 0

    publication_change(agreement=agreement, action="unpublish", user=ana, note="Wrong date")
    assert _state(agreement) == PublicationState.DRAFT
    event = PublicationEvent.objects.get(action="unpublish")
    assert (event.note, event.state_from, event.state_to) == ("Wrong date", "published", "draft")


def test_return_sends_an_agreement_in_review_back_to_draft(agreement, ana):
    publication_change(agreement=agreement, action="submit", user=ana)
    publication_change(agreement=agreement, action="return", user=ana, note="Sources missing")
    assert _state(agreement) == PublicationState.DRAFT


@pytest.mark.parametrize(
    ("start", "action"),
    [("draft", "unpublish"), ("draft", "return"), ("published", "publish"),
     ("published", "submit"), ("review", "submit")],
)
def test_a_step_that_does_not_lead_on_from_the_state_is_refused(agreement, ana, start, action):
    Agreement.objects.filter(pk=agreement.pk).update(publication_state=start)
    agreement.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        publication_change(agreement=agreement, action=action, user=ana, note="why")
    assert "action" in refused.value.message_dict
    assert _state(agreement) == start
    assert not PublicationEvent.objects.exists()


def test_an_unknown_action_is_refused_naming_the_action(agreement, ana):
    with pytest.raises(ValidationError) as refused:
        publication_change(agreement=agreement, action="delete", user=ana)
    assert "action" in refused.value.message_dict
    assert not PublicationEvent.objects.exists()


def test_a_viewer_may_take_no_step(agreement, rita):
    with pytest.raises(PermissionDenied):
        publication_change(agreement=agreement, action="submit", user=rita)
    assert _state(agreement) == PublicationState.DRAFT
    assert not PublicationEvent.objects.exists()


class TestSecondReviewer:
    """Where the site requires a review, another editor publishes what one submitted."""

    @pytest.fixture(autouse=True)
    def _review_required(self, settings):
        settings.TRACKER_PUBLISH_REVIEW_REQUIRED = True

    def test_a_draft_cannot_be_published_straight_away(self, agreement, ana):
        with pytest.raises(ValidationError) as refused:
            publication_change(agreement=agreement, action="publish", user=ana)
        assert "review" in refused.value.message_dict["action"][0]
        assert _state(agreement) == PublicationState.DRAFT

    def test_the_submitter_cannot_publish(self, agreement, ana):
        publication_change(agreement=agreement, action="submit", user=ana)
        with pytest.raises(ValidationError) as refused:
            publication_change(agreement=agreement, action="publish", user=ana)
        assert "second reviewer" in refused.value.message_dict["action"][0]
        assert _state(agreement) == PublicationState.REVIEW
        assert PublicationEvent.objects.filter(action="publish").count() == 0

    def test_the_latest_editor_cannot_publish(self, agreement, ana, bo, japan):
        publication_change(agreement=agreement, action="submit", user=ana)
        # bo edits one of its commitments after the submission: bo made the latest change.
        svc.commitment_create(
            agreement=agreement, obligor=japan, key="late", title="A late edit",
            category="meeting", deadline_kind="relative", offset_amount=10,
            offset_unit="days", anchor_kind="agreement", user=bo,
        )
        with pytest.raises(ValidationError):
            publication_change(agreement=agreement, action="publish", user=bo)
        assert _state(agreement) == PublicationState.REVIEW

    def test_another_editor_publishes(self, agreement, ana, bo):
        publication_change(agreement=agreement, action="submit", user=ana)
        publication_change(agreement=agreement, action="publish", user=bo)
        agreement.refresh_from_db()
        assert agreement.publication_state == PublicationState.PUBLISHED
        assert agreement.published_by == bo
