"""The commitments' admin: the rule and its computed due date, saved through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from commitments import deadlines
from commitments.choices import Status
from commitments.deadlines.text import (
    commitment_rule_in_words,
    deadline_explanation,
    due_in_words,
)
from commitments.forms import CommitmentAdminForm
from commitments.models import DUE_DATE_RELATIONS, Commitment
from commitments.services import commitments as svc
from commitments.services.deadlines import due_dates_recompute

from .assessments import AssessmentInline, CommitmentAssessmentAdminMixin
from .base import ServiceSaveAdmin, model_fields_changed, service_call
from .corrections import CorrectionAdminMixin
from .filters import DueRangeFilter
from .imports import CommitmentImportExportMixin
from .inlines import CommitmentCitationInline, CommitmentRelationInline, OccurrenceInline
from .revisions import CommitmentRevisionAdminMixin, DeadlineRevisionInline
from .status import CommitmentStatusAdminMixin


def rule_field_rows() -> list[str | tuple[str, ...]]:
    """Lay the rule's parts out one a line, the parts of a group (amount and unit) together."""
    rows: list[str | tuple[str, ...]] = []
    for group, fields in itertools.groupby(deadlines.RULE_FIELDS, key=lambda f: f.group):
        names = tuple(field.name for field in fields)
        rows.extend([names] if group else names)
    return rows


