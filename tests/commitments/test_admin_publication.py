"""The publication in the admin: the list's state column and filter, the change form's steps
and record, and the bulk actions; every step through the service, checked in the database."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from commitments.choices import PublicationState
from commitments.models import Agreement, PublicationEvent
from commitments.services.publishing import publication_change
from tests.factories import agreement_make, user_make

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:commitments_agreement_changelist"


def _change(agreement: Agreement) -> str:
    return reverse("admin:commitments_agreement_change", args=[agreement.pk])


def _step(agreement: Agreement) -> str:
    return reverse("admin:commitments_agreement_publication", args=[agreement.pk])


def _state(agreement: Agreement) -> str:
    return Agreement.objects.get(pk=agreement.pk).publication_state


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_list_shows_and_filters_by_state(editor_client, editor, agreement, japan):
    published = agreement_make(parties=[japan], title="Out in public")
    publication_change(agreement=published, action="publish", user=editor)
    body = editor_client.get(reverse(CHANGELIST)).content.decode()
    assert "Published" in body and "Draft" in body

    response = editor_client.get(reverse(CHANGELIST), {"publication_state__exact": "published"})
    assert list(response.context["cl"].result_list) == [published]


def test_the_change_form_shows_the_state_read_only_with_its_steps(editor_client, editor, agreement):
    publication_change(agreement=agreement, action="submit", user=editor, note="Ready to go")
    response = editor_client.get(_change(agreement))
    body = response.content.decode()
    form = response.context["adminform"].form
    assert "publication_state" not in form.fields and "published_at" not in form.fields
    assert "Ready to go" in body  # the steps' inline
    assert 'value="publish"' in body and 'value="return"' in body
    assert 'value="submit"' not in body


def test_a_button_publishes_through_the_service(editor_client, editor, agreement):
    response = editor_client.post(_step(agreement), {"action": "publish", "note": ""}, follow=True)
    assert response.status_code == 200
    agreement.refresh_from_db()
    assert agreement.publication_state == PublicationState.PUBLISHED
    assert agreement.published_by == editor and agreement.published_at is not None
    assert PublicationEvent.objects.get(agreement=agreement).user == editor


def test_unpublishing_without_a_reason_is_an_error_and_changes_nothing(
    editor_client, editor, agreement
):
    publication_change(agreement=agreement, action="publish", user=editor)
    response = editor_client.post(_step(agreement), {"action": "unpublish"}, follow=True)
    assert any("Say why" in text for text in _messages(response))
    assert _state(agreement) == PublicationState.PUBLISHED
    assert PublicationEvent.objects.filter(action="unpublish").count() == 0


@override_settings(TRACKER_PUBLISH_REVIEW_REQUIRED=True)
def test_the_second_reviewer_rule_is_an_error_message(editor_client, editor, agreement):
    publication_change(agreement=agreement, action="submit", user=editor)
    response = editor_client.post(_step(agreement), {"action": "publish"}, follow=True)
    assert any("second reviewer" in text for text in _messages(response))
    assert _state(agreement) == PublicationState.REVIEW


@pytest.mark.parametrize(
    "data", [{"action": "explode"}, {"action": ["publish", "submit"], "note": "x" * 5000},
             {"action": "submit", "note": "nul\x00byte"}, {}],
)
def test_hostile_steps_are_refused_without_a_500(editor_client, agreement, data):
    response = editor_client.post(_step(agreement), data, follow=True)
    assert response.status_code == 200
    assert _state(agreement) == PublicationState.DRAFT
    assert not PublicationEvent.objects.exists()


def test_a_step_takes_only_a_post(editor_client, agreement):
    assert editor_client.get(_step(agreement)).status_code == 405


def test_a_viewer_takes_no_step(client, viewer, agreement):
    client.force_login(viewer)
    response = client.post(_step(agreement), {"action": "publish"})
    assert response.status_code == 403
    assert _state(agreement) == PublicationState.DRAFT


def _bulk(client, action: str, agreements: list[Agreement], **extra):
    data = {"action": action, "_selected_action": [str(a.pk) for a in agreements], **extra}
    return client.post(reverse(CHANGELIST), data, follow=True)


def test_bulk_publish_reports_each_refusal_by_agreement(editor_client, editor, agreement, japan):
    draft = agreement_make(parties=[japan], title="A fresh draft")
    already = agreement_make(parties=[japan], title="Already out")
    publication_change(agreement=already, action="publish", user=editor)

    response = _bulk(editor_client, "publish", [agreement, draft, already])

    assert _state(agreement) == _state(draft) == PublicationState.PUBLISHED
    texts = _messages(response)
    assert any(t.startswith("Already out (2025-10-28) was not changed") for t in texts)
    assert any(t.startswith("2 agreement(s)") for t in texts)
    assert PublicationEvent.objects.filter(action="publish").count() == 3


def test_bulk_submit_for_review(editor_client, agreement):
    _bulk(editor_client, "submit_for_review", [agreement])
    assert _state(agreement) == PublicationState.REVIEW


def test_bulk_unpublish_asks_for_a_reason_first(editor_client, editor, agreement, japan):
    other = agreement_make(parties=[japan], title="Second one")
    for row in (agreement, other):
        publication_change(agreement=row, action="publish", user=editor)

    page = _bulk(editor_client, "unpublish", [agreement, other])
    assert "Unpublish agreements" in page.content.decode()
    assert _state(agreement) == PublicationState.PUBLISHED

    refused = _bulk(editor_client, "unpublish", [agreement, other], confirm="1", reason=" ")
    assert "Say why" in refused.content.decode()
    assert _state(agreement) == _state(other) == PublicationState.PUBLISHED

    _bulk(editor_client, "unpublish", [agreement, other], confirm="1", reason="Embargo")
    assert _state(agreement) == _state(other) == PublicationState.DRAFT
    notes = set(PublicationEvent.objects.filter(action="unpublish").values_list("note", flat=True))
    assert notes == {"Embargo"}


def test_bulk_actions_refuse_a_staff_user_without_a_role(client, agreement):
    staff = user_make(username="stray", is_staff=True, superuser=False)
    client.force_login(staff)
    response = _bulk(client, "publish", [agreement])
    assert response.status_code == 403
    assert _state(agreement) == PublicationState.DRAFT
