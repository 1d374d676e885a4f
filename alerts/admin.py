"""The admin of the deadline watch: people's own subscriptions, and the alert outbox.

Every staff user manages their own subscriptions here (superusers see and edit everyone's).
The form checks a subscription through the same service rules as the API. Alerts are
read-only: the outbox is written by the scan and the sender; the one action people take,
"retry now", goes through :func:`alerts.services.outbox.alerts_retry`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin import LogAdminMixin

from .models import Alert, Subscription, SubscriptionLead
from .services.outbox import alerts_retry
from .services.subscriptions import subscription_validate


class SubscriptionLeadInline(admin.TabularInline):
    """Lead times edited with their subscription, by whoever may edit the subscription."""

    model = SubscriptionLead
    extra = 0
    min_num = 1
    validate_min = True

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return SubscriptionAdmin.owns(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return SubscriptionAdmin.owns(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return SubscriptionAdmin.owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return SubscriptionAdmin.owns(request, obj)


class SubscriptionAdminForm(forms.ModelForm):
    """Check the subscription as the service would: target, recipient address, no duplicate."""

    #: The user the subscription belongs to when the form does not show ``user``.
    owner: Any = None

    class Meta:
        model = Subscription
        fields = ["user", "scope", "agreement", "party", "commitment", "mode"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user = self.owner or cleaned.get("user")
        if user is None or self.errors:
            return cleaned
        candidate = Subscription(
            pk=self.instance.pk,
            user=user,
            scope=cleaned.get("scope", ""),
            agreement=cleaned.get("agreement"),
            party=cleaned.get("party"),
            commitment=cleaned.get("commitment"),
            mode=cleaned.get("mode", ""),
        )
        try:
            subscription_validate(subscription=candidate)
        except ValidationError as exc:
            for field, messages_ in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages_)
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(SimpleHistoryAdmin):
    form = SubscriptionAdminForm
    inlines = [SubscriptionLeadInline]
    list_display = ["__str__", "scope", "mode", "lead_times", "created"]
    list_filter = ["scope", "mode"]
    autocomplete_fields = ["agreement", "party", "commitment"]
    search_fields = ["agreement__title", "party__name", "commitment__title", "user__username"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        rows = (
            super()
            .get_queryset(request)
            .select_related("user", "agreement", "party", "commitment")
            .prefetch_related("leads")
        )
        return rows if request.user.is_superuser else rows.filter(user=request.user.pk)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = ["scope", "agreement", "party", "commitment", "mode"]
        return ["user", *fields] if request.user.is_superuser else fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            return form
        return type(form.__name__, (form,), {"owner": request.user})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser:
            obj.user = request.user
        super().save_model(request, obj, form, change)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.owns(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.owns(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.owns(request, obj)

    @staticmethod
    def owns(request: HttpRequest, obj: Subscription | None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or user.is_superuser or obj.user_id == user.pk

    @admin.display(description=_("lead times"))
    def lead_times(self, obj: Subscription) -> str:
        return ", ".join(str(lead) for lead in obj.leads.all())


@admin.register(Alert)
class AlertAdmin(LogAdminMixin, admin.ModelAdmin):
    list_display = [
        "commitment",
        "recipient",
        "due_date",
        "threshold",
        "digest",
        "state",
        "attempts",
        "short_error",
        "next_attempt_at",
        "sent_at",
        "created",
    ]
    list_filter = ["state", "digest", "threshold", "created"]
    list_select_related = ["commitment", "user"]
    search_fields = ["email", "user__username", "commitment__key", "commitment__title"]
    date_hierarchy = "created"
    actions = ["retry_now"]

    retry_permission = "alerts.change_alert"

    @admin.display(description=_("recipient"))
    def recipient(self, obj: Alert) -> str:
        return obj.email or str(obj.user or "")

    @admin.display(description=_("last error"))
    def short_error(self, obj: Alert) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.action(description=_("Retry now (failed alerts only)"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        queued = alerts_retry(alert_ids=ids, now=timezone.now())
        self.message_user(
            request,
            _("%(queued)d failed alert(s) queued again; %(left)d left as they were.")
            % {"queued": queued, "left": len(ids) - queued},
            messages.SUCCESS if queued else messages.WARNING,
        )
