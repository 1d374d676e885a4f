"""Forms of the review pages: the domain's forms with the pages' widgets."""

from __future__ import annotations

import copy
from typing import Any, TypeVar, cast

from django import forms
from django.http import QueryDict
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from commitments import passages
from commitments.forms import AssessmentForm, RevisionForm, StatusChangeForm
from commitments.models import Source

FormT = TypeVar("FormT", bound=forms.BaseForm)


def _attrs(attrs: dict[str, Any]) -> str:
    """Write ``attrs`` as Django's ``attrs.html`` does: False left out, True bare."""
    return "".join(
        f" {conditional_escape(name)}"
        + ("" if value is True else f'="{conditional_escape(str(value))}"')
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """A select written in Python, as Django's templates write it, character for character.

    Django renders each option through a template of its own: a select of a commitment's
    citations, or of a 1,000-row report's rows, cost more than the rest of its page.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            out.extend(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                for option in options
            )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def quick_selects(form: FormT) -> FormT:
    """Give ``form``'s selects the quick writer (:class:`QuickSelect`); return the form."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            field.widget = copy.copy(field.widget)
            field.widget.__class__ = QuickSelect
    return form


def dashboard_widgets(form: FormT) -> FormT:
    """Give ``form``'s date fields the browser's date picker and its selects the quick
    writer; return the form."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return quick_selects(form)


class SourcePassages:
    """The paragraphs of the source chosen as evidence, for the editor to pick one from."""

    def source_paragraphs(self) -> list[tuple[int, str]]:
        """Return the chosen source's archived text as numbered paragraphs (none if no text)."""
        form = cast(forms.Form, self)
        value = form["evidence_source"].value()
        try:
            source = Source.objects.filter(pk=int(value)).only("text").first() if value else None
        except (TypeError, ValueError):
            return []
        if source is None:
            return []
        return [
            (paragraph.number, source.text[paragraph.start : paragraph.end])
            for paragraph in passages.paragraphs(source.text)
        ]


#: The name of the "Show its text to pick a passage" button: a POST that saves nothing.
SHOW_SOURCE = "show_source"


def initial_from_post(data: QueryDict, prefix: str = "") -> dict[str, Any]:
    """Return a form's initial values from what the editor typed, posted by the "Show its
    text" button: the page comes back with them and the source's paragraphs, nothing saved.

    It posts (never a GET) so the note, the status and the CSRF token stay out of addresses
    and logs; the form is shown unbound, so no error is shown before the editor saves.
    """
    return {
        key.removeprefix(prefix): value
        for key, value in data.items()
        if key.startswith(prefix) and key not in ("csrfmiddlewaretoken", SHOW_SOURCE)
    }


class ProgressForm(SourcePassages, StatusChangeForm):
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
        dashboard_widgets(self)


# Ratings (issue 13).


class RatingForm(SourcePassages, AssessmentForm):
    """The rating form with the browser's date picker; its fields are prefixed ``rating-``
    so that its errors never mix with the progress form's on the same page."""

    prefix = "rating"
    offers_new_source = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dashboard_widgets(self)
