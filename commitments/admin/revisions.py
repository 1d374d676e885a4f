"""Deadline revisions in the admin: the "Revise the deadline" page and the history inline.

The page records a revision through ``revision_create`` (via the domain's ``RevisionForm``),
as every interface does; the inline only shows the revisions, which nobody edits by hand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from commitments.deadlines.text import date_in_words
from commitments.forms import RevisionForm
from commitments.models import Commitment, DeadlineRevision
from commitments.services.revisions import revision_refusal
from core.admin import TabularInline

from .status import evidence_form_page


class DeadlineRevisionInline(TabularInline):
    """The deadline's revisions, oldest first, read-only: they are written by the service."""

    model = DeadlineRevision
    fk_name = "commitment"
    fields = ("revised_on", "kind", "old_date", "new_date", "reason", "evidence_quote", "author")
    readonly_fields = fields
    extra = 0
    verbose_name = _("deadline revision")
    verbose_name_plural = _("deadline revisions")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeadlineRevision]:
        return (
            super()
            .get_queryset(request)
            .select_related("evidence__source", "author")
            .order_by("revised_on", "id")
        )

    @admin.display(description=_("old due date"))
    def old_date(self, revision: DeadlineRevision) -> str:
        if revision.old_due_date is None:
            return "-"
        return date_in_words(revision.old_due_date, revision.old_precision)

    @admin.display(description=_("new due date"))
    def new_date(self, revision: DeadlineRevision) -> str:
        if revision.new_due_date is None:
            return "-"
        return date_in_words(revision.new_due_date, revision.new_precision)

    @admin.display(description=_("evidence"))
    def evidence_quote(self, revision: DeadlineRevision) -> str:
        return format_html("« {} » — {}", revision.evidence.quote, revision.evidence.source.title)


class CommitmentRevisionAdminMixin(admin.ModelAdmin):
    """Add the "Revise the deadline" page and the deadline's read-only dates to the admin."""

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/revise/",
                self.admin_site.admin_view(self.revise_view),
                name="{}_{}_revise".format(*info),
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """Offer "Revise the deadline" only where the revision service would take one."""
        commitment = context.get("original")
        context["revisable"] = (
            commitment is not None and revision_refusal(commitment=commitment) is None
        )
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description=_("original due date"))
    def original_due_date_display(self, commitment: Commitment) -> str:
        if commitment.original_due_date is None:
            return "-"
        return date_in_words(commitment.original_due_date, commitment.original_due_precision)

    @admin.display(description=_("current due date"))
    def current_due_date_display(self, commitment: Commitment) -> Any:
        if commitment.due_date is None:
            return "-"
        words = date_in_words(commitment.due_date, commitment.due_precision)
        # Offered only where the service would take a revision (the dashboard asks the same).
        if commitment.pk is None or revision_refusal(commitment=commitment) is not None:
            return words
        suspended = _(" (suspended)") if commitment.deadline_suspended else ""
        return format_html(
            '{}{} <a class="button" href="{}">{}</a>',
            words,
            suspended,
            reverse("admin:commitments_commitment_revise", args=[commitment.pk]),
            _("Revise the deadline"),
        )

    @admin.display(description=_("fulfilment timing"))
    def fulfilment_timing_display(self, commitment: Commitment) -> str:
        return commitment.get_fulfilment_timing_display() or "-"

    def revise_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Record a revision of the deadline with its evidence through ``revision_create``."""
        return evidence_form_page(
            self,
            request,
            object_id,
            form_class=RevisionForm,
            date_fields=("new_due_date", "revised_on"),
            title=_("Revise the deadline of %(commitment)s"),
            template="admin/commitments/commitment/revise.html",
        )
