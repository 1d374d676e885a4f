"""Sources kept as evidence: the archived copy's text, original, hash and the citations' spans."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfWriter
from weasyprint import HTML

from commitments import passages
from commitments.models import Citation, Source
from commitments.services import sources as svc

FIELDS: dict[str, Any] = {
    "key": "eu-us-statement",
    "title": "Joint Statement on a United States–European Union framework",
    "publisher": "European Commission",
    "language": "en",
    "published_on": dt.date(2025, 8, 21),
    "kind": "official",
}
STATEMENT = (
    "The European Union intends to procure U.S. liquefied natural gas, oil, and nuclear "
    "energy products with an expected offtake valued at $750 billion through 2028.\n\n"
    "The United States commits to apply the higher of either the U.S. MFN tariff rate or "
    "15 percent, effective September 1, 2025."
)
PAGE = (
    "<!DOCTYPE html><html lang='fr'><head><title>Déclaration</title></head><body>"
    "<nav><a href='/'>Accueil</a> | <a href='/presse'>Presse</a></nav>"
    "<article><h1>Déclaration commune UE–États-Unis</h1>"
    "<p>L’Union européenne a l’intention d’acheter du gaz naturel liquéfié américain pour "
    "une valeur de 750 milliards de dollars jusqu’en 2028.</p>"
    "<p>Les deux parties procéderont à un réexamen dans les 90 jours.</p></article>"
    "<footer>© Commission européenne — mentions légales</footer></body></html>"
)


def _pdf(text: str) -> bytes:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
    return HTML(string=f"<html><body>{paragraphs}</body></html>").write_pdf()


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.django_db
class TestSourceCreate:
    def test_pasted_text_is_kept_with_its_hash_and_day(self, editor):
        source = svc.source_create(user=editor, text=f"  {STATEMENT}\r\n", **FIELDS)
        source.refresh_from_db()
        assert source.text == STATEMENT
        assert source.content_type == "text/plain"
        assert source.sha256 == hashlib.sha256(STATEMENT.encode()).hexdigest()
        assert source.retrieved_on is not None
        assert not source.original
        assert source.history.first().history_user == editor

    def test_pdf_is_read_stored_under_a_generated_name_and_hashed(self, editor, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        data = _pdf(STATEMENT)
        source = svc.source_create(
            user=editor,
            upload=data,
            upload_name="../../etc/statement.pdf.exe",
            retrieved_on=dt.date(2025, 8, 22),
            **FIELDS,
        )
        source.refresh_from_db()
        assert "$750 billion through 2028" in " ".join(source.text.split())
        assert source.content_type == "application/pdf"
        assert source.sha256 == hashlib.sha256(data).hexdigest()
        assert source.retrieved_on == dt.date(2025, 8, 22)
        assert source.original_name == "../../etc/statement.pdf.exe"
        assert source.original.name.endswith(".pdf")
        assert "statement" not in source.original.name and ".." not in source.original.name
        with source.original.open("rb") as stored:
            assert stored.read() == data

    def test_saved_page_keeps_the_article_not_the_menus(self, editor, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        source = svc.source_create(
            user=editor,
            upload=PAGE.encode(),
            upload_name="declaration.html",
            url="https://example.org/declaration",
            **{**FIELDS, "language": "fr"},
        )
        assert "750 milliards de dollars jusqu’en 2028" in source.text
        assert "réexamen dans les 90 jours" in source.text
        assert "Accueil" not in source.text and "mentions légales" not in source.text
        assert source.content_type == "text/html"
        assert source.original.name.endswith(".html")

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", "empty"),
            (random.Random(7).randbytes(4096), "not a PDF"),
            (b"%PDF-1.7\n garbage that is no PDF at all", "cannot be read"),
            (_blank_pdf(), "no text layer"),
            (b"<html><body><script>alert(1)</script></body></html>", "No readable text"),
        ],
        ids=["empty", "binary", "broken-pdf", "scanned-pdf", "empty-page"],
    )
    def test_bad_files_are_refused_and_nothing_is_written(
        self, editor, settings, tmp_path, data, message
    ):
        settings.MEDIA_ROOT = tmp_path
        with pytest.raises(ValidationError) as caught:
            svc.source_create(user=editor, upload=data, upload_name="x.pdf", **FIELDS)
        assert message in " ".join(caught.value.message_dict["original"])
        assert not Source.objects.exists()
        assert not any(tmp_path.rglob("*.*"))

    def test_a_file_over_the_limit_is_refused_by_its_size(self, editor, settings):
        settings.TRACKER_SOURCE_MAX_BYTES = 1024 * 1024
        with pytest.raises(ValidationError) as caught:
            svc.source_create(user=editor, upload=b"a" * (5 * 1024 * 1024), **FIELDS)
        assert caught.value.message_dict["original"] == [
            "The file is larger than 1 MB, the largest accepted."
        ]
        assert not Source.objects.exists()

    def test_an_upload_read_up_to_the_limit_is_not_said_to_be_the_limit(self, editor, settings):
        """The upload is read one byte past the limit: its size is unknown, not the limit's."""
        settings.TRACKER_SOURCE_MAX_BYTES = 20 * 1024 * 1024
        upload = io.BytesIO(b"%PDF-1.7\n" + b"0" * (25 * 1024 * 1024))
        with pytest.raises(ValidationError) as caught:
            svc.archive_file(svc.upload_read(upload))
        assert caught.value.message_dict["original"] == [
            "The file is larger than 20 MB, the largest accepted."
        ]

    def test_pdf_paragraphs_are_kept_apart_and_quotes_span_its_line_breaks(
        self, editor, settings, tmp_path
    ):
        """pypdf gives layout lines with no blank line between paragraphs; the stored text
        has one blank line between paragraphs and a paragraph's lines joined."""
        settings.MEDIA_ROOT = tmp_path
        paragraphs = [
            "The European Union intends to procure U.S. liquefied natural gas, oil, and "
            "nuclear energy products with an expected offtake valued at $750 billion "
            "through 2028, as both sides agreed in their joint statement.",
            "The United States commits to apply the higher of either the U.S. MFN tariff "
            "rate or 15 percent, effective September 1, 2025.",
            "1. A review within 90 days.",
            "• The purchase of AI chips for the European Union's computing centres.",
        ]
        source = svc.source_create(
            user=editor, upload=_pdf("\n\n".join(paragraphs)), upload_name="s.pdf", **FIELDS
        )
        source.refresh_from_db()
        assert source.text == "\n\n".join(paragraphs)
        found = [source.text[p.start : p.end] for p in passages.paragraphs(source.text)]
        assert found == paragraphs
        start, end = _found(source.text, "$750 billion through\n2028")
        assert source.text[start:end] == "$750 billion through 2028"


