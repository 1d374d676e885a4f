"""``correction_record``: a change to published content with a public note, written as one
``Correction`` per field that really changed, through the services; and every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from commitments.models import Agreement, Commitment, Correction
from commitments.services.corrections import correction_record
from commitments.services.publishing import agreement_publish_unreviewed

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def published(agreement: Agreement) -> Agreement:
    agreement_publish_unreviewed(agreement=agreement)
    agreement.refresh_from_db()
    return agreement


def test_a_commitment_correction_writes_one_row_per_changed_field(
    published, make_commitment, editor
):
    commitment = make_commitment(title="Hold a meting", offset_amount=180)
    rows = correction_record(
        target=commitment,
        changes={"title": "Hold a meeting", "offset_amount": 90, "category": "meeting",
                 "title_fr": "Tenir une réunion"},
        note="A typo, and the text says 90 days.", user=editor, now=NOW,
    )
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.title, stored.offset_amount, stored.title_fr) == (
        "Hold a meeting", 90, "Tenir une réunion"
    )
    # The due date was recomputed by the service: 90 days after 28 October 2025.
    assert stored.due_date == dt.date(2026, 1, 26)
    written = {
        (c.field, c.old_value, c.new_value, c.note, c.commitment_id, c.author_id)
        for c in Correction.objects.all()
    }
    note = "A typo, and the text says 90 days."
    assert written == {
        ("title", "Hold a meting", "Hold a meeting", note, commitment.pk, editor.pk),
        ("offset_amount", "180", "90", note, commitment.pk, editor.pk),
        ("title_fr", "", "Tenir une réunion", note, commitment.pk, editor.pk),
    }  # the category did not change: no row
    assert {c.pk for c in rows} == set(Correction.objects.values_list("pk", flat=True))
    assert all(c.corrected_at == NOW and c.agreement_id == published.pk for c in rows)


def test_choices_read_as_labels_and_dates_in_iso(published, editor):
    with translation.override("fr"):  # the editor's language does not reach the values
        correction_record(
            target=published,
            changes={"kind": "joint_statement", "date": dt.date(2025, 10, 27)},
            note="Wrong kind and date.", user=editor,
        )
    written = {c.field: (c.old_value, c.new_value) for c in Correction.objects.all()}
    assert written == {
        "date": ("2025-10-28", "2025-10-27"),
        "kind": ("Summit outcome", "Joint statement"),
    }
    assert Correction.objects.get(field="kind").commitment is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"note": "   "}, "note"),
        ({"changes": {}}, "changes"),
        ({"changes": {"title": "Japan–US summit"}}, "changes"),  # nothing changes
        ({"changes": {"nonsense": 1}}, "nonsense"),
        ({"changes": {"title": ""}}, "title"),  # refused by the service's validation
    ],
)
def test_refusals_name_the_field_and_write_nothing(published, editor, args, field):
    data = {"changes": {"title": "Japan-US summit"}, "note": "A typo.", **args}
    with pytest.raises(ValidationError) as caught:
        correction_record(target=published, user=editor, **data)
    assert field in caught.value.message_dict
    assert not Correction.objects.exists()
    assert Agreement.objects.get(pk=published.pk).title == "Japan–US summit"


def test_a_draft_is_not_corrected(agreement, editor):
    with pytest.raises(ValidationError) as caught:
        correction_record(
            target=agreement, changes={"title": "New"}, note="A typo.", user=editor
        )
    assert "not published" in caught.value.message_dict["agreement"][0]
    assert not Correction.objects.exists()
    assert Agreement.objects.get(pk=agreement.pk).title == "Japan–US summit"


def test_only_an_editor_corrects(published, viewer):
    with pytest.raises(PermissionDenied):
        correction_record(target=published, changes={"title": "New"}, note="x", user=viewer)
    assert not Correction.objects.exists()
