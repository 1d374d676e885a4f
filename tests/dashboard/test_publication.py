"""The agreement page's publication panel, its POST route, and the overview's review list."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from commitments.choices import PublicationState
from commitments.models import Agreement, PublicationEvent
from commitments.services.publishing import publication_change
from core.roles import EDITORS, VIEWERS
from tests.factories import agreement_make, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(db):
    return user_make(username="ed", role=EDITORS)


@pytest.fixture
def second_writer(db):
    return user_make(username="eve", role=EDITORS)


@pytest.fixture
def reader(db):
    return user_make(username="rita", role=VIEWERS)


def _page(agreement: Agreement) -> str:
    return reverse("dashboard:agreement", args=[agreement.pk])


def _post_url(agreement: Agreement) -> str:
    return reverse("dashboard:agreement_publication", args=[agreement.pk])


def test_an_editor_sees_the_state_and_the_steps_that_lead_on(client, writer, agreement):
    client.force_login(writer)
    body = client.get(_page(agreement)).content.decode()
    assert 'id="publication-h"' in body
    assert "<strong>Draft</strong>" in body
    assert 'value="submit"' in body and 'value="publish"' in body
    assert 'value="unpublish"' not in body
    assert "View on the public site" not in body


def test_a_viewer_sees_the_state_but_no_buttons(client, reader, agreement):
    client.force_login(reader)
    body = client.get(_page(agreement)).content.decode()
    assert "<strong>Draft</strong>" in body
    assert _post_url(agreement) not in body
    assert 'name="action"' not in body


def test_an_editor_publishes_and_the_page_links_to_the_public_site(client, writer, agreement):
    client.force_login(writer)
    response = client.post(_post_url(agreement), {"action": "publish", "note": "Checked"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.publication_state == PublicationState.PUBLISHED
    assert agreement.published_by == writer
    event = PublicationEvent.objects.get(agreement=agreement)
    assert (event.action, event.note, event.user) == ("publish", "Checked", writer)

    body = client.get(response["Location"]).content.decode()
    assert "View on the public site" in body
    assert f"/en/agreements/{agreement.key}/" in body
    assert "Checked" in body  # the latest steps, with the note
    assert 'value="unpublish"' in body


def test_a_viewers_post_is_refused_and_nothing_changes(client, reader, agreement):
    client.force_login(reader)
    response = client.post(_post_url(agreement), {"action": "publish"})
    assert response.status_code == 403
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.DRAFT
    assert not PublicationEvent.objects.exists()


@pytest.mark.parametrize("data", [{"action": "launch"}, {}, {"action": "submit", "note": "a\x00b"}])
def test_a_bad_step_is_a_400_at_the_form(client, writer, agreement, data):
    client.force_login(writer)
    response = client.post(_post_url(agreement), data)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.DRAFT
    assert not PublicationEvent.objects.exists()


def test_unpublishing_without_a_reason_is_shown_at_the_note(client, writer, agreement):
    publication_change(agreement=agreement, action="publish", user=writer)
    client.force_login(writer)
    response = client.post(_post_url(agreement), {"action": "unpublish", "note": ""})
    assert response.status_code == 400
    assert 'id="publication-note-errors"' in response.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.PUBLISHED


@override_settings(TRACKER_PUBLISH_REVIEW_REQUIRED=True)
def test_the_second_reviewer_rule_is_shown_at_the_form(client, writer, agreement):
    publication_change(agreement=agreement, action="submit", user=writer)
    client.force_login(writer)
    response = client.post(_post_url(agreement), {"action": "publish"})
    assert response.status_code == 400
    assert "second reviewer" in response.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.REVIEW


def test_the_route_takes_only_posts_with_csrf(writer, agreement):
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)
    assert client.get(_post_url(agreement)).status_code == 405
    assert client.post(_post_url(agreement), {"action": "publish"}).status_code == 403
    assert not PublicationEvent.objects.exists()


def test_an_unknown_agreement_is_a_404(client, writer):
    client.force_login(writer)
    missing = reverse("dashboard:agreement_publication", args=[999999])
    assert client.post(missing, {"action": "submit"}).status_code == 404


def test_the_overview_lists_what_awaits_review_for_editors_only(
    client, writer, second_writer, reader, agreement, japan, usa
):
    other = agreement_make(parties=[japan], title="Not submitted")
    publication_change(agreement=agreement, action="submit", user=second_writer)
    client.force_login(writer)
    body = client.get(reverse("dashboard:overview")).content.decode()
    assert "Awaiting review" in body
    assert agreement.title in body and "eve" in body
    assert other.title not in body.split('id="review-h"')[1].split("</section>")[0]

    client.force_login(reader)
    assert "Awaiting review" not in client.get(reverse("dashboard:overview")).content.decode()
