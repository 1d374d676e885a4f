"""The workbench's writes and proposals: an agreement's commitments entered from one source.

An editor works from one source's archived text: each passage they select becomes a draft
commitment with its citation (the quote, its span, its paragraph) and the parser's proposals.
:func:`workbench_save` writes the agreement (if new), every draft's commitment and citation
in one transaction, or nothing: every refusal is collected, per draft and field, and raised
together as :class:`EntryRefused`. :func:`deadline_preview` computes a draft's due date and
its explanation with the engine and the words every other page uses, before anything is saved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from commitments import deadlines, parsing, passages
from commitments.choices import AnchorKind, DeadlineKind, PrecisionChoice
from commitments.deadlines.text import date_in_words, explanation_in_words
from commitments.models import Agreement, Citation, Commitment, Party, Source
from commitments.places import time_zone_guess
from commitments.services.commitments import agreement_create, commitment_create
from commitments.services.deadlines import User, attach_user
from commitments.services.keys import key_base, key_from_title
from commitments.services.sources import citation_place

#: The citation's fields a draft carries beside the commitment's.
CITATION_FIELDS = ("quote", "start", "end", "locator", "translation", "translation_language")
#: Span errors are shown at the quote, the one part of the citation the editor sees.
_SPAN_FIELDS = {"start": "quote", "end": "quote"}


@dataclass
class Draft:
    """One commitment to write: its input fields, its other obligors and its citation."""

    commitment: dict[str, Any]
    citation: dict[str, Any]
    co_obligors: Sequence[Party] = ()


@dataclass
class EntryRefused(Exception):
    """What kept a workbench entry from being saved: errors by field, per part.

    ``agreement`` holds the new agreement's errors; ``drafts`` each refused draft's, by its
    position in the list given.
    """

    agreement: dict[str, list[str]] = field(default_factory=dict)
    drafts: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"agreement: {self.agreement}; drafts: {self.drafts}"


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in error.messages]}


@transaction.atomic
def workbench_save(
    *,
    user: User,
    source: Source,
    drafts: Sequence[Draft],
    agreement: Agreement | None = None,
    agreement_data: Mapping[str, Any] | None = None,
    parties: Iterable[Party] = (),
) -> Agreement:
    """Write the agreement (``agreement``, or a new one from ``agreement_data`` and
    ``parties``), then each draft's commitment and its citation of ``source``.

    All or nothing: raise :class:`EntryRefused` with every error found (each draft is tried,
    so the editor sees them all at once), and nothing stays written. A draft without a key
    gets one from its title; a new agreement without a time zone gets the one its place or
    parties suggest.
    """
    refused = EntryRefused()
    if not drafts:
        refused.agreement[NON_FIELD_ERRORS] = [_("Select a passage to add a commitment first.")]
        raise refused
    if agreement is None:
        agreement = _agreement_new(user=user, data=dict(agreement_data or {}), parties=parties)
    for index, draft in enumerate(drafts):
        try:
            with transaction.atomic():
                _draft_save(user=user, source=source, agreement=agreement, draft=draft)
        except ValidationError as exc:
            errors: dict[str, list[str]] = {}
            for name, messages in _messages(exc).items():
                errors.setdefault(_SPAN_FIELDS.get(name, name), []).extend(messages)
            refused.drafts[index] = errors
    if refused.drafts:
        raise refused
    return agreement


def _agreement_new(*, user: User, data: dict[str, Any], parties: Iterable[Party]) -> Agreement:
    parties = list(parties)
    if not data.get("time_zone"):
        codes = [party.country_code for party in parties]
        data["time_zone"] = time_zone_guess(data.get("place", ""), codes) or "UTC"
    if not data.get("key"):
        data["key"] = key_from_title(data.get("title", ""), Agreement)
    try:
        return agreement_create(user=user, parties=parties, **data)
    except ValidationError as exc:
        # Nothing can be written without the agreement: its errors end the save.
        raise EntryRefused(agreement=_messages(exc)) from exc


def _draft_save(*, user: User, source: Source, agreement: Agreement, draft: Draft) -> None:
    """Write one draft's commitment and citation.

    The citation is placed with ``required=True``: the editor selects the passage in the
    source's text, so a quote that is not there is a mistake to show, never a paraphrase.
    """
    data = dict(draft.commitment)
    if not data.get("key"):
        data["key"] = key_from_title(data.get("title", ""), Commitment)
    commitment = commitment_create(
        user=user, agreement=agreement, co_obligors=draft.co_obligors, **data
    )
    citation = Citation(source=source, commitment=commitment, **draft.citation)
    citation_place(citation, required=True)
    citation.full_clean()
    attach_user(citation, user)
    citation.save()


def parties_by_name(
    *, user: User, names: Iterable[str], kind: str, country_code: str = ""
) -> list[Party]:
    """Return the parties named ``names``, creating those that do not exist yet.

    A name matches an existing party's English or French name whatever its case; a new party
    gets ``kind``, ``country_code`` and a key made from its name. Raise ``ValidationError``
    naming the party for a name that cannot be saved.
    """
    found: list[Party] = []
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        party = (
            Party.objects.filter(name__iexact=name).first()
            or Party.objects.filter(name_fr__iexact=name).first()
        )
        if party is None:
            party = Party(
                name=name,
                kind=kind,
                country_code=country_code.upper(),
                key=key_from_title(name, Party),
            )
            party.full_clean()
            attach_user(party, user)
            party.save()
        found.append(party)
    return found


# Proposals and previews ------------------------------------------------------------------


@dataclass(frozen=True)
class Proposed:
    """A draft's initial values from a passage, and the phrase each proposal came from."""

    values: dict[str, Any]
    phrases: dict[str, str]


