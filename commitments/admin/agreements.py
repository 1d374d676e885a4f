"""The agreements' admin: an agreement with its commitments and citations, saved in one go."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from commitments.forms import AgreementAdminForm
from commitments.models import Agreement, Commitment
from commitments.services import commitments as svc

from .base import ServiceSaveAdmin, model_fields_changed, service_call
from .corrections import CorrectionAdminMixin
from .inlines import AgreementCitationInline, AgreementCommitmentInline
from .publication import AgreementPublicationAdminMixin, PublicationEventInline


@admin.register(Agreement)
class AgreementAdmin(CorrectionAdminMixin, AgreementPublicationAdminMixin, ServiceSaveAdmin):
    form = AgreementAdminForm
    list_display = [
        "title",
        "key",
        "kind",
        "date",
        "place",
        "time_zone",
        "publication_state",
        "commitment_count",
    ]
    list_filter = [
        "publication_state",
        "kind",
        "parties",
        ("date", admin.DateFieldListFilter),
    ]
    search_fields = ["title", "title_fr", "key", "place", "summary", "summary_fr"]
    autocomplete_fields = ["parties"]
    date_hierarchy = "date"
    inlines = [AgreementCommitmentInline, AgreementCitationInline, PublicationEventInline]
    actions = ["submit_for_review", "publish", "unpublish"]
    # The state changes only by a publication step (the buttons below the form).
    readonly_fields = ["publication_state", "published_at", "published_by"]
    fieldsets = [
        (None, {"fields": ["key", "title", "title_fr", "kind", "parties"]}),
        (_("When and where"), {"fields": ["date", "time_zone", "place"]}),
        (_("Summary"), {"fields": ["summary", "summary_fr"]}),
        (_("Machine translations"), {"fields": ["machine_translations"]}),
        (_("Publication"), {"fields": ["publication_state", "published_at", "published_by"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        return (
            super()
            .get_queryset(request)
            .select_related("published_by")
            .annotate(commitment_total=Count("commitments"))
        )

    @admin.display(description=_("commitments"), ordering="commitment_total")
    def commitment_count(self, agreement: Agreement) -> int:
        return agreement.commitment_total  # type: ignore[attr-defined]

    def save_model(
        self, request: HttpRequest, obj: Agreement, form: forms.ModelForm, change: bool
    ) -> None:
        """Create a new agreement; an existing one is saved in :meth:`save_related`."""
        if not change:
            with service_call():
                svc.agreement_save(
                    agreement=obj, user=request.user, parties=form.cleaned_data["parties"]
                )

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm,
        formsets: Sequence[Any],
        change: bool,
    ) -> None:
        """Save the inline commitments, then a changed agreement, then the citations.

        Commitments go first so that a moved date and the deadlines it would otherwise break
        can be corrected in one submission; ``agreement_save`` then recomputes every due date.
        """
        commitment_formsets = [fs for fs in formsets if fs.model is Commitment]
        for formset in commitment_formsets:
            self.save_formset(request, form, formset, change=change)
        if change:
            with service_call():
                svc.agreement_save(
                    agreement=form.instance,
                    user=request.user,
                    parties=form.cleaned_data["parties"],
                    changed_fields=model_fields_changed(form),
                )
        for formset in formsets:
            if formset.model is not Commitment:
                self.save_formset(request, form, formset, change=change)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        """Save inline commitments through ``commitment_save``; other inlines as usual."""
        if formset.model is not Commitment:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in formset.new_objects:
            with service_call(_("Commitment %(key)s") % {"key": obj.key}):
                svc.commitment_save(commitment=obj, user=request.user)
        for obj, changed in formset.changed_objects:
            with service_call(_("Commitment %(key)s") % {"key": obj.key}):
                svc.commitment_save(
                    commitment=obj,
                    user=request.user,
                    changed_fields=[n for n in changed if n in _COMMITMENT_CONCRETE],
                )


_COMMITMENT_CONCRETE = frozenset(f.name for f in Commitment._meta.concrete_fields)
