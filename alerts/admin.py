"""The admin of the deadline watch: people's own subscriptions, and the alert outbox.

Every staff user manages their own subscriptions here (superusers see and edit everyone's).
They are created, changed and deleted through the same services as in the API and the
dashboard, so the lead times are normalised and the target stays fixed once made. Alerts are
read-only: the outbox is written by the scan and the sender; the one action people take,
"retry now", goes through the outbox core (``ALERT_OUTBOX.retry``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from core.admin import HistoryAdmin, LogAdminMixin, ModelAdmin

from .models import OVERDUE_LEAD, Alert, Subscription
from .services.delivery import ALERT_OUTBOX
from .services.subscriptions import (
    TARGET_FIELDS,
    lead_days_normalise,
    subscription_create,
    subscription_delete,
    subscription_update,
    subscription_validate,
)


class SubscriptionAdminForm(forms.ModelForm):
    """A subscription's target, lead times and mode, checked by the service's own rules.

    The lead times are typed as the API takes them (days before the deadline, plus the notice
    the day after), and the service normalises and saves them.
    """

    lead_days = forms.CharField(
        label=_("lead times"),
        required=False,
        help_text=_("Days before the deadline, separated by commas, e.g. 30, 7, 1."),
    )
    notify_overdue = forms.BooleanField(
        label=_("the day after"),
        required=False,
        initial=True,
        help_text=_("Also alert on the day after a missed deadline."),
    )

    #: The user the subscription belongs to when the form does not show ``user``.
    owner: Any = None

    class Meta:
        model = Subscription
        fields = ["user", "scope", "agreement", "party", "commitment", "mode"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            days = list(self.instance.leads.values_list("days", flat=True))
            self.initial["lead_days"] = ", ".join(str(d) for d in days if d != OVERDUE_LEAD)
            self.initial["notify_overdue"] = OVERDUE_LEAD in days
        else:
            self.initial.setdefault(
                "lead_days", ", ".join(map(str, settings.TRACKER_DEFAULT_LEAD_DAYS))
            )

    def clean_lead_days(self) -> list[int]:
        text = self.cleaned_data["lead_days"]
        parts = [part.strip() for part in text.split(",") if part.strip()]
        # isascii: str.isdigit() also takes "²", which int() then refuses.
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValidationError(_("Give whole numbers of days, separated by commas."))
        return [int(part) for part in parts]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            lead_days_normalise(
                lead_days=cleaned["lead_days"], notify_overdue=cleaned["notify_overdue"]
            )
            if self.instance.pk is None:
                user = self.owner or cleaned.get("user")
                if user is not None:
                    subscription_validate(subscription=Subscription(user=user, **self._target()))
        except ValidationError as exc:
            for field, messages_ in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages_)
        return cleaned

    def _post_clean(self) -> None:
        """Copy the input onto the instance without Django's model checks.

        The service checks the row (:func:`subscription_validate`: the model's rules and the
        duplicates) in :meth:`clean`. Django's own checks here would run a second time on an
        instance missing every field the service refused, and add "Choose the agreement to
        watch." and the raw "Constraint … is violated." beside the service's one error.
        """
        self.instance = forms.models.construct_instance(
            self, self.instance, self._meta.fields, self._meta.exclude
        )

    def _target(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in TARGET_FIELDS}


@admin.register(Subscription)
class SubscriptionAdmin(HistoryAdmin):
    """Subscriptions saved through the service; the target is fixed once made, as in the API."""

    form = SubscriptionAdminForm
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
        fields = [*TARGET_FIELDS, "lead_days", "notify_overdue", "mode"]
        return ["user", *fields] if request.user.is_superuser else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user", *TARGET_FIELDS] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            return form
        return type(form.__name__, (form,), {"owner": request.user})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Create or change the subscription through the service, with its lead times."""
        leads = {
            "lead_days": form.cleaned_data["lead_days"],
            "notify_overdue": form.cleaned_data["notify_overdue"],
        }
        if change:
            # The form has already set the new mode on ``obj``; the service compares with
            # the stored row.
            subscription_update(
                subscription=Subscription.objects.get(pk=obj.pk),
                mode=form.cleaned_data["mode"],
                **leads,
            )
            return
        saved = subscription_create(
            user=obj.user if request.user.is_superuser else request.user,
            mode=form.cleaned_data["mode"],
            **form._target(),
            **leads,
        )
        # The admin goes on with ``obj`` (its message, log entry and redirect).
        obj.pk, obj.user, obj.created = saved.pk, saved.user, saved.created
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing more to save: the service wrote the subscription and its lead times."""

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

    def delete_model(self, request: HttpRequest, obj: Subscription) -> None:
        subscription_delete(subscription=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            subscription_delete(subscription=subscription)

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
class AlertAdmin(LogAdminMixin, ModelAdmin):
    list_display = [
        "commitment",
        "kind",
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
    list_filter = ["kind", "state", "digest", "threshold", "created"]
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
        queued = ALERT_OUTBOX.retry(ids=ids, now=timezone.now())
        self.message_user(
            request,
            _("%(queued)d failed alert(s) queued again; %(left)d left as they were.")
            % {"queued": queued, "left": len(ids) - queued},
            messages.SUCCESS if queued else messages.WARNING,
        )
