"""Passages of a source's archived text: its numbered paragraphs, locators and titles. Pure.

A citation points at a span of ``Source.text``; the workbench shows that text in numbered
paragraphs and names a passage by its paragraph ("¶ 3"), the locator a reader checks it with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Paragraphs are separated by a blank line; a text with none is split at its line ends.
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_LINE_END = re.compile(r"\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s")
#: The longest title suggested: a title names a commitment, the quote carries the rest.
TITLE_WORDS = 14


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph: its number (from 1) and where it stands, ``text[start:end]``."""

    number: int
    start: int
    end: int


def paragraphs(text: str) -> list[Paragraph]:
    """Return the paragraphs of ``text`` in order, each with its span in ``text``."""
    separator = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE_END
    found: list[Paragraph] = []
    position = 0
    for match in [*separator.finditer(text), None]:
        end = match.start() if match else len(text)
        start = position
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            found.append(Paragraph(len(found) + 1, start, end))
        if match:
            position = match.end()
    return found


def paragraph_at(text: str, offset: int) -> int | None:
    """Return the number of the paragraph holding character ``offset`` (or the next one)."""
    for paragraph in paragraphs(text):
        if offset < paragraph.end:
            return paragraph.number
    return None


def locator(text: str, start: int, end: int) -> str:
    """Return the locator of ``text[start:end]``: "¶ 3", or "¶ 3–4" across paragraphs."""
    first = paragraph_at(text, start)
    last = paragraph_at(text, max(start, end - 1))
    if first is None:
        return ""
    if last is None or last == first:
        return f"¶ {first}"
    return f"¶ {first}–{last}"


def title_from_passage(passage: str) -> str:
    """Return a title suggested by a passage: its first sentence, cut to a few words.

    Only a suggestion, always shown editable: the editor names the commitment.
    """
    words = " ".join(passage.split())
    sentence = _SENTENCE_END.split(words, maxsplit=1)[0].rstrip(" .;:")
    parts = sentence.split(" ")
    if len(parts) > TITLE_WORDS:
        sentence = " ".join(parts[:TITLE_WORDS]).rstrip(",;:") + "…"
    return sentence[:1].upper() + sentence[1:]
