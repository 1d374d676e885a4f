"""The admin: the data-entry tool of the tracker.

Agreements and commitments are saved only through ``commitments.services.commitments`` so due
dates are computed and dependents recomputed; statuses change only through the "Change status"
view and the bulk actions, which call ``commitment_change_status``. A ``ValidationError`` a
service raises while saving rolls the whole submission back and is shown on the form.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.results import Result
from simple_history.admin import SimpleHistoryAdmin

from commitments import deadlines
from commitments.choices import Status
from commitments.deadlines.text import commitment_rule_in_words
from commitments.forms import (
    AgreementAdminForm,
    CommitmentAdminForm,
    ServiceModelForm,
    StatusChangeForm,
)
from commitments.models import (
    DUE_DATE_RELATIONS,
    Agreement,
    Citation,
    Commitment,
    CommitmentRelation,
    Party,
    ProgressUpdate,
    Source,
)
from commitments.querysets import CommitmentQuerySet
from commitments.resources import CommitmentResource
from commitments.services import commitments as svc
from commitments.services.deadlines import due_dates_recompute

_REJECTION_ATTR = "_commitments_service_rejection"


class ServiceRejected(Exception):
    """A service refused a save that the form had accepted; carries its error to the form."""

    def __init__(self, error: ValidationError, context: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.context = context


@contextmanager
def service_call(context: str = "") -> Iterator[None]:
    """Turn a service's ``ValidationError`` into :class:`ServiceRejected`."""
    try:
        yield
    except ValidationError as exc:
        raise ServiceRejected(exc, context) from exc


def model_fields_changed(form: forms.ModelForm) -> list[str]:
    """Return the concrete model fields among ``form.changed_data`` (for ``update_fields``)."""
    concrete = {f.name for f in form._meta.model._meta.concrete_fields}
    return [name for name in form.changed_data if name in concrete]


