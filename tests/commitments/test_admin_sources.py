"""The admin of sources: a new source through source_create, spans filled, a "+" on the
status form, the agreement page's commitments as blocks, the rule fields a page may toggle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments.models import Citation, Source
from commitments.services import sources as svc
from tests.commitments.test_sources import PAGE, STATEMENT, _blank_pdf

pytestmark = pytest.mark.django_db

ADD = reverse("admin:commitments_source_add")
FIELDS: dict[str, Any] = {
    "title": "Déclaration commune UE–États-Unis",
    "publisher": "Commission européenne",
    "language": "fr",
    "published_on": "2025-08-21",
    "kind": "official",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_pasted_source_is_archived_with_a_key_from_its_title(editor_client, editor):
    response = editor_client.post(ADD, {**FIELDS, "text": STATEMENT})
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get()
    assert source.key == "declaration-commune-ue-etats-unis"
    assert source.text == STATEMENT and source.content_type == "text/plain"
    assert len(source.sha256) == 64 and source.retrieved_on is not None
    assert source.history.first().history_user == editor


def test_an_uploaded_page_is_read_and_stored(editor_client):
    page = SimpleUploadedFile("page.html", PAGE.encode())
    response = editor_client.post(ADD, {**FIELDS, "original": page, "key": "decl"})
    assert response.status_code == 302
    source = Source.objects.get(key="decl")
    assert source.content_type == "text/html" and "750 milliards" in source.text


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({}, "text", "Paste the source's text"),
        ({"original": ("x.bin", bytes(range(256)) * 40)}, "original", "not a PDF, a web page"),
        ({"original": ("scan.pdf", "BLANK")}, "original", "no text layer"),
        ({"text": STATEMENT, "key": "taken"}, "key", "already exists"),
    ],
)
def test_a_refused_source_shows_the_error_at_its_field_and_writes_nothing(
    editor_client, tmp_path, fields, field, reason
):
    Source.objects.create(key="taken", title="T", publisher="P", language="en",
                          published_on="2025-01-01", kind="press")
    data = {**FIELDS, **fields}
    if "original" in data:
        name, raw = data["original"]
        data["original"] = SimpleUploadedFile(name, _blank_pdf() if raw == "BLANK" else raw)
    response = editor_client.post(ADD, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert reason in " ".join(errors.get(field, [])), errors
    assert Source.objects.count() == 1
    assert not any(tmp_path.rglob("*.*"))


def test_the_archived_copy_is_read_only_on_a_change(editor_client, editor):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    url = reverse("admin:commitments_source_change", args=[source.pk])
    page = editor_client.get(url)
    form = page.context["adminform"].form
    assert "text" not in form.fields and "title" in form.fields
    assert "$750 billion" in page.content.decode()
    response = editor_client.post(url, {**FIELDS, "key": source.key, "title": "Renamed",
                                        "text": "Tampered"})
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.title == "Renamed" and source.text == STATEMENT


def test_a_citation_saved_in_the_admin_points_at_its_span(editor_client, editor, make_commitment):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    commitment = make_commitment()
    response = editor_client.post(
        reverse("admin:commitments_citation_add"),
        {"source": source.pk, "commitment": commitment.pk,
         "quote": "15  percent,\neffective September 1, 2025", "translation_language": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    cite = Citation.objects.get()
    assert STATEMENT[cite.start:cite.end] == cite.quote == "15 percent, effective September 1, 2025"


def test_a_quote_not_in_the_archived_text_is_refused(editor_client, editor, make_commitment):
    """A source with its text must hold the quote, in the admin as in the editors' forms."""
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    commitment = make_commitment()
    response = editor_client.post(
        reverse("admin:commitments_citation_add"),
        {"source": source.pk, "commitment": commitment.pk, "quote": "A paraphrase.",
         "translation_language": ""},
    )
    assert response.status_code == 200
    assert "is not in the archived text of" in response.content.decode()
    assert not Citation.objects.exists()


def test_a_quote_of_a_source_with_no_text_keeps_no_span(editor_client, editor,
                                                        make_commitment):
    source = svc.source_create(user=editor, **FIELDS)
    commitment = make_commitment()
    editor_client.post(
        reverse("admin:commitments_citation_add"),
        {"source": source.pk, "commitment": commitment.pk, "quote": "A paraphrase.",
         "translation_language": ""},
    )
    cite = Citation.objects.get()
    assert cite.start is None and cite.quote == "A paraphrase."


def test_a_quote_typed_with_other_apostrophes_points_at_the_texts_own(editor_client, editor,
                                                                     make_commitment):
    text = "L’Union européenne « achètera » de l’énergie."
    source = svc.source_create(user=editor, text=text, **FIELDS)
    editor_client.post(
        reverse("admin:commitments_citation_add"),
        {"source": source.pk, "commitment": make_commitment().pk,
         "quote": "L'Union européenne \"achètera\" de l'énergie", "translation_language": ""},
    )
    cite = Citation.objects.get()
    assert (cite.start, cite.end) == (0, len(text) - 1)
    assert cite.quote == "L’Union européenne « achètera » de l’énergie"


def test_the_status_form_offers_a_plus_to_add_a_source(editor_client, make_commitment):
    commitment = make_commitment()
    page = editor_client.get(
        reverse("admin:commitments_commitment_change_status", args=[commitment.pk])
    ).content.decode()
    assert 'id="add_id_evidence_source"' in page
    assert f'href="{ADD}?_to_field=id&amp;_popup=1"' in page


def test_the_agreement_page_shows_commitments_as_blocks_with_their_own_link(
    editor_client, agreement, make_commitment
):
    commitment = make_commitment()
    page = editor_client.get(reverse("admin:commitments_agreement_change", args=[agreement.pk]))
    body = page.content.decode()
    assert "commitment-blocks" in body and "inline-related" in body
    assert reverse("admin:commitments_commitment_change", args=[commitment.pk]) in body


def test_the_rule_kind_tells_the_page_which_fields_each_kind_reads(editor_client, make_commitment):
    commitment = make_commitment()
    page = editor_client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    form = page.context["adminform"].form
    attrs = form.fields["deadline_kind"].widget.attrs
    assert json.loads(attrs["data-rule-groups"])["relative"] == ["offset", "anchor"]
    assert json.loads(attrs["data-rule-fields"])["period_year"] == "period"
    assert "commitments/admin/rule_fields.js" in page.content.decode()
