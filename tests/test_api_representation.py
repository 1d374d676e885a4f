"""The API's planned read of each serializer gives exactly what DRF's generic read gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework import serializers as drf
from rest_framework.test import APIRequestFactory

from alerts.models import Alert
from alerts.services.subscriptions import subscription_create
from api import serializers
from commitments.models import Commitment
from commitments.selectors import commitment_list
from commitments.services import commitments as svc

pytestmark = pytest.mark.django_db


def _both(serializer: drf.Serializer, instance) -> tuple[dict, dict]:
    planned = serializer.to_representation(instance)
    generic = drf.Serializer.to_representation(serializer, instance)
    return planned, dict(generic)


@pytest.fixture
def request_context():
    return {"request": APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")}


@pytest.fixture
def rich_commitment(make_commitment, usa, source, editor):
    anchor = make_commitment(title="Anchor")
    commitment = make_commitment(
        title="Invest 550 billion",
        category="investment",
        target_amount=Decimal("550000000000"),
        target_unit="USD",
        effective_from=dt.date(2025, 8, 1),
        anchor_kind="commitment",
        anchor_commitment=anchor,
        owner=editor,
        beneficiaries=[usa],
        deadline_phrase="dans les 180 jours",
    )
    svc.commitment_change_status(
        commitment=commitment,
        status="partially_fulfilled",
        user=editor,
        occurred_on=dt.date(2026, 1, 5),
        measured_value=Decimal("12.5"),
        evidence_source=source,
        evidence_quote="Une partie des fonds a été engagée.",
        evidence_translation="Part of the funds was committed.",
    )
    return commitment_list().get(pk=commitment.pk)


def test_commitment_rows_match_drf(rich_commitment, make_commitment, request_context):
    plain = commitment_list().get(pk=make_commitment(deadline_kind="none").pk)
    for instance in (rich_commitment, plain):
        serializer = serializers.CommitmentSerializer(context=request_context)
        planned, generic = _both(serializer, instance)
        assert planned == generic
    assert planned["owner"] is None and planned["target_amount"] is None


def test_nested_rows_match_drf(rich_commitment, request_context):
    citation = rich_commitment.citations.all()[0]
    update = rich_commitment.progress_updates.all()[0]
    for serializer_class, instance in [
        (serializers.CitationSerializer, citation),
        (serializers.ProgressUpdateSerializer, update),
        (serializers.DeadlineRuleSerializer, rich_commitment),
        (serializers.AgreementSerializer, rich_commitment.agreement),
        (serializers.PartySerializer, rich_commitment.obligor),
        (serializers.SourceSerializer, citation.source),
    ]:
        planned, generic = _both(serializer_class(context=request_context), instance)
        assert planned == generic, serializer_class.__name__
    assert update.measured_value == Decimal("12.5")


def test_own_data_rows_match_drf(rich_commitment, editor, request_context):
    subscription = subscription_create(user=editor, scope="commitment", commitment=rich_commitment)
    alert = Alert.objects.create(
        user=editor,
        email=editor.email,
        commitment=rich_commitment,
        due_date=dt.date(2026, 4, 26),
        threshold=7,
        created=dt.datetime(2026, 4, 19, tzinfo=dt.UTC),
    )
    for serializer_class, instance in [
        (serializers.SubscriptionSerializer, subscription),
        (serializers.AlertSerializer, alert),
    ]:
        planned, generic = _both(serializer_class(context=request_context), instance)
        assert planned == generic, serializer_class.__name__
    assert Commitment.objects.filter(pk=rich_commitment.pk).exists()
