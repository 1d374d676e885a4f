"""Forms of the review pages: the domain's forms with the pages' widgets."""

from __future__ import annotations

from typing import Any

from django import forms

from commitments.forms import StatusChangeForm


class ProgressForm(StatusChangeForm):
    """The status change form with the browser's date picker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_on"].widget = forms.DateInput(
            attrs={"type": "date"}, format="%Y-%m-%d"
        )