@admin.register(Commitment)
class CommitmentAdmin(
    CommitmentAssessmentAdminMixin,
    CommitmentRevisionAdminMixin,
    CommitmentStatusAdminMixin,
    CommitmentImportExportMixin,
    CorrectionAdminMixin,
    ServiceSaveAdmin,
):
    form = CommitmentAdminForm
    change_form_template = "admin/commitments/commitment/change_form.html"

    class Media:
        # Only the chosen kind of rule's fields shown (issue 14); all of them without JS.
        js = ["commitments/admin/rule_fields.js"]

    list_display = [
        "title",
        "key",
        "agreement",
        "obligor",
        "category",
        "status",
        "due_in_words",
        "deadline_state",
        "owner",
    ]
    list_filter = [
        "status",
        "category",
        "deadline_state",
        DueRangeFilter,
        ("obligor", admin.RelatedOnlyFieldListFilter),
        ("agreement", admin.RelatedOnlyFieldListFilter),
        ("due_date", admin.DateFieldListFilter),
    ]
    list_select_related = ["agreement", "obligor", "owner"]
    search_fields = [
        "key",
        "title",
        "title_fr",
        "description",
        "description_fr",
        "deadline_phrase",
        "agreement__title",
        "agreement__title_fr",
        "agreement__key",
        "obligor__name",
        "obligor__name_fr",
    ]
    date_hierarchy = "due_date"
    autocomplete_fields = [
        "agreement",
        "obligor",
        "co_obligors",
        "beneficiaries",
        *(
            field.name
            for field in deadlines.RULE_FIELDS
            if Commitment._meta.get_field(field.name).is_relation
        ),
        "owner",
        "replaced_by",
    ]
    readonly_fields = [
        "rule_in_words",
        "deadline_explanation_display",
        "due_date",
        "due_at_display",
        "status_display",
        "status_changed_at",
        "fulfilled_on",
        "deadline_state",
        "flagged_at",
        # Deadline revisions and timeliness (issue 12).
        "original_due_date_display",
        "current_due_date_display",
        "fulfilment_timing_display",
    ]
    fieldsets = [
        (
            _("Identity"),
            {"fields": ["agreement", "key", "title", "title_fr", "description", "description_fr"]},
        ),
        (_("Machine translations"), {"fields": ["machine_translations"]}),
        (_("Parties"), {"fields": ["obligor", "co_obligors", "beneficiaries", "owner"]}),
        (
            _("Target"),
            {"fields": ["category", ("target_amount", "target_unit")]},
        ),
        (
            _("Deadline rule and computed due date"),
            {
                "fields": [
                    *rule_field_rows(),
                    "rule_in_words",
                    "due_date",
                    "due_at_display",
                    "deadline_explanation_display",
                ]
            },
        ),
        # Issue 12, h3: the implementation stages, checked together by Commitment.clean().
        (
            _("Implementation stages"),
            {
                "fields": [
                    ("announced_on", "signed_on"),
                    ("instrument_title", "instrument_url"),
                    ("effective_from", "effective_from_precision"),
                    "in_force_on",
                    ("ended_on", "ended_reason"),
                    "replaced_by",
                ]
            },
        ),
        # Recurrence (issue 12, item 3).
        (
            _("Recurrence"),
            {
                "fields": [
                    "recurrence",
                    ("recurrence_interval", "recurrence_unit"),
                    ("recurrence_until", "recurrence_count"),
                ],
                "description": _(
                    "The deadline rule gives the first due date; the recurrence repeats it "
                    "until a date or for a count (at most 500), or open-ended. The target is "
                    "per occurrence: 8 billion USD a year is 8 billion each year."
                ),
            },
        ),
        (
            _("Status"),
            {
                "fields": [
                    "status_display",
                    "status_changed_at",
                    "fulfilled_on",
                    "deadline_state",
                    "flagged_at",
                ]
            },
        ),
    ]
    # Deadline revisions and timeliness (issue 12).
    fieldsets += [
        (
            _("Revisions and timeliness"),
            {
                "fields": [
                    "original_due_date_display",
                    "current_due_date_display",
                    "fulfilment_timing_display",
                ]
            },
        ),
    ]
    inlines = [
        CommitmentCitationInline,
        CommitmentRelationInline,
        DeadlineRevisionInline,
        OccurrenceInline,  # Recurrence (issue 12, item 3).
        AssessmentInline,  # Ratings (issue 13).
    ]
    actions = ["mark_in_progress", "mark_not_started", "mark_cancelled", "recompute_due_dates"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commitment]:
        return super().get_queryset(request).select_related("obligor", "owner", *DUE_DATE_RELATIONS)

    # Read-only computed fields.

    @admin.display(description=_("rule in words"))
    def rule_in_words(self, commitment: Commitment) -> str:
        if commitment.pk is None:
            return "-"
        return commitment_rule_in_words(commitment)

    @admin.display(description=_("how the due date was reached"))
    def deadline_explanation_display(self, commitment: Commitment) -> str:
        if commitment.pk is None:
            return "-"
        return deadline_explanation(commitment)

    @admin.display(description=_("due date"), ordering="due_date")
    def due_in_words(self, commitment: Commitment) -> str:
        return due_in_words(commitment.due_date, commitment.due_precision) or "-"

    @admin.display(description=_("due at"))
    def due_at_display(self, commitment: Commitment) -> str:
        if commitment.due_at is None:
            return "-"
        zone = commitment.agreement.time_zone
        local = commitment.due_at.astimezone(ZoneInfo(zone))
        utc = commitment.due_at.astimezone(dt.UTC)
        return f"{local:%Y-%m-%d %H:%M:%S %Z} ({zone}) = {utc:%Y-%m-%d %H:%M:%S} UTC"

    @admin.display(description=_("status"))
    def status_display(self, commitment: Commitment) -> str:
        if commitment.pk is None:
            return str(Status(commitment.status).label)
        return format_html(
            '{} <a class="button" href="{}">{}</a>',
            commitment.get_status_display(),
            reverse("admin:commitments_commitment_change_status", args=[commitment.pk]),
            _("Change status"),
        )

    # Saving through the services.

    def save_model(
        self, request: HttpRequest, obj: Commitment, form: forms.ModelForm, change: bool
    ) -> None:
        """Save through ``commitment_save``: due date computed, beneficiaries and other
        obligors set (a rated obligor cannot be dropped: the service's refusal is shown)."""
        with service_call():
            svc.commitment_save(
                commitment=obj,
                user=request.user,
                beneficiaries=form.cleaned_data.get("beneficiaries"),
                co_obligors=form.cleaned_data.get("co_obligors"),
                changed_fields=model_fields_changed(form) if change else None,
            )

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm,
        formsets: Sequence[Any],
        change: bool,
    ) -> None:
        """Save the inlines; the parties were set by the service in :meth:`save_model`."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # Bulk actions.

    @admin.action(
        description=_("Recompute due dates of selected commitments"), permissions=["change"]
    )
    def recompute_due_dates(self, request: HttpRequest, queryset: QuerySet[Commitment]) -> None:
        changed = due_dates_recompute(
            commitments=queryset.select_related(*DUE_DATE_RELATIONS).order_by("pk"),
            user=request.user,
        )
        self.message_user(
            request,
            _("Due dates recomputed; %(count)d changed.") % {"count": len(changed)},
            messages.SUCCESS,
        )
