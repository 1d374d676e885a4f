"""Sources kept as evidence: the one place an archived copy is read, checked and stored.

An editor gives a source's text in one of three ways: pasted, as an uploaded PDF, or as an
uploaded HTML file (a page they saved, with its URL). :func:`source_create` reads the text
out of the original (pypdf for PDF, trafilatura for HTML), stores the original under a
generated name with the SHA-256 of its bytes and the day it was retrieved, and saves the
source, in one transaction: a file that cannot be read writes nothing. The type of an upload
is judged on its bytes, never on its name or the type the browser claims.

:func:`quote_span` finds where a quote stands in a source's text, so a citation can point at
the span and its quote stays checkable against the archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.choices import ArchiveType
from commitments.models import Citation, Source
from commitments.services.deadlines import User, attach_user
from commitments.services.keys import key_from_title

logger = logging.getLogger(__name__)

#: The extension each kind of original is stored under; never the uploader's own.
EXTENSIONS = {ArchiveType.PDF: "pdf", ArchiveType.HTML: "html", ArchiveType.TEXT: "txt"}
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Archive:
    """An original read and checked: its kind, its text and the SHA-256 of its bytes."""

    kind: ArchiveType
    text: str
    sha256: str
    data: bytes


def max_bytes() -> int:
    return int(settings.TRACKER_SOURCE_MAX_BYTES)


def max_chars() -> int:
    return int(settings.TRACKER_SOURCE_MAX_CHARS)


def normalise_text(text: str) -> str:
    """Return ``text`` in Unicode NFC, with one kind of line end, no control characters and
    no outer blanks.

    Citations count characters in the stored text, so it is normalised once, before storing.
    NFC because a PDF often gives "é" as "e" and a combining accent, while a quote typed or
    pasted from a page is composed: both must count, and compare, alike.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def archive_text(text: str, *, field: str = "text") -> Archive:
    """Return the archive of pasted ``text``; its hash is over its UTF-8 bytes."""
    text = normalise_text(text)
    if not text:
        raise ValidationError({field: _("Paste the source's text, or upload its file.")})
    _length_check(text, field)
    data = text.encode("utf-8")
    return Archive(ArchiveType.TEXT, text, hashlib.sha256(data).hexdigest(), data)


def archive_file(data: bytes, *, field: str = "original") -> Archive:
    """Return the archive of an uploaded original: a PDF, an HTML page or a UTF-8 text file.

    Raise ``ValidationError`` on ``field`` for an empty or too large file, a type other than
    these three (judged on the bytes), a PDF that cannot be read or has no text layer, and a
    page with no readable text.
    """
    if not data:
        raise ValidationError({field: _("The file is empty.")})
    if len(data) > max_bytes():
        raise ValidationError(
            {
                # Uploads are read one byte past the limit (upload_read): their size is
                # unknown, only that it is over the limit.
                field: _("The file is larger than %(limit)s, the largest accepted.")
                % {"limit": _size_in_words(max_bytes())}
            }
        )
    kind = sniff(data)
    if kind is None:
        raise ValidationError(
            {field: _("This file is not a PDF, a web page (HTML) or a text file.")}
        )
    if kind == ArchiveType.PDF:
        text = _pdf_text(data, field)
    elif kind == ArchiveType.HTML:
        text = _html_text(data, field)
    else:
        text = normalise_text(data.decode("utf-8-sig"))
        if not text:
            raise ValidationError({field: _("The file holds no text.")})
    _length_check(text, field)
    return Archive(kind, text, hashlib.sha256(data).hexdigest(), data)


def upload_read(upload: Any) -> bytes:
    """Return an uploaded file's bytes, at most one past the size limit.

    A file over the limit is then refused by :func:`archive_file` with its reason, without
    reading the rest of it into memory.
    """
    upload.seek(0)
    return bytes(upload.read(max_bytes() + 1))


def sniff(data: bytes) -> ArchiveType | None:
    """Return the kind of original ``data`` is, from its bytes; ``None`` for anything else."""
    if data.startswith(b"%PDF-"):
        return ArchiveType.PDF
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return ArchiveType.HTML
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    # A text file has letters and line ends, not a run of control bytes.
    controls = len(_CONTROL.findall(text))
    return ArchiveType.TEXT if controls <= len(text) // 100 else None