class ServiceSaveAdmin(SimpleHistoryAdmin):
    """History on every change, and service refusals shown as form errors instead of a 500.

    The admin runs each submission in a transaction. When a service raises while saving, the
    transaction is rolled back and the same submission is validated again with the service's
    error added to the form, so it is shown like any other and nothing is written.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            setattr(request, _REJECTION_ATTR, (rejected.error, rejected.context))
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        rejection = getattr(request, _REJECTION_ATTR, None)
        if rejection is not None and issubclass(form, ServiceModelForm):
            return type(form.__name__, (form,), {"service_rejection": rejection})
        return form


# Parties and sources ---------------------------------------------------------------------


@admin.register(Party)
class PartyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "key", "kind", "country_code"]
    list_filter = ["kind"]
    search_fields = ["name", "name_fr", "key", "country_code"]
    ordering = ["name"]


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["title", "publisher", "kind", "language", "published_on"]
    list_filter = ["kind", "language", "publisher"]
    search_fields = ["title", "publisher", "key", "url"]
    date_hierarchy = "published_on"


@admin.register(Citation)
class CitationAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "source", "agreement", "commitment", "locator"]
    list_filter = ["source__kind", "source__language", "source"]
    list_select_related = ["source", "agreement", "commitment"]
    search_fields = ["quote", "translation", "locator", "source__title", "source__publisher"]
    autocomplete_fields = ["source", "agreement", "commitment"]


# Agreements ----------------------------------------------------------------------------


class CitationInline(admin.StackedInline):
    """Quotes backing the object, each from a source found by autocomplete."""

    model = Citation
    fields = ["source", "quote", "translation", "translation_language", "locator"]
    autocomplete_fields = ["source"]
    extra = 0


class AgreementCitationInline(CitationInline):
    fk_name = "agreement"


class AgreementCommitmentInline(admin.TabularInline):
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


@admin.register(Agreement)
class AgreementAdmin(ServiceSaveAdmin):
    form = AgreementAdminForm
    list_display = ["title", "key", "kind", "date", "place", "time_zone", "commitment_count"]
    list_filter = ["kind", "parties", ("date", admin.DateFieldListFilter)]
    search_fields = ["title", "key", "place", "summary"]
    autocomplete_fields = ["parties"]
    date_hierarchy = "date"
    inlines = [AgreementCommitmentInline, AgreementCitationInline]
    fieldsets = [
        (None, {"fields": ["key", "title", "kind", "parties"]}),
        (_("When and where"), {"fields": ["date", "time_zone", "place"]}),
        (_("Summary"), {"fields": ["summary"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        return super().get_queryset(request).annotate(commitment_total=Count("commitments"))

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


# Commitments ---------------------------------------------------------------------------


#: The admin's due ranges: "next N days" is ``Commitment.objects.due_within(now, N)``.
DUE_RANGE_DAYS = {"next_7": 7, "next_30": 30, "next_90": 90}


def due_range_filter(
    *, queryset: CommitmentQuerySet, choice: str, now: dt.datetime
) -> CommitmentQuerySet:
    """Return the commitments of ``queryset`` in a due range relative to ``now``."""
    if choice == "overdue":
        return queryset.overdue(now)
    if choice == "none":
        return queryset.undated()
    return queryset.due_within(now, DUE_RANGE_DAYS[choice])


class DueRangeFilter(admin.SimpleListFilter):
    """Due ranges counted from now: overdue, open and due in the next 7, 30 or 90 days, or none."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("overdue", _("Overdue (past due, not closed)")),
            ("next_7", _("In the next 7 days")),
            ("next_30", _("In the next 30 days")),
            ("next_90", _("In the next 90 days")),
            ("none", _("No deadline")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() not in dict(self.lookups(request, None)):
            return None
        return due_range_filter(
            queryset=cast(CommitmentQuerySet, queryset),
            choice=str(self.value()),
            now=timezone.now(),
        )


class CommitmentCitationInline(CitationInline):
    fk_name = "commitment"


class CommitmentRelationInline(admin.TabularInline):
    model = CommitmentRelation
    fk_name = "from_commitment"
    fields = ["kind", "to_commitment"]
    autocomplete_fields = ["to_commitment"]
    extra = 0
    verbose_name = _("related commitment")
    verbose_name_plural = _("related commitments")


def rule_field_rows() -> list[str | tuple[str, ...]]:
    """Lay the rule's parts out one a line, the parts of a group (amount and unit) together."""
    rows: list[str | tuple[str, ...]] = []
    for group, fields in itertools.groupby(deadlines.RULE_FIELDS, key=lambda f: f.group):
        names = tuple(field.name for field in fields)
        rows.extend([names] if group else names)
    return rows


@admin.register(Commitment)
class CommitmentAdmin(ImportExportMixin, ServiceSaveAdmin):
    form = CommitmentAdminForm
    resource_classes = [CommitmentResource]
    import_formats = [base_formats.CSV]
    export_formats = [base_formats.CSV]
    change_form_template = "admin/commitments/commitment/change_form.html"

    list_display = [
        "title",
        "key",
        "agreement",
        "obligor",
        "category",
        "status",
        "due_date",
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
        "description",
        "deadline_phrase",
        "agreement__title",
        "agreement__key",
        "obligor__name",
    ]
    date_hierarchy = "due_date"
    autocomplete_fields = [
        "agreement",
        "obligor",
        "beneficiaries",
        *(
            field.name
            for field in deadlines.RULE_FIELDS
            if Commitment._meta.get_field(field.name).is_relation
        ),
        "owner",
    ]
    readonly_fields = [
        "rule_in_words",
        "due_date",
        "due_at_display",
        "status_display",
        "status_changed_at",
        "fulfilled_on",
        "deadline_state",
        "flagged_at",
    ]
    fieldsets = [
        (_("Identity"), {"fields": ["agreement", "key", "title", "description"]}),
        (_("Parties"), {"fields": ["obligor", "beneficiaries", "owner"]}),
        (
            _("Target"),
            {"fields": ["category", ("target_amount", "target_unit"), "effective_from"]},
        ),
        (
            _("Deadline rule and computed due date"),
            {
                "fields": [
                    *rule_field_rows(),
                    "rule_in_words",
                    "due_date",
                    "due_at_display",
                ]
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
    inlines = [CommitmentCitationInline, CommitmentRelationInline]
    actions = ["mark_in_progress", "mark_not_started", "mark_cancelled", "recompute_due_dates"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commitment]:
        return (
            super()
            .get_queryset(request)
            .select_related("obligor", "owner", *DUE_DATE_RELATIONS)
        )

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """Import all rows or none: one bad row rolls the whole file back."""
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        """After the confirm step, report rows that failed (the data changed since the preview)."""
        if not result.has_errors() and not result.has_validation_errors():
            return super().process_result(result, request)
        for row in result.invalid_rows:
            for field, errors in row.error_dict.items():
                self.message_user(
                    request,
                    _("Row %(number)s, %(field)s: %(errors)s")
                    % {"number": row.number, "field": field, "errors": " ".join(errors)},
                    messages.ERROR,
                )
        for number, errors in result.row_errors():
            for error in errors:
                self.message_user(
                    request,
                    _("Row %(number)s: %(error)s") % {"number": number, "error": error.error},
                    messages.ERROR,
                )
        for error in result.base_errors:
            self.message_user(request, str(error.error), messages.ERROR)
        self.message_user(
            request,
            _("Nothing was imported; correct the file and import it again."),
            messages.ERROR,
        )
        return HttpResponseRedirect(reverse("admin:commitments_commitment_import"))

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    # Read-only computed fields.

    @admin.display(description=_("rule in words"))
    def rule_in_words(self, commitment: Commitment) -> str:
        if commitment.pk is None:
            return "-"
        return commitment_rule_in_words(commitment)

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
        """Save through ``commitment_save``: due date computed, beneficiaries set."""
        with service_call():
            svc.commitment_save(
                commitment=obj,
                user=request.user,
                beneficiaries=form.cleaned_data.get("beneficiaries"),
                changed_fields=model_fields_changed(form) if change else None,
            )

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm,
        formsets: Sequence[Any],
        change: bool,
    ) -> None:
        """Save the inlines; the beneficiaries were set by the service in :meth:`save_model`."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # Status changes.

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/status/",
                self.admin_site.admin_view(self.change_status_view),
                name="{}_{}_change_status".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_status_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Record a status change with its evidence through ``commitment_change_status``."""
        commitment = self.get_object(request, unquote(object_id))
        if commitment is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, commitment):
            raise PermissionDenied
        form = StatusChangeForm(
            request.POST if request.method == "POST" else None, commitment=commitment
        )
        form.fields["occurred_on"].widget = AdminDateWidget()
        source = cast(forms.ModelChoiceField, form.fields["evidence_source"])
        source.widget = AutocompleteSelect(Citation._meta.get_field("source"), self.admin_site)
        source.widget.choices = source.choices
        if request.method == "POST" and form.is_valid():
            update = form.save(user=request.user)
            if update is not None:
                self.message_user(
                    request,
                    _("Recorded: %(update)s.") % {"update": update},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:commitments_commitment_change", args=[commitment.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change the status of %(commitment)s") % {"commitment": commitment},
            "opts": self.opts,
            "original": commitment,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/commitments/commitment/change_status.html", context)

    # Bulk actions.

    def _bulk_status(
        self, request: HttpRequest, queryset: QuerySet[Commitment], status: Status
    ) -> None:
        done = 0
        for commitment in queryset.select_related("agreement").order_by("pk"):
            if commitment.status == status:
                continue
            try:
                svc.commitment_change_status(
                    commitment=commitment,
                    status=status,
                    user=request.user,
                    note=str(_("Bulk action in the admin.")),
                )
            except ValidationError as exc:
                self.message_user(
                    request,
                    _("%(key)s was not changed: %(reason)s")
                    % {"key": commitment.key, "reason": " ".join(exc.messages)},
                    messages.ERROR,
                )
            else:
                done += 1
        self.message_user(
            request,
            _("%(count)d commitment(s) marked %(status)s.")
            % {"count": done, "status": status.label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark selected commitments in progress"), permissions=["change"])
    def mark_in_progress(self, request: HttpRequest, queryset: QuerySet[Commitment]) -> None:
        self._bulk_status(request, queryset, Status.IN_PROGRESS)

    @admin.action(description=_("Mark selected commitments not started"), permissions=["change"])
    def mark_not_started(self, request: HttpRequest, queryset: QuerySet[Commitment]) -> None:
        self._bulk_status(request, queryset, Status.NOT_STARTED)

    @admin.action(description=_("Mark selected commitments cancelled"), permissions=["change"])
    def mark_cancelled(self, request: HttpRequest, queryset: QuerySet[Commitment]) -> None:
        self._bulk_status(request, queryset, Status.CANCELLED)

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


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(SimpleHistoryAdmin):
    """Progress updates, read only: they are written by the status-change view and services."""

    list_display = [
        "commitment",
        "occurred_on",
        "status_from",
        "status_to",
        "measured_value",
        "evidence",
        "author",
    ]
    list_filter = ["status_to", ("occurred_on", admin.DateFieldListFilter)]
    list_select_related = ["commitment", "author", "evidence__source"]
    search_fields = ["note", "commitment__title", "commitment__key"]
    date_hierarchy = "occurred_on"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
