"""The backup (version 6) keeps publishing: each agreement's state with who published it and
when, its steps, the old keys that redirect, the corrections, and the French and machine-made
translations; a document from before publishing restores its agreements as drafts."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from commitments.choices import PublicationState
from commitments.models import (
    Agreement,
    Assessment,
    Commitment,
    Correction,
    KeyRedirect,
    Party,
    PublicationEvent,
)
from commitments.services.assessments import assessment_record
from commitments.services.commitments import commitment_update
from commitments.services.publishing import publication_change
from core.roles import EDITORS
from tests import factories
from tests.commitments.test_backup import export_to, wipe

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
NEW_TABLES = (PublicationEvent, KeyRedirect, Correction)


@pytest.fixture
def published(agreement, japan, usa):
    """A published agreement whose commitment changed key and was corrected, with French and
    machine-made translations on each translated model."""
    ana = factories.user_make(username="ana", role=EDITORS)
    bo = factories.user_make(username="bo", role=EDITORS)
    Party.objects.filter(pk=japan.pk).update(
        machine_translations={"fr": {"name": "Japon (machine)"}}
    )
    Agreement.objects.filter(pk=agreement.pk).update(
        title_fr="Sommet Japon–États-Unis", summary_fr="Un résumé.",
        machine_translations={"fr": {"title": "Sommet (machine)"}},
    )
    commitment = factories.commitment_make(agreement=agreement, obligor=japan, key="old-key",
                                           title="Meet again")
    commitment_update(commitment=commitment, key="new-key", user=ana)
    Commitment.objects.filter(pk=commitment.pk).update(
        title_fr="Se revoir", description_fr="Une description.",
        machine_translations={"fr": {"description": "Machine"}},
    )
    assessment = assessment_record(
        commitment=commitment, party=japan, rating="in_the_works", justification="Talks began.",
        assessed_on=dt.date(2026, 1, 10), user=ana,
    )
    Assessment.objects.filter(pk=assessment.pk).update(justification_fr="Les pourparlers.")
    Correction.objects.create(
        agreement=agreement, commitment=commitment, field="title", old_value="Meet",
        new_value="Meet again", note="The title was cut short.", corrected_at=WHEN, author=ana,
    )
    publication_change(agreement=agreement, action="submit", user=ana, note="Ready", now=WHEN)
    publication_change(agreement=agreement, action="publish", user=bo,
                       now=WHEN + dt.timedelta(hours=2))
    assert KeyRedirect.objects.filter(old_key="old-key").exists()
    return {"agreement": agreement, "commitment": commitment}


def _rows(model: Any) -> list[dict[str, Any]]:
    return list(model._default_manager.order_by("pk").values())


def _snapshot() -> dict[str, Any]:
    """The new tables whole, and the fields version 6 added on the older ones."""
    return {
        **{model.__name__: _rows(model) for model in NEW_TABLES},
        "agreements": list(Agreement.objects.order_by("pk").values(
            "pk", "title_fr", "summary_fr", "machine_translations", "publication_state",
            "published_at", "published_by__username")),
        "commitments": list(Commitment.objects.order_by("pk").values(
            "pk", "key", "title_fr", "description_fr", "machine_translations")),
        "parties": list(Party.objects.order_by("pk").values("pk", "machine_translations")),
        "assessments": list(Assessment.objects.order_by("pk").values("pk", "justification_fr")),
    }


def _wipe_all(django_user_model) -> None:
    KeyRedirect.objects.all().delete()  # not a foreign key: no cascade from its target
    wipe(django_user_model)


def _without_user_ids(snapshot: dict[str, Any]) -> dict[str, Any]:
    """User ids change on restore (users are matched by name): compare the rest."""
    for table, column in (("PublicationEvent", "user_id"), ("Correction", "author_id")):
        for row in snapshot[table]:
            row.pop(column)
    return snapshot


def test_a_round_trip_gives_back_publishing_and_translations(
    published, tmp_path, django_user_model
):
    before = _snapshot()
    events_by = list(PublicationEvent.objects.order_by("pk").values_list("user__username",
                                                                        flat=True))
    document = export_to(tmp_path / "backup.json")
    assert document["version"] == 6
    assert {len(document[s]) for s in ("publication_events", "key_redirects", "corrections")} \
        == {2, 1}
    _wipe_all(django_user_model)
    assert not Agreement.objects.exists() and not KeyRedirect.objects.exists()

    out = StringIO()
    call_command("import_all", str(tmp_path / "backup.json"), stdout=out)

    assert _without_user_ids(_snapshot()) == _without_user_ids(before)
    assert list(PublicationEvent.objects.order_by("pk").values_list("user__username",
                                                                    flat=True)) == events_by
    assert Correction.objects.get().author.username == "ana"
    assert "drafts" not in out.getvalue()


def test_a_backup_from_before_publishing_restores_drafts_and_says_so(
    published, tmp_path, django_user_model
):
    document = export_to(tmp_path / "backup.json")
    for section in ("publication_events", "key_redirects", "corrections"):
        del document[section]
    for section, names in (
        ("agreements", ("title_fr", "summary_fr", "machine_translations", "publication_state",
                        "published_at", "published_by")),
        ("commitments", ("title_fr", "description_fr", "machine_translations")),
        ("parties", ("machine_translations",)),
        ("assessments", ("justification_fr", "machine_translations")),
    ):
        for record in document[section]:
            for name in names:
                del record["fields"][name]
    document["version"] = 5
    path = tmp_path / "v5.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _wipe_all(django_user_model)

    out = StringIO()
    call_command("import_all", str(path), stdout=out)

    restored = Agreement.objects.get()
    assert restored.publication_state == PublicationState.DRAFT
    assert (restored.published_at, restored.published_by, restored.title_fr) == (None, None, "")
    assert Commitment.objects.get().machine_translations == {}
    assert not PublicationEvent.objects.exists() and not Correction.objects.exists()
    assert "1 agreement(s) restored as drafts" in out.getvalue()