def draft_from_passage(
    *,
    source: Source,
    start: int,
    end: int,
    anchor: dt.date | None,
    taken_keys: Iterable[str] = (),
    with_key: bool = True,
) -> Proposed:
    """Return a draft's values for ``source.text[start:end]``: quote, span, locator, title,
    key and the parser's proposals (deadline rule, effective-from date, target).

    ``taken_keys`` are keys already given to other drafts on the page; ``with_key=False``
    leaves the key to :func:`keys_for_titles`, for many drafts at once. Raise ``ValueError``
    for a span outside the text.
    """
    text = source.text
    if not 0 <= start < end <= len(text):
        raise ValueError("span outside the text")
    # A selection that reaches into the blank between paragraphs keeps only its words.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise ValueError("an empty selection")
    quote = text[start:end]
    title = passages.title_from_passage(quote)
    values: dict[str, Any] = {
        "quote": quote,
        "start": start,
        "end": end,
        "locator": passages.locator(text, start, end),
        "title": title,
        "key": keys_for_titles([title], taken_keys)[0] if with_key else "",
        "deadline_kind": DeadlineKind.NONE.value,
    }
    phrases: dict[str, str] = {}
    proposals = parsing.propose(quote, lang=source.language.split("-")[0], anchor=anchor)
    if proposals.deadline is not None:
        values.update(proposals.deadline.stored())
        phrases["deadline"] = proposals.deadline.phrase
    if proposals.effective_from is not None:
        values["effective_from"] = proposals.effective_from.date
        values["effective_from_precision"] = proposals.effective_from.precision.value
        phrases["effective_from"] = proposals.effective_from.phrase
    if proposals.target is not None:
        values["target_amount"] = proposals.target.amount_text()
        values["target_unit"] = proposals.target.unit
        phrases["target"] = proposals.target.phrase
    return Proposed(values, phrases)


def keys_for_titles(titles: Sequence[str], taken_keys: Iterable[str] = ()) -> list[str]:
    """Return a commitment key for each title, free in the database, among ``taken_keys``
    and among each other; one query for them all (``keys.key_base`` makes each slug)."""
    max_length = Commitment._meta.get_field("key").max_length or 80
    bases = [key_base(title, max_length, "commitment") for title in titles]
    taken = set(taken_keys)
    if bases:
        starts = Q()
        for base in set(bases):
            starts |= Q(key__startswith=base)
        taken |= set(Commitment.objects.filter(starts).values_list("key", flat=True))
    keys = []
    for base in bases:
        key, number = base, 2
        while key in taken:
            suffix = f"-{number}"
            key = base[: max_length - len(suffix)].rstrip("-") + suffix
            number += 1
        taken.add(key)
        keys.append(key)
    return keys


@dataclass(frozen=True)
class Preview:
    """A draft's deadline as the engine gives it: due date, precision, words, or errors."""

    due_date: dt.date | None = None
    precision: str = ""
    due_in_words: str = ""
    precision_label: str = ""
    explanation: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def deadline_preview(
    *, rule_values: Mapping[str, Any], agreement_date: dt.date | None, time_zone: str
) -> Preview:
    """Return the due date and explanation the stored rule values give, before saving.

    The same engine and words as a saved commitment's (:func:`deadline_explanation`), with
    no revisions yet; a relative rule counts from the agreement's date.
    """
    values = {f.name: rule_values.get(f.name, f.empty) for f in deadlines.RULE_FIELDS}
    try:
        rule = deadlines.rule_from_stored(values)
        due = deadlines.compute_due_date(rule, agreement_date)
    except deadlines.RuleError as exc:
        return Preview(errors={exc.field: exc.translated()})
    except ValueError:
        return Preview(errors={"deadline_kind": _("Unknown deadline rule.")})
    precision = deadlines.rule_precision(rule).value if due else ""
    try:
        due_at = deadlines.due_instant(due, time_zone) if due else None
    except (ValueError, KeyError):
        due_at, time_zone = None, "UTC"
    explanation = explanation_in_words(
        rule,
        counts_from=AnchorKind.AGREEMENT,
        agreement_date=agreement_date,
        anchor_title=None,
        anchor_fulfilled_on=None,
        original_due_date=due,
        original_precision=precision,
        due_precision=precision,
        due_at=due_at,
        time_zone=time_zone,
        suspended=False,
        revisions=[],
    )
    return Preview(
        due_date=due,
        precision=precision,
        due_in_words=date_in_words(due, precision) if due else "",
        precision_label=str(PrecisionChoice(precision).label) if precision else "",
        explanation=explanation,
    )
