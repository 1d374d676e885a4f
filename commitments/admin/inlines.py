"""The admin's inlines: citations, the commitments of an agreement, related commitments."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from commitments import deadlines
from commitments.forms import CommitmentAdminForm
from commitments.models import Citation, Commitment, CommitmentRelation, Occurrence
from core.admin import StackedInline, TabularInline


class CitationInline(StackedInline):
    """Quotes backing the object, each from a source found by autocomplete."""

    model = Citation
    fields = ["source", "quote", "translation", "translation_language", "locator"]
    autocomplete_fields = ["source"]
    extra = 0


class AgreementCitationInline(CitationInline):
    fk_name = "agreement"


class AgreementCommitmentInline(TabularInline):
    """A compact row per commitment; the anchor commitment and the rest are on its own page."""

    model = Commitment
    form = CommitmentAdminForm
    fields = [
        "key",
        "title",
        "obligor",
        "category",
        *(
            field.name
            for field in (deadlines.KIND_FIELD, *deadlines.PARAMETER_FIELDS)
            if not Commitment._meta.get_field(field.name).is_relation
        ),
        "due_date",
        "status",
    ]
    readonly_fields = ["due_date", "status"]
    autocomplete_fields = ["obligor"]
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commitment]:
        return super().get_queryset(request).select_related("agreement")


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