class TestPdfPageParagraphs:
    def test_a_dash_joining_words_across_lines_is_kept_without_a_space(self):
        page = (
            "The EU–\nUS Joint Statement of 21 August 2025 sets a ceiling on the tariffs that\n"
            "both sides will apply, and a review of the whole within ninety days.\n"
            "It is a well-\nknown text."
        )
        assert svc.pdf_page_paragraphs(page) == (
            "The EU–US Joint Statement of 21 August 2025 sets a ceiling on the tariffs that "
            "both sides will apply, and a review of the whole within ninety days. "
            "It is a well-known text."
        )

    def test_list_items_and_short_sentence_ends_start_paragraphs(self):
        page = (
            "The parties agree on the following commitments, each of them with its date\n"
            "and its own review by the ministers of both sides:\n"
            "(a) a tariff ceiling of 15 percent;\n"
            "(b) purchases of energy through 2028.\n"
            "The ministers will meet again before the end of the year, and they will\n"
            "report to the leaders.\n"
        )
        assert svc.pdf_page_paragraphs(page).split("\n\n") == [
            "The parties agree on the following commitments, each of them with its date "
            "and its own review by the ministers of both sides:",
            "(a) a tariff ceiling of 15 percent;",
            "(b) purchases of energy through 2028.",
            "The ministers will meet again before the end of the year, and they will "
            "report to the leaders.",
        ]

    def test_an_empty_page_gives_nothing(self):
        assert svc.pdf_page_paragraphs(" \n\n") == ""

    def test_the_same_text_or_file_kept_twice_is_refused_naming_the_source(
        self, editor, settings, tmp_path
    ):
        settings.MEDIA_ROOT = tmp_path
        kept = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
        with pytest.raises(ValidationError) as caught:
            svc.source_create(
                user=editor, text=f"{STATEMENT}\r\n", **{**FIELDS, "key": "again", "title": "Again"}
            )
        assert caught.value.message_dict["text"] == [
            f"This document is already kept as “{kept.title}” (eu-us-statement) — use that source."
        ]
        data = _pdf(STATEMENT)
        svc.source_create(user=editor, upload=data, upload_name="a.pdf", **{**FIELDS, "key": "pdf"})
        with pytest.raises(ValidationError) as caught:
            svc.source_create(user=editor, upload=data, **{**FIELDS, "key": "b"})
        assert "already kept as" in caught.value.message_dict["original"][0]
        assert sorted(Source.objects.values_list("key", flat=True)) == ["eu-us-statement", "pdf"]
        assert len(list(tmp_path.rglob("*.pdf"))) == 1

    def test_a_pasted_text_finds_the_source_it_made(self, editor):
        kept = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
        assert svc.source_by_copy(f"  {STATEMENT}\r\n") == kept
        assert svc.source_by_copy("Another text.") is None
        assert svc.source_by_copy("  ") is None

    def test_sources_of_one_title_are_told_apart_by_their_key(self, editor):
        one = svc.source_create(user=editor, text="One copy.", **FIELDS)
        other = svc.source_create(user=editor, text="Another copy.", **{**FIELDS, "key": "b"})
        assert str(one) != str(other)
        assert str(other) == f"{FIELDS['title']} (European Commission, 2025-08-21) — b"

    def test_text_and_file_together_are_refused(self, editor):
        with pytest.raises(ValidationError) as caught:
            svc.source_create(user=editor, text=STATEMENT, upload=b"text", **FIELDS)
        assert "not both" in caught.value.message_dict["text"][0]
        assert not Source.objects.exists()

    def test_a_bad_field_stores_no_file(self, editor, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        with pytest.raises(ValidationError) as caught:
            svc.source_create(
                user=editor, upload=_pdf(STATEMENT), **{**FIELDS, "language": "not a tag!"}
            )
        assert "language" in caught.value.message_dict
        assert not Source.objects.exists()
        assert not any(tmp_path.rglob("*.*"))


class TestQuoteSpan:
    def test_verbatim_quote(self):
        start, end = _found(STATEMENT, "$750 billion through 2028")
        assert STATEMENT[start:end] == "$750 billion through 2028"

    def test_quote_typed_with_other_spaces_points_at_the_texts_characters(self):
        text = "valued at $750\u00a0billion\nthrough 2028."
        start, end = _found(text, "$750 billion through  2028")
        assert text[start:end] == "$750\u00a0billion\nthrough 2028"

    def test_quote_not_in_the_text(self):
        assert svc.quote_span(STATEMENT, "$600 billion of investment") is None
        assert svc.quote_span("", "anything") is None
        assert svc.quote_span("l’Union", "l’Unions") is None

    def test_a_pdf_like_decomposed_text_is_stored_composed_and_holds_a_composed_quote(self):
        decomposed = "L’Union europe\u0301enne re\u0301examinera l’accord."
        stored = svc.normalise_text(decomposed)
        assert stored == "L’Union européenne réexaminera l’accord."
        assert len(stored) == len(decomposed) - 2
        start, end = _found(stored, "européenne réexaminera")
        assert stored[start:end] == "européenne réexaminera"
        # A quote pasted decomposed is composed before it is looked for.
        start, end = _found(stored, "europe\u0301enne")
        assert stored[start:end] == "européenne"

    @pytest.mark.parametrize(
        ("text", "quote", "own"),
        [
            ("Selon l’Union, rien.", "l'Union", "l’Union"),
            ("Selon l'Union, rien.", "l’Union", "l'Union"),
            ("Selon lʼUnion, rien.", "l’Union", "lʼUnion"),
            ("Il a dit « nous paierons » hier.", 'dit "nous paierons" hier',
             "dit « nous paierons » hier"),
            ("Il a dit «\u202fnous paierons\u202f» hier.", "dit “nous paierons” hier",
             "dit «\u202fnous paierons\u202f» hier"),
            ('He said "we will pay" today.', "said « we will pay » today",
             'said "we will pay" today'),
            ("He said “we will pay”.", '"we will pay"', "“we will pay”"),
        ],
    )
    def test_apostrophes_and_quote_marks_match_and_the_span_is_the_texts_own(
        self, text, quote, own
    ):
        start, end = _found(text, quote)
        assert text[start:end] == own

    def test_quote_marks_do_not_match_other_characters(self):
        assert svc.quote_span("He said 'we will pay'.", 'said "we will pay"') is None
        assert svc.quote_span("l-Union", "l'Union") is None


@pytest.mark.django_db
class TestCitationSpan:
    def test_span_must_be_the_quote_in_the_archived_text(self, editor, make_commitment):
        source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
        commitment = make_commitment()
        start = STATEMENT.index("15 percent")
        good = Citation(
            source=source, commitment=commitment, quote="15 percent", start=start, end=start + 10
        )
        good.full_clean()
        bad = Citation(
            source=source, commitment=commitment, quote="16 percent", start=start, end=start + 10
        )
        with pytest.raises(ValidationError) as caught:
            bad.full_clean()
        assert "not the source's text at characters" in caught.value.message_dict["quote"][0]
        outside = Citation(
            source=source, commitment=commitment, quote="x", start=5, end=len(STATEMENT) + 9
        )
        with pytest.raises(ValidationError) as caught:
            outside.full_clean()
        assert "ends after the source's text" in caught.value.message_dict["end"][0]

    def test_citation_place_fills_the_span_with_the_texts_own_characters(
        self, editor, make_commitment
    ):
        text = "Selon l’Union, la révision aura lieu\ndans les 90 jours."
        source = svc.source_create(user=editor, text=text, **FIELDS)
        citation = Citation(source=source, commitment=make_commitment(),
                            quote="l'Union, la révision aura lieu dans les 90 jours")
        svc.citation_place(citation, required=True)
        assert citation.quote == "l’Union, la révision aura lieu\ndans les 90 jours"
        assert text[citation.start:citation.end] == citation.quote
        citation.full_clean()

    @pytest.mark.parametrize("required", [True, False])
    def test_citation_place_with_a_quote_not_in_the_text(self, editor, make_commitment,
                                                         required):
        source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
        citation = Citation(source=source, commitment=make_commitment(), quote="A paraphrase.")
        if required:
            with pytest.raises(ValidationError) as caught:
                svc.citation_place(citation, required=True, field="evidence_quote")
            assert "is not in the archived text of" in (
                caught.value.message_dict["evidence_quote"][0]
            )
        else:
            svc.citation_place(citation, required=False)
        assert citation.start is None and citation.end is None
        assert citation.quote == "A paraphrase."

    def test_citation_place_of_a_source_with_no_text_refuses_nothing(
        self, editor, make_commitment
    ):
        source = svc.source_create(user=editor, **FIELDS)
        citation = Citation(source=source, commitment=make_commitment(), quote="Anything.")
        svc.citation_place(citation, required=True)
        assert citation.start is None and citation.quote == "Anything."

    def test_citation_place_leaves_a_given_span_to_the_models_check(
        self, editor, make_commitment
    ):
        source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
        citation = Citation(source=source, commitment=make_commitment(), quote="15 percent",
                            start=0, end=10)
        svc.citation_place(citation, required=True)
        assert (citation.start, citation.end) == (0, 10)
        with pytest.raises(ValidationError):
            citation.full_clean()

    def test_evidence_of_a_status_change_points_at_its_span(self, editor, make_commitment):
        from commitments.services.commitments import evidence_resolve

        source = svc.source_create(user=editor, text=STATEMENT, **FIELDS)
        commitment = make_commitment()
        citation = evidence_resolve(
            commitment=commitment,
            user=editor,
            evidence=None,
            source=source,
            quote="15  percent, effective September 1, 2025",
        )
        citation.refresh_from_db()
        assert source.text[citation.start : citation.end] == citation.quote
        assert citation.quote == "15 percent, effective September 1, 2025"


@pytest.mark.django_db
def test_a_refused_change_leaves_no_uploaded_original_behind(
    editor, make_commitment, settings, tmp_path
):
    """The new source's file is written before the change is refused (its quote is not in
    the file): the rows roll back and the file is deleted with them."""
    from commitments.models import ProgressUpdate
    from commitments.services.commitments import commitment_change_status

    settings.MEDIA_ROOT = tmp_path
    commitment = make_commitment()
    with pytest.raises(ValidationError):
        commitment_change_status(
            commitment=commitment,
            status="in_progress",
            user=editor,
            evidence_quote="a sentence the file does not hold",
            evidence_new_source={
                **FIELDS,
                "upload": _pdf(STATEMENT),
                "upload_name": "statement.pdf",
            },
        )
    assert not Source.objects.exists()
    assert not ProgressUpdate.objects.exists()
    assert not any(tmp_path.rglob("*.pdf"))


@pytest.mark.django_db
def test_originals_of_a_successful_change_are_kept(editor, make_commitment, settings, tmp_path):
    from commitments.services.commitments import commitment_change_status

    settings.MEDIA_ROOT = tmp_path
    commitment = make_commitment()
    commitment_change_status(
        commitment=commitment,
        status="in_progress",
        user=editor,
        evidence_quote="15 percent",
        evidence_new_source={**FIELDS, "upload": _pdf(STATEMENT), "upload_name": "s.pdf"},
    )
    source = Source.objects.get()
    assert source.original and (tmp_path / source.original.name).exists()


def _found(text: str, quote: str) -> tuple[int, int]:
    """The span ``quote_span`` gives, which these tests expect to be there."""
    span = svc.quote_span(text, quote)
    assert span is not None, quote
    return span
