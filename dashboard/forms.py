"""Forms of the review pages. They parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commitments.choices import Status
from commitments.models import Source


class ProgressForm(forms.Form):
    """Record a progress update, which may change the status, with its evidence."""

    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    occurred_on = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    measured_value = forms.DecimalField(
        label=_("Measured value"), max_digits=20, decimal_places=4, required=False
    )
    evidence_source = forms.ModelChoiceField(
        label=_("Evidence source"),
        queryset=Source.objects.order_by("-published_on", "title"),
        required=False,
    )
    evidence_quote = forms.CharField(
        label=_("Quote (original language)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    evidence_translation = forms.CharField(
        label=_("Translation"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    evidence_locator = forms.CharField(label=_("Locator"), max_length=200, required=False)

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's refusal on the fields it names, or above the form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            target = name if name in self.fields else None
            if name == "evidence":
                target = "evidence_source"
            self.add_error(target, errors)