def _pdf_text(data: bytes, field: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(
                {field: _("This PDF is protected by a password; upload an unprotected copy.")}
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except ValidationError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        logger.info("source PDF refused: %s", exc)
        raise ValidationError(
            {field: _("This PDF cannot be read (the file is damaged or incomplete).")}
        ) from exc
    text = normalise_text(
        "\n\n".join(p for p in (pdf_page_paragraphs(page) for page in pages) if p)
    )
    if not text:
        raise ValidationError(
            {
                field: _(
                    "This PDF has no text layer (it is probably a scanned image): "
                    "paste its text instead, or upload a PDF with text."
                )
            }
        )
    return text


#: A line ending a sentence: its last character (closing quotes and brackets count).
_SENTENCE_END = tuple('.!?:;»"”)')
#: A line starting a list item: a bullet, "1." / "1)", "(a)" or "a)".
_ITEM_START = re.compile(r"^(?:[•·▪‣◦*\-–—]\s|\(?\d{1,3}[.)]\s|\(?[A-Za-z]\)\s|\([ivxIVX]+\)\s)")
#: A line ending in a dash that joins two words ("EU–" then "US"): joined with no space.
_JOINING_DASH = re.compile(r"\w[-‐‑–—]$")
#: A line shorter than this share of the page's full lines may end a paragraph.
_SHORT_LINE = 0.85


def pdf_page_paragraphs(page: str) -> str:
    """Return a PDF page's text as paragraphs separated by one blank line.

    pypdf gives a page's layout lines and no blank lines between paragraphs. A page's lines
    are joined with a space (none after a dash joining two words, which is kept); a
    paragraph ends after a line that ends a sentence and is noticeably shorter than the
    page's full lines (its upper quartile of line lengths: short last lines and list items
    would drag a median down), and before a line that starts a list item ("1.", "•", "(a)"). A blank
    line in the extracted text ends a paragraph too.
    """
    lines = [line.strip() for line in page.splitlines()]
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return ""
    full = lengths[len(lengths) * 3 // 4]
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line or (current and _ITEM_START.match(line)):
            if current:
                paragraphs.append(current)
            current = ""
            if not line:
                continue
        if not current:
            current = line
        elif _JOINING_DASH.search(current):
            current += line
        else:
            current += " " + line
        if line.endswith(_SENTENCE_END) and len(line) < _SHORT_LINE * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


def _html_text(data: bytes, field: str) -> str:
    import trafilatura

    try:
        text = trafilatura.extract(
            data, include_comments=False, include_tables=True, favor_recall=True
        )
    except (ValueError, TypeError, RecursionError) as exc:
        logger.info("source page refused: %s", exc)
        text = None
    text = normalise_text(text or "")
    if not text:
        raise ValidationError({field: _("No readable text was found in this page.")})
    return text


def _length_check(text: str, field: str) -> None:
    if len(text) > max_chars():
        raise ValidationError(
            {
                field: _("The text is %(length)s characters long; the longest kept is %(limit)s.")
                % {"length": len(text), "limit": max_chars()}
            }
        )


def _size_in_words(size: int) -> str:
    """Return a size in megabytes ("20 MB"), or kilobytes under one megabyte ("1 KB")."""
    if size >= 1024 * 1024:
        return _("%(size)s MB") % {"size": _one_decimal(size / (1024 * 1024))}
    return _("%(size)s KB") % {"size": _one_decimal(size / 1024)}


def _one_decimal(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


#: The originals stored by the service call under way, to delete if it fails.
_stored_originals: ContextVar[list[tuple[Any, str]] | None] = ContextVar(
    "stored_originals", default=None
)


@contextmanager
def originals_discarded_on_error() -> Iterator[None]:
    """Delete the originals stored inside the block if it ends in an error.

    The files are written before the database transaction ends; a service that stores one
    and is then refused (a status change whose new source is saved but whose quote is not in
    it) rolls its rows back, and this removes the files they named, so a refusal leaves
    nothing behind. Used as a decorator on every service that may store an original; nested
    uses share the outermost one's list, which alone deletes.
    """
    if _stored_originals.get() is not None:
        yield
        return
    stored: list[tuple[Any, str]] = []
    token = _stored_originals.set(stored)
    try:
        yield
    except BaseException:
        for storage, name in stored:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not delete the refused original %s", name)
        raise
    finally:
        _stored_originals.reset(token)


@originals_discarded_on_error()
@transaction.atomic
def source_create(
    *,
    user: User,
    text: str = "",
    upload: bytes | None = None,
    upload_name: str = "",
    retrieved_on: dt.date | None = None,
    copy_required: bool = False,
    **fields: Any,
) -> Source:
    """Save a new source with its archived copy: ``text`` pasted, or ``upload``'s bytes.

    ``fields`` are the source's own (key, title, publisher, url, language, published_on,
    kind); a key left empty is made from the title (:func:`key_from_title`). Giving both a
    text and a file is refused (one would be lost). The copy is retrieved today unless
    ``retrieved_on`` says when the page was saved. ``copy_required`` refuses a source with
    neither text nor file (the interfaces where an editor adds one; older data may lack it).
    """
    if upload is not None and normalise_text(text):
        raise ValidationError({"text": _("Paste the text or upload a file, not both.")})
    archive = archive_file(upload, field="original") if upload is not None else None
    if archive is None and (normalise_text(text) or copy_required):
        archive = archive_text(text)
    if archive is not None:
        _duplicate_check(archive, field="original" if upload is not None else "text")
    if not fields.get("key"):
        # An editor may leave the key out: the one rule makes it from the title.
        fields["key"] = key_from_title(str(fields.get("title") or ""), Source)
    source = Source(**fields)
    source_archive_apply(source, archive, upload_name=upload_name, retrieved_on=retrieved_on)
    source.full_clean(exclude=["original"])
    source_original_store(source, archive, upload_name=upload_name)
    attach_user(source, user)
    source.save()
    return source


def _duplicate_check(archive: Archive, *, field: str) -> None:
    """Refuse a copy already kept: the same bytes make one source, cited from everywhere."""
    kept = Source.objects.filter(sha256=archive.sha256).only("key", "title").first()
    if kept is not None:
        raise ValidationError(
            {
                field: _(
                    "This document is already kept as “%(title)s” (%(key)s) — use that source."
                )
                % {"title": kept.title, "key": kept.key}
            }
        )


def source_by_copy(text: str) -> Source | None:
    """Return the source whose archived copy is this pasted ``text``, if one is kept.

    The text is normalised and hashed as :func:`archive_text` does, so the same text pasted
    again (other line ends, outer blanks) finds the source it made.
    """
    try:
        archive = archive_text(text)
    except ValidationError:
        return None
    return Source.objects.filter(sha256=archive.sha256).order_by("pk").first()


def source_archive_apply(
    source: Source,
    archive: Archive | None,
    *,
    upload_name: str = "",
    retrieved_on: dt.date | None = None,
) -> None:
    """Put ``archive``'s text, type, hash and day on ``source``; nothing is stored yet."""
    if archive is None:
        return
    source.text = archive.text
    source.content_type = archive.kind
    source.sha256 = archive.sha256
    source.retrieved_on = retrieved_on or timezone.localdate()
    source.original_name = (
        upload_name[:255] if archive.kind != ArchiveType.TEXT or upload_name else ""
    )


def source_original_store(
    source: Source, archive: Archive | None, *, upload_name: str = ""
) -> None:
    """Store an uploaded original in the storage under a generated name (the source unsaved).

    Called once the source has passed its checks, so a refused source leaves no file. The
    uploader's file name is kept apart (``original_name``), never used to store.
    """
    if archive is None or (archive.kind == ArchiveType.TEXT and not upload_name):
        return
    name = f"{uuid.uuid4().hex}.{EXTENSIONS[archive.kind]}"
    source.original.save(name, ContentFile(archive.data), save=False)
    stored = _stored_originals.get()
    if stored is not None:
        stored.append((source.original.storage, source.original.name))


#: Characters a quote may give differently from its source: apostrophes and quote marks.
_FOLDED = str.maketrans(
    {
        "\u2019": "'",  # ’
        "\u2018": "'",  # ‘
        "\u02bc": "'",  # ʼ
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
    }
)


def _folded(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Return ``text`` folded for matching, with each folded character's span in ``text``.

    Apostrophes and quote marks become one of each, a run of spaces or line ends becomes one
    space, and spaces beside a quote mark go (« Union » and "Union" compare alike).
    """
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for index, char in enumerate(text.translate(_FOLDED)):
        if char.isspace():
            if chars and chars[-1] == " ":
                spans[-1] = (spans[-1][0], index + 1)
                continue
            if chars and chars[-1] == '"':
                continue
            char = " "
        elif char == '"' and chars and chars[-1] == " ":
            chars.pop()
            spans.pop()
        chars.append(char)
        spans.append((index, index + 1))
    return "".join(chars), spans


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Return where ``quote`` stands in ``text`` as (start, end), or ``None`` if it is not there.

    The first verbatim occurrence wins. Otherwise the quote is matched in NFC, with
    apostrophes (' ’ ʼ) alike, quote marks (" “ ” « ») alike with or without the spaces inside
    them, and any run of spaces or line ends alike; the span is then the text's own
    characters, so that ``text[start:end]`` is what the citation stores as its quote.
    ``text`` is a stored source text, already in NFC (:func:`normalise_text`).
    """
    quote = unicodedata.normalize("NFC", quote or "").strip()
    if not quote or not text:
        return None
    index = text.find(quote)
    if index >= 0:
        return index, index + len(quote)
    folded_quote = _folded(quote)[0].strip()
    folded_text, spans = _folded(text)
    index = folded_text.find(folded_quote) if folded_quote else -1
    if index < 0:
        return None
    start, end = spans[index][0], spans[index + len(folded_quote) - 1][1]
    # A trailing space folded into the span would not be part of the quote.
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def citation_place(citation: Citation, *, required: bool, field: str = "quote") -> None:
    """Point ``citation`` at its quote's place in its source's archived text: the one rule.

    Where the quote is found (:func:`quote_span`), the citation gets its span and its quote
    becomes the text's own characters there. A citation given a span (an editor's selection)
    is left to :meth:`Citation.clean`, which refuses a span that is not its quote. Where the
    source has a text and the quote is not in it, ``required`` refuses it with an error on
    ``field``; otherwise the citation keeps no span. A source with no archived text has
    nothing to check a quote against: no span, no refusal.

    Each interface decides ``required`` once, in its docstring. All those that write a new
    quote pass ``True``: a source whose text is archived must hold the quote, so that any
    reader can check it; a paraphrase belongs in the translation, not in the quote.
    """
    if not citation.source_id:
        return
    if citation.start is not None or citation.end is not None:
        return
    text = citation.source.text
    span = quote_span(text, citation.quote)
    if span is None:
        citation.start = citation.end = None
        if required and text:
            raise ValidationError(
                {
                    field: _(
                        "This quote is not in the archived text of “%(source)s”; copy it from "
                        "the text as it stands there."
                    )
                    % {"source": citation.source.title}
                }
            )
        return
    citation.start, citation.end = span
    citation.quote = text[span[0] : span[1]]


#: The prefix of a new evidence source's fields, in the forms and in the services' errors.
NEW_SOURCE = "new_source_"


def evidence_source_create(*, user: User, fields: dict[str, Any]) -> Source:
    """Save the new source an evidence quote is taken from, with its archived copy.

    ``fields`` are :func:`source_create`'s arguments (a text or an upload is required). The
    caller's transaction holds it with the citation and the change it proves, so a refusal
    anywhere writes none of them. Errors are named ``new_source_<field>``.
    """
    try:
        return source_create(user=user, copy_required=True, **fields)
    except ValidationError as exc:
        raise ValidationError(
            {f"{NEW_SOURCE}{name}": errors for name, errors in exc.message_dict.items()}
        ) from exc
