"""Ratings in the admin: the "Rate an obligor" page, the review action and the history.

Ratings are written only by ``commitments.services.assessments`` (through the domain's
``AssessmentForm`` and ``AssessmentReviewForm``, as every interface does); the admin lists
them read-only, with their history, and shows each commitment's ratings inline.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from commitments.assessment import score
from commitments.forms import AssessmentForm, AssessmentReviewForm
from commitments.models import Assessment
from core.admin import HistoryAdmin, ReadOnlyAdminMixin, TabularInline

from .status import evidence_form_page


def _evidence(assessment: Assessment) -> str:
    if assessment.evidence is None:
        return "-"
    return format_html("« {} » — {}", assessment.evidence.quote, assessment.evidence.source.title)


class AssessmentInline(TabularInline):
    """A commitment's ratings, newest first, read-only: "Rate an obligor" records them."""

    model = Assessment
    fk_name = "commitment"
    fields = (
        "party",
        "rating",
        "assessed_on",
        "reviewed_on",
        "review_due",
        "current",
        "justification",
        "evidence_quote",
        "author",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("rating")
    verbose_name_plural = _("ratings (recorded with “Rate an obligor”; read-only)")

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("commitments.view_assessment")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        return (
            super()
            .get_queryset(request)
            .select_related("party", "evidence__source", "author")
            .order_by("-assessed_on", "-id")
        )

    @admin.display(description=_("evidence"))
    def evidence_quote(self, assessment: Assessment) -> str:
        return _evidence(assessment)


class CommitmentAssessmentAdminMixin(admin.ModelAdmin):
    """Add the "Rate an obligor" page to the commitments' admin."""

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/rate/",
                self.admin_site.admin_view(self.rate_view),
                name="{}_{}_rate".format(*info),
            ),
            *super().get_urls(),
        ]

    def rate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Record a rating of one obligor with its evidence through ``assessment_record``.

        A rating is a row of its own: the right to add one is needed, beside the right to
        change the commitment that ``evidence_form_page`` checks.
        """
        if not request.user.has_perm("commitments.add_assessment"):
            raise PermissionDenied
        return evidence_form_page(
            self,
            request,
            object_id,
            form_class=AssessmentForm,
            date_fields=("assessed_on",),
            title=_("Rate an obligor of %(commitment)s"),
            template="admin/commitments/commitment/rate.html",
        )


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Every rating, read-only: the "Rate an obligor" page and the API write them."""

    list_display = [
        "commitment",
        "party",
        "rating",
        "score_display",
        "assessed_on",
        "reviewed_on",
        "review_due",
        "current",
        "author",
    ]
    list_filter = ["rating", "review_due", "current", ("assessed_on", admin.DateFieldListFilter)]
    list_select_related = ["commitment", "party", "author"]
    search_fields = [
        "justification",
        "justification_fr",
        "commitment__title",
        "commitment__title_fr",
        "commitment__key",
        "party__name",
        "party__name_fr",
    ]
    date_hierarchy = "assessed_on"
    fields = [
        "commitment",
        "party",
        "rating",
        "score_display",
        "assessed_on",
        "justification",
        "justification_fr",
        "machine_translations",
        "evidence_display",
        "author",
        "created",
        "current",
        "reviewed_on",
        "review_due",
    ]
    readonly_fields = fields
    actions = ["review"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        return super().get_queryset(request).select_related("evidence__source")

    @admin.display(description=_("score"))
    def score_display(self, assessment: Assessment) -> str:
        value = score(assessment.rating)
        return "-" if value is None else f"{value:+d}"

    @admin.display(description=_("evidence"))
    def evidence_display(self, assessment: Assessment) -> str:
        return _evidence(assessment)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("commitments.change_assessment")

    @admin.action(
        description=_("Still holds: mark the selected ratings reviewed today"),
        permissions=["review"],
    )
    def review(self, request: HttpRequest, queryset: QuerySet[Assessment]) -> None:
        """Confirm each selected current rating through ``assessment_review``."""
        done = 0
        for assessment in queryset.select_related("commitment").order_by("pk"):
            form = AssessmentReviewForm({}, assessment=assessment)
            if form.is_valid() and form.save(user=request.user) is not None:
                done += 1
                continue
            self.message_user(
                request,
                _("%(rating)s was not reviewed: %(reason)s")
                % {"rating": assessment, "reason": " ".join(_messages(form))},
                messages.ERROR,
            )
        self.message_user(
            request,
            _("%(count)d rating(s) marked reviewed today.") % {"count": done},
            messages.SUCCESS,
        )


def _messages(form: Any) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]
