"""A public correction from the admin's change form: the "Public correction note" field.

Listed among the bases of the agreement and commitment admins (before
:class:`~commitments.admin.base.ServiceSaveAdmin`). When an editor fills the note, the fields
changed on the form become corrections of published content through
:func:`commitments.services.corrections.correction_record`, with the note shown publicly; the
admin's own save then goes on as usual (inlines, parties). A refusal (a draft, nothing
changed) is shown on the note, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from commitments.services.corrections import correction_record

from .base import ServiceRejected, model_fields_changed

NOTE_FIELD = "correction_note"

#: The service's errors that are about the correction as a whole: shown on the note.
_ON_THE_NOTE = ("agreement", "changes", "note")


class CorrectionNoteForm(forms.Form):
    """The note, added to an admin change form."""

    correction_note = forms.CharField(
        label=_("Public correction note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Fill this only to correct published content: the fields you changed are listed "
            "in the public corrections log with this note, which says why."
        ),
    )


class CorrectionAdminMixin:
    """Offer the public correction note on a change form; save a filled one as corrections."""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if obj is not None:
            fieldsets.append((_("Public correction"), {"fields": [NOTE_FIELD]}))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            base: type[forms.ModelForm] = kwargs.get("form") or self.form  # type: ignore[attr-defined]
            kwargs["form"] = type(
                base.__name__, (base,), {NOTE_FIELD: CorrectionNoteForm.base_fields[NOTE_FIELD]}
            )
        return super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        """Record a filled note's corrections first, inside the admin's transaction.

        The admin classes define their own ``save_model``; the form is saved before it, so
        a refusal here (raised as :class:`ServiceRejected`) rolls the whole submission back.
        """
        note = form.cleaned_data.get(NOTE_FIELD, "") if change else ""
        if note.strip():
            changes = {name: form.cleaned_data[name] for name in model_fields_changed(form)}
            try:
                # The service reads the stored values afresh: what the public read before.
                correction_record(
                    target=form.instance, changes=changes, note=note, user=request.user
                )
            except ValidationError as exc:
                raise ServiceRejected(_on_the_note(exc)) from exc
        return super().save_form(request, form, change)  # type: ignore[misc]

def _on_the_note(error: ValidationError) -> ValidationError:
    """Move the errors about the correction as a whole onto the note field."""
    if not hasattr(error, "error_dict"):
        return ValidationError({NOTE_FIELD: error.messages})
    moved: dict[str, list[str]] = {}
    for name, messages in error.message_dict.items():
        moved.setdefault(NOTE_FIELD if name in _ON_THE_NOTE else name, []).extend(messages)
    return ValidationError(moved)
