"""Forms of the review pages: the domain's forms with the pages' widgets."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms

from commitments.forms import AssessmentForm, RevisionForm, StatusChangeForm

FormT = TypeVar("FormT", bound=forms.BaseForm)


def dashboard_widgets(form: FormT) -> FormT:
    """Give ``form``'s date fields the browser's date picker; return the form."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form


class ProgressForm(StatusChangeForm):
    """The status change form with the browser's date picker; it may add the evidence's source."""

    offers_new_source = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dashboard_widgets(self)


# Deadline revisions (issue 12).


class DeadlineRevisionForm(RevisionForm):
    """The revision form with the browser's date pickers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("new_due_date", "revised_on"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# Ratings (issue 13).


class RatingForm(AssessmentForm):
    """The rating form with the browser's date picker; its fields are prefixed ``rating-``
    so that its errors never mix with the progress form's on the same page."""

    prefix = "rating"
    offers_new_source = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dashboard_widgets(self)
