"""Sources on the review pages: the list, "Add a source", a source's page and its original."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments.models import Citation, Source
from commitments.services import sources as svc
from core.roles import EDITORS, VIEWERS
from tests.commitments.test_sources import PAGE, STATEMENT, _blank_pdf, _pdf
from tests.factories import user_make

pytestmark = pytest.mark.django_db

FIELDS: dict[str, Any] = {
    "title": "Joint Statement on a United States–European Union framework",
    "publisher": "European Commission",
    "language": "en",
    "published_on": "2025-08-21",
    "kind": "official",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def reader(db):
    return user_make(username="rita", role=VIEWERS)


@pytest.fixture
def writer(db):
    return user_make(username="ed", role=EDITORS)


def _add(client, **fields):
    return client.post(reverse("dashboard:source_add"), {**FIELDS, **fields})


def test_an_editor_adds_a_pasted_text_and_the_key_is_made_from_the_title(client, writer):
    client.force_login(writer)
    response = _add(client, text=STATEMENT, retrieved_on="2025-08-22")
    source = Source.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:source", args=[source.pk])
    assert source.key == "joint-statement-on-a-united-states-european-union-framework"
    assert source.text == STATEMENT
    assert source.sha256 == hashlib.sha256(STATEMENT.encode()).hexdigest()
    assert str(source.retrieved_on) == "2025-08-22"
    assert source.history.first().history_user == writer


def test_an_editor_uploads_a_saved_page_with_its_url(client, writer):
    client.force_login(writer)
    page = SimpleUploadedFile("declaration.html", PAGE.encode(), content_type="text/html")
    response = _add(client, original=page, url="https://ec.europa.eu/statement", language="fr")
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.content_type == "text/html" and source.original_name == "declaration.html"
    assert "750 milliards de dollars" in source.text
    assert "mentions légales" not in source.text
    assert source.url == "https://ec.europa.eu/statement"


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({}, "text", "Paste the source's text, or upload its file"),
        ({"original": ("empty.pdf", b"")}, "original", "The submitted file is empty"),
        ({"original": ("x.bin", bytes(range(256)) * 40)}, "original", "not a PDF, a web page"),
        ({"original": ("scan.pdf", "BLANK")}, "original", "no text layer"),
        ({"text": "x", "original": ("a.txt", b"also text")}, "text", "not both"),
        ({"text": STATEMENT, "key": "Not a slug!"}, "key", "valid"),
        ({"text": STATEMENT, "published_on": "21/08/2025"}, "published_on", "YYYY-MM-DD"),
        ({"text": STATEMENT, "title": ""}, "title", "required"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    client, writer, tmp_path, fields, field, reason
):
    client.force_login(writer)
    data = dict(fields)
    if "original" in data:
        name, body = data["original"]
        data["original"] = SimpleUploadedFile(name, _blank_pdf() if body == "BLANK" else body)
    response = _add(client, **data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert reason in " ".join(errors[field])
    assert not Source.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_an_oversized_file_is_refused_with_the_limit(client, writer, settings):
    settings.TRACKER_SOURCE_MAX_BYTES = 1024
    client.force_login(writer)
    big = SimpleUploadedFile("big.txt", b"word " * 1000)
    response = _add(client, original=big)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["original"])
    assert "larger than 1 KB, the largest accepted." in errors
    assert not Source.objects.exists()


def test_a_duplicate_key_is_refused_at_the_key(client, writer):
    Source.objects.create(key="eu-us", title="Other", publisher="P", language="en",
                          published_on="2025-01-01", kind="press")
    client.force_login(writer)
    response = _add(client, text=STATEMENT, key="eu-us")
    assert response.status_code == 400
    assert "already exists" in " ".join(response.context["form"].errors["key"])
    assert Source.objects.count() == 1


def test_readers_see_sources_but_cannot_add_one(client, reader):
    client.force_login(reader)
    assert client.get(reverse("dashboard:sources")).status_code == 200
    assert client.get(reverse("dashboard:source_add")).status_code == 403
    assert _add(client, text=STATEMENT).status_code == 403
    assert not Source.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, editor):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    for name, args in [("sources", []), ("source", [source.pk]), ("source_original", [source.pk])]:
        response = client.get(reverse(f"dashboard:{name}", args=args))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_searches_titles_and_publishers(client, reader, editor):
    svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    svc.source_create(user=editor, text="Autre texte.", **{**FIELDS, "title": "Communiqué",
                      "publisher": "Élysée", "language": "fr"})
    client.force_login(reader)
    found = client.get(reverse("dashboard:sources"), {"q": "élysée"})
    assert [s.title for s in found.context["page"].object_list] == ["Communiqué"]
    found = client.get(reverse("dashboard:sources"), {"q": "framework"})
    assert [s.publisher for s in found.context["page"].object_list] == ["European Commission"]


def test_the_source_page_marks_each_cited_span_and_links_it_to_its_commitment(
    client, reader, editor, make_commitment
):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    commitment = make_commitment(title="Energy purchases")
    cite = Citation(source=source, commitment=commitment, quote="$750 billion through 2028")
    svc.citation_place(cite, required=True)
    cite.save()
    client.force_login(reader)
    page = client.get(reverse("dashboard:source", args=[source.pk]))
    body = page.content.decode()
    assert source.sha256 in body
    paragraphs = page.context["paragraphs"]
    assert [p.number for p in paragraphs] == [1, 2]
    marked = [piece.text for p in paragraphs for piece in p.pieces if piece.citations]
    assert marked == ["$750 billion through 2028"]
    link = reverse("dashboard:commitment", args=[commitment.pk]) + f"#citation-{cite.pk}"
    assert f'<mark id="cite-{cite.pk}"><a href="{link}"' in body
    # The commitment page links back to the span.
    detail = client.get(reverse("dashboard:commitment", args=[commitment.pk])).content.decode()
    assert reverse("dashboard:source", args=[source.pk]) + f"#cite-{cite.pk}" in detail
    # Every character of the text is on the page, once, in order.
    assert "".join(piece.text for p in paragraphs for piece in p.pieces) == STATEMENT.replace(
        "\n\n", ""
    )


def test_overlapping_spans_share_their_common_piece(editor):
    from dashboard.sources import source_paragraphs

    a = Citation(pk=1, start=4, end=12)
    b = Citation(pk=2, start=8, end=20)
    (paragraph,) = source_paragraphs("The EU will buy LNG and oil.", [a, b])
    assert [(p.text, [c.pk for c in p.citations]) for p in paragraph.pieces] == [
        ("The ", []), ("EU w", [1]), ("ill ", [1, 2]), ("buy LNG ", [2]), ("and oil.", []),
    ]


@pytest.mark.parametrize(
    ("kind", "upload", "content_type"),
    [
        ("pdf", "PDF", "application/pdf"),
        ("html", PAGE.encode(), "text/plain; charset=utf-8"),
    ],
)
def test_the_original_downloads_as_an_attachment_no_browser_runs(
    client, reader, editor, kind, upload, content_type
):
    data = _pdf(STATEMENT) if upload == "PDF" else upload
    source = svc.source_create(user=editor, upload=data, upload_name=f"<b>x</b>.{kind}", **FIELDS)
    client.force_login(reader)
    response = client.get(reverse("dashboard:source_original", args=[source.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == data
    if kind == "html":
        assert ".txt" in response["Content-Disposition"]


def test_a_pasted_text_downloads_as_text(client, reader, editor):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    client.force_login(reader)
    response = client.get(reverse("dashboard:source_original", args=[source.pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == STATEMENT
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_navigation_links_to_the_sources(client, reader):
    client.force_login(reader)
    body = client.get(reverse("dashboard:overview")).content.decode()
    assert f'href="{reverse("dashboard:sources")}"' in body


# Evidence without leaving the page ----------------------------------------------------------

from commitments.choices import Status  # noqa: E402
from commitments.models import Assessment, ProgressUpdate  # noqa: E402

NEW_SOURCE = {f"new_source_{name}": value for name, value in FIELDS.items()}


def _record(client, commitment, **fields):
    return client.post(reverse("dashboard:commitment", args=[commitment.pk]),
                       {"status": "fulfilled", "occurred_on": "2026-01-10", **fields})


def test_a_status_change_adds_its_new_source_citation_and_update_together(
    client, writer, make_commitment
):
    commitment = make_commitment()
    client.force_login(writer)
    response = _record(client, commitment, **NEW_SOURCE, new_source_text=STATEMENT,
                       evidence_quote="15 percent,  effective September 1, 2025")
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.text == STATEMENT and source.key.startswith("joint-statement")
    update = ProgressUpdate.objects.get()
    cite = update.evidence
    assert cite.source == source and cite.commitment == commitment
    # The quote typed with other spaces is the text's own characters at its span.
    assert STATEMENT[cite.start:cite.end] == cite.quote == "15 percent, effective September 1, 2025"
    commitment.refresh_from_db()
    assert commitment.status == Status.FULFILLED


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        # The new source has no copy: nothing is written, not even the update.
        ({**NEW_SOURCE, "evidence_quote": "x"}, "new_source_text", "Paste the source's text"),
        # The source is good but the change is refused: the source is not kept either.
        ({**NEW_SOURCE, "new_source_text": STATEMENT, "evidence_quote": "15 percent",
          "occurred_on": "2099-01-01"}, "occurred_on", "future"),
        # The quote is not in the new source's text.
        ({**NEW_SOURCE, "new_source_text": STATEMENT, "evidence_quote": "20 percent"},
         "evidence_quote", "not in the archived text"),
        # A new source and an existing one at once.
        ({**NEW_SOURCE, "new_source_text": STATEMENT, "evidence_quote": "15 percent",
          "evidence_source": "EXISTING"}, "evidence_source", "not both"),
    ],
)
def test_a_refused_change_keeps_no_new_source(
    client, writer, editor, make_commitment, tmp_path, fields, field, reason
):
    existing = svc.source_create(user=editor, key="existing", text="Other text.", **FIELDS)
    commitment = make_commitment()
    client.force_login(writer)
    if fields.get("evidence_source") == "EXISTING":
        fields = {**fields, "evidence_source": existing.pk}
    response = _record(client, commitment, **fields)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert reason in " ".join(errors.get(field, [])), errors
    assert list(Source.objects.all()) == [existing]
    assert not Citation.objects.exists() and not ProgressUpdate.objects.exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


def test_an_editor_picks_a_paragraph_of_an_existing_source(client, writer, editor, make_commitment):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    commitment = make_commitment()
    client.force_login(writer)
    url = reverse("dashboard:commitment", args=[commitment.pk])
    # "Show its text": the page comes back with the source's paragraphs to pick from.
    shown = client.post(url, {"status": "fulfilled", "evidence_source": source.pk,
                              "show_source": "1"})
    assert shown.status_code == 200
    assert [n for n, _text in shown.context["form"].source_paragraphs()] == [1, 2]
    assert 'name="evidence_paragraph" value="2"' in shown.content.decode()
    response = _record(client, commitment, evidence_source=source.pk, evidence_paragraph="2")
    assert response.status_code == 302
    cite = ProgressUpdate.objects.get().evidence
    assert cite.quote == STATEMENT.split("\n\n")[1]
    assert (cite.start, cite.end) == (STATEMENT.index(cite.quote), len(STATEMENT))
    assert cite.locator == "¶ 2"


def test_the_workbench_the_source_page_and_the_evidence_form_number_paragraphs_alike(
    client, writer, editor, make_commitment
):
    """One rule (commitments.passages): a text whose paragraphs are single lines (no blank
    line between them) has three paragraphs on every page, not one on some and three on
    others, so "¶ 2" names the same words everywhere."""
    from commitments import passages

    text = "The EU will buy energy.\nA review within 90 days.\nTariffs at 15 percent."
    source = svc.source_create(user=editor, text=text, **FIELDS)
    second = "A review within 90 days."
    start = text.index(second)
    assert passages.locator(text, start, start + len(second)) == "¶ 2"
    client.force_login(writer)
    page = client.get(reverse("dashboard:source", args=[source.pk])).content.decode()
    assert 'id="p3"' in page and 'id="p4"' not in page
    assert f'<li id="p2" value="2">{second}</li>' in page
    commitment = make_commitment()
    shown = _record(client, commitment, evidence_source=source.pk, evidence_quote="",
                    show_source="1")
    assert shown.context["form"].source_paragraphs()[1] == (2, second)
    response = _record(client, commitment, evidence_source=source.pk, evidence_paragraph="2")
    assert response.status_code == 302
    cite = ProgressUpdate.objects.get().evidence
    assert (cite.quote, cite.start, cite.locator) == (second, start, "¶ 2")
def test_showing_a_sources_text_posts_keeps_what_was_typed_and_saves_nothing(
    client, writer, editor, make_commitment
):
    """The note, the status and the CSRF token never travel in an address (nor its logs)."""
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    commitment = make_commitment()
    client.force_login(writer)
    url = reverse("dashboard:commitment", args=[commitment.pk])
    page = client.get(url).content.decode()
    button = re.search(r'<button[^>]*>Show its text to pick a passage', page).group(0)
    assert 'name="show_source"' in button and 'formmethod="get"' not in button
    assert 'method="get"' not in page.split('id="record-h"')[-1].split("</form>")[0]
    shown = _record(client, commitment, evidence_source=source.pk, note="Tariffs cut on time.",
                    evidence_quote="", show_source="1")
    html = shown.content.decode()
    assert shown.status_code == 200
    assert "Tariffs cut on time." in html and 'value="fulfilled" selected' in html
    assert 'name="evidence_paragraph" value="2"' in html
    assert "This field is required" not in html
    assert not ProgressUpdate.objects.exists() and not Citation.objects.exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED
    # The rating form's button does the same on the rating page.
    rate = reverse("dashboard:commitment_rate", args=[commitment.pk])
    shown = client.post(rate, {"rating-party": commitment.obligor_id, "rating-rating": "kept",
                               "rating-justification": "Bought.", "show_source": "1",
                               "rating-evidence_source": source.pk})
    assert shown.status_code == 200
    assert "Bought." in shown.content.decode()
    assert [n for n, _text in shown.context["form"].source_paragraphs()] == [1, 2]
    assert not Assessment.objects.exists()


def test_a_paragraph_beyond_the_text_is_refused(client, writer, editor, make_commitment):
    source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
    commitment = make_commitment()
    client.force_login(writer)
    response = _record(client, commitment, evidence_source=source.pk, evidence_paragraph="9")
    assert response.status_code == 400
    assert "no paragraph 9" in " ".join(response.context["form"].errors["evidence_paragraph"])
    assert not ProgressUpdate.objects.exists() and not Citation.objects.exists()


def test_a_rating_adds_its_new_source_from_an_uploaded_page(client, writer, make_commitment):
    commitment = make_commitment()
    client.force_login(writer)
    page = SimpleUploadedFile("declaration.html", PAGE.encode())
    response = client.post(
        reverse("dashboard:commitment_rate", args=[commitment.pk]),
        {"rating-party": commitment.obligor_id, "rating-rating": "kept",
         "rating-assessed_on": "2026-01-10", "rating-justification": "Bought.",
         "rating-evidence_quote": "750 milliards de dollars",
         **{f"rating-{k}": v for k, v in NEW_SOURCE.items()}, "rating-new_source_language": "fr",
         "rating-new_source_original": page},
    )
    assert response.status_code == 302, response.context["form"].errors
    assessment = Assessment.objects.get()
    assert assessment.evidence.source.content_type == "text/html"
    assert assessment.evidence.start is not None
