"""The commitments' status changes in the admin: the "Change status" view and bulk actions.

Both record the change through ``commitment_change_status``, as every interface does.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from commitments.choices import Status
from commitments.forms import AssessmentForm, RevisionForm, StatusChangeForm
from commitments.models import Citation, Commitment
from commitments.services import commitments as svc
from core.admin import KeyCheckingAutocompleteSelect


def evidence_form_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    object_id: str,
    *,
    form_class: type[StatusChangeForm] | type[RevisionForm] | type[AssessmentForm],
    date_fields: tuple[str, ...],
    title: str | Promise,
    template: str,
) -> HttpResponse:
    """Show an evidence form for one commitment (a status change, a revision, a rating) and
    record it.

    The commitment is the admin's object (Django's own answer if there is none; a change
    permission is needed); ``title`` names it as ``%(commitment)s``. The admin's widgets go on
    the form's dates and its evidence source; on success, the change is recorded through the
    form's service and the page goes back to the commitment.
    """
    commitment = model_admin.get_object(request, unquote(object_id))
    if commitment is None:
        # Django's own "no such object" answer for admin views; django-stubs omit it.
        redirect = model_admin._get_obj_does_not_exist_redirect  # type: ignore[attr-defined]
        return cast(HttpResponse, redirect(request, model_admin.opts, object_id))
    if not model_admin.has_change_permission(request, commitment):
        raise PermissionDenied
    form = form_class(request.POST if request.method == "POST" else None, commitment=commitment)
    for name in date_fields:
        form.fields[name].widget = AdminDateWidget()
    source = cast(forms.ModelChoiceField, form.fields["evidence_source"])
    source_field = Citation._meta.get_field("source")
    autocomplete = KeyCheckingAutocompleteSelect(source_field, model_admin.admin_site)
    autocomplete.choices = source.choices
    # The "+" beside it adds a source (through ``source_create``) in a pop-up, then picks it.
    source.widget = RelatedFieldWidgetWrapper(
        autocomplete,
        source_field.remote_field,
        model_admin.admin_site,
        can_add_related=request.user.has_perm("commitments.add_source"),
        can_change_related=False,
        can_delete_related=False,
        can_view_related=False,
    )
    if request.method == "POST" and form.is_valid():
        written = form.save(user=request.user)
        if written is not None:
            model_admin.message_user(
                request, _("Recorded: %(update)s.") % {"update": written}, messages.SUCCESS
            )
            return HttpResponseRedirect(
                reverse("admin:commitments_commitment_change", args=[commitment.pk])
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": str(title) % {"commitment": commitment},
        "opts": model_admin.opts,
        "original": commitment,
        "form": form,
        "media": model_admin.media + form.media,
        "has_view_permission": True,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, template, context)


class CommitmentStatusAdminMixin(admin.ModelAdmin):
    """Add the "Change status" page and the bulk status actions to the commitments' admin."""

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
        return evidence_form_page(
            self,
            request,
            object_id,
            form_class=StatusChangeForm,
            date_fields=("occurred_on",),
            title=_("Change the status of %(commitment)s"),
            template="admin/commitments/commitment/change_status.html",
        )

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
