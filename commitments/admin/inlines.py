"""The admin's inlines: citations, the commitments of an agreement, related commitments."""

from __future__ import annotations

import itertools
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from commitments import deadlines
from commitments.forms import CommitmentAdminForm
from commitments.models import Citation, Commitment, CommitmentRelation, Occurrence
from core.admin import StackedInline, TabularInline

from .sources import CitationSpanForm


def _inline_rule_rows() -> list[str | tuple[str, ...]]:
    """Return the rule's fields one group a line, without the anchor commitment (an
    autocomplete of the agreement's other commitments is on the commitment's own page)."""
    rows: list[str | tuple[str, ...]] = []
    for group, fields in itertools.groupby(deadlines.RULE_FIELDS, key=lambda f: f.group):
        names = tuple(f.name for f in fields if not Commitment._meta.get_field(f.name).is_relation)
        if names:
            rows.extend([names] if group else names)
    return rows


class CitationInline(StackedInline):
    """Quotes backing the object, each from a source found by autocomplete, each placed at its
    span of the source's archived text where it is found there."""

    model = Citation
    form = CitationSpanForm
    fields = ["source", "quote", "translation", "translation_language", "locator"]
    autocomplete_fields = ["source"]
    extra = 0


class AgreementCitationInline(CitationInline):
    fk_name = "agreement"


class AgreementCommitmentInline(StackedInline):
    """A commitment per block, its rule's fields one group a line (only the chosen kind's shown
    with JavaScript), with a link to its own page for the rest.

    A table row of every rule input was 2,659 px wide and put the rows' errors off-screen; a
    block fits a 1,280 px screen and shows each error beside its field.
    """

    model = Commitment
    form = CommitmentAdminForm
    fieldsets = [
        (None, {"fields": [("key", "title"), ("obligor", "category")]}),
        (
            _("Deadline rule"),
            {"fields": [*_inline_rule_rows(), ("due_date", "status")]},
        ),
    ]
    readonly_fields = ["due_date", "status"]
    autocomplete_fields = ["obligor"]
    show_change_link = True
    extra = 0
    classes = ["commitment-blocks"]

    class Media:
        js = ["commitments/admin/rule_fields.js"]

    #: The most new blocks one submission may add: a form posting a larger count (a tampered
    #: TOTAL_FORMS) is refused instead of rendering that many blocks back.
    MORE_AT_ONCE = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commitment]:
        return super().get_queryset(request).select_related("agreement")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        existing = obj.commitments.count() if obj is not None and obj.pk else 0
        kwargs.setdefault("max_num", existing + self.MORE_AT_ONCE)
        kwargs.setdefault("absolute_max", kwargs["max_num"])
        return super().get_formset(request, obj, **kwargs)


class CommitmentCitationInline(CitationInline):
    fk_name = "commitment"


class CommitmentRelationInline(TabularInline):
    model = CommitmentRelation
    fk_name = "from_commitment"
    fields = ["kind", "to_commitment"]
    autocomplete_fields = ["to_commitment"]
    extra = 0
    verbose_name = _("related commitment")
    verbose_name_plural = _("related commitments")


# Recurrence (issue 12, item 3).
class OccurrenceInline(TabularInline):
    """A recurring commitment's occurrences, read-only: the service writes them."""

    model = Occurrence
    fields = ("sequence", "due_date", "due_at", "target_amount", "status", "deadline_state")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name = _("occurrence")
    verbose_name_plural = _("occurrences (written from the recurrence; read-only)")

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Occurrences are part of the commitment: whoever may view it sees them.
        return request.user.has_perm("commitments.view_commitment")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
