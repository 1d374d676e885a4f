"""The agreements' publication in the admin: its steps, their record, and the bulk actions.

Every step goes through :func:`commitments.services.publishing.publication_change`, so the
admin refuses what the dashboard and the API refuse, with the same words.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from commitments.choices import PUBLICATION_BUTTONS, PublicationAction
from commitments.forms import PublicationChangeForm
from commitments.models import Agreement, PublicationEvent
from commitments.services.publishing import publication_change, publication_steps
from core.admin import TabularInline


class PublicationEventInline(TabularInline):
    """The agreement's publication steps, newest first: a record, never edited here."""

    model = PublicationEvent
    fields = ["at", "user", "action", "state_from", "state_to", "note"]
    readonly_fields = ["at", "user", "action", "state_from", "state_to", "note"]
    extra = 0
    can_delete = False
    verbose_name = gettext_lazy("publication step")
    verbose_name_plural = gettext_lazy("publication steps")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The steps are the agreement's record: whoever sees the agreement sees them.
        return request.user.has_perm("commitments.view_agreement")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublicationEvent]:
        return super().get_queryset(request).select_related("user").order_by("-at", "-id")


def publication_buttons(agreement: Agreement) -> list[tuple[str, str]]:
    """Return the buttons (action, label) of the steps that lead on from the agreement's state."""
    return [
        (action, str(PUBLICATION_BUTTONS[PublicationAction(action)]))
        for action in publication_steps(agreement)
    ]


def _refusal_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class AgreementPublicationAdminMixin(admin.ModelAdmin):
    """The publication buttons of an agreement's page, and the bulk publication actions."""

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/publication/",
                self.admin_site.admin_view(require_POST(self.publication_view)),
                name="{}_{}_publication".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Offer the steps that lead on from the agreement's state, with a note field."""
        extra = dict(extra_context or {})
        # Only on the page as opened: a submission with errors is fixed and saved first.
        agreement = None
        if request.method == "GET":
            agreement = self.get_object(request, unquote(object_id))
        if agreement is not None and self.has_change_permission(request, agreement):
            extra["publication_buttons"] = publication_buttons(agreement)
            extra["publication_form"] = PublicationChangeForm(agreement=agreement)
        return super().change_view(request, object_id, form_url, extra)

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """Leave the steps' record out of a submission: it is read-only, nothing is sent."""
        inlines = super().get_inline_instances(request, obj)
        if request.method == "POST":
            inlines = [i for i in inlines if not isinstance(i, PublicationEventInline)]
        return inlines

    def publication_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Take one step; a refusal is an error message and nothing changes."""
        agreement = self.get_object(request, unquote(object_id))
        if agreement is None:
            raise Http404(_("No agreement with this id."))
        if not self.has_change_permission(request, agreement):
            raise PermissionDenied
        form = PublicationChangeForm(request.POST, agreement=agreement)
        event = form.save(user=request.user) if form.is_valid() else None
        if event is None:
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    text = f"{label}: {error}" if label else str(error)
                    self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(
                request,
                _("%(agreement)s: %(step)s.")
                % {"agreement": agreement, "step": event.get_action_display()},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:commitments_agreement_change", args=[agreement.pk])
        )

    def _bulk_publication(
        self,
        request: HttpRequest,
        queryset: QuerySet[Agreement],
        action: PublicationAction,
        note: str = "",
    ) -> None:
        done = 0
        for agreement in queryset.order_by("pk"):
            try:
                publication_change(agreement=agreement, action=action, user=request.user, note=note)
            except (ValidationError, PermissionDenied) as exc:
                reason = (
                    _refusal_text(exc)
                    if isinstance(exc, ValidationError)
                    else _("Only an editor may change what is published.")
                )
                self.message_user(
                    request,
                    _("%(agreement)s was not changed: %(reason)s")
                    % {"agreement": agreement, "reason": reason},
                    messages.ERROR,
                )
            else:
                done += 1
        self.message_user(
            request,
            _("%(count)d agreement(s): %(step)s.") % {"count": done, "step": action.label},
            messages.SUCCESS if done else messages.WARNING,
        )

    @admin.action(
        description=gettext_lazy("Submit selected agreements for review"), permissions=["change"]
    )
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet[Agreement]) -> None:
        self._bulk_publication(request, queryset, PublicationAction.SUBMIT)

    @admin.action(description=gettext_lazy("Publish selected agreements"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Agreement]) -> None:
        self._bulk_publication(request, queryset, PublicationAction.PUBLISH)

    @admin.action(
        description=gettext_lazy("Unpublish selected agreements (with a reason)"),
        permissions=["change"],
    )
    def unpublish(
        self, request: HttpRequest, queryset: QuerySet[Agreement]
    ) -> TemplateResponse | None:
        """Ask for the reason on a page of its own, then unpublish each selected agreement."""
        reason = ""
        error = ""
        if "confirm" in request.POST:
            reason = request.POST.get("reason", "").strip()
            if "\x00" in reason or len(reason) > PublicationChangeForm.NOTE_MAX:
                error = _("The reason must be text of at most %(max)d characters.") % {
                    "max": PublicationChangeForm.NOTE_MAX
                }
            elif not reason:
                error = _("Say why the agreements are taken off the public site.")
            else:
                self._bulk_publication(request, queryset, PublicationAction.UNPUBLISH, reason)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Unpublish agreements"),
            "opts": self.opts,
            "agreements": list(queryset.order_by("pk")),
            "reason": reason,
            "error": error,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/commitments/agreement/unpublish.html", context)
