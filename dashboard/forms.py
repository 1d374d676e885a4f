"""Forms of the review pages: the domain's forms with the pages' widgets."""

from __future__ import annotations

import copy
from typing import Any, TypeVar, cast

from django import forms
from django.http import QueryDict
from django.utils.formats import localize
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


#: Django's widget templates that the quick writers write character for character.
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "date", "email", "url", "hidden", "search", "tel")
)


def _select_html(widget: dict[str, Any]) -> str:
    """Write ``select.html`` for a widget's context (its options through ``select_option.html``)."""
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(localize(group_name))}">')
        out.extend(
            f'\n  <option value="{conditional_escape(str(option["value"]))}"'
            f"{_attrs(option['attrs'])}>{conditional_escape(localize(option['label']))}</option>\n"
            for option in options
        )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _input_html(widget: dict[str, Any]) -> str:
    """Write ``input.html`` (which ``text.html``, ``date.html``... include) for a context."""
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


class QuickWriter:
    """A widget written in Python, as Django's templates write it, character for character.

    Django renders each widget, and each option of a select, through a template of its own:
    a select of a commitment's citations, or of a 1,000-row report's rows, cost more than the
    rest of its page, and the commitment list's fifteen filters a quarter of it. A widget
    whose template is not one of Django's own (a subclass's) is rendered by its template.
    """

    template_name: str

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        writer = _writer(self)
        if writer is None:
            return super().render(name, value, attrs, renderer)  # type: ignore[misc]
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        return mark_safe(writer(widget))  # noqa: S308 - every value is escaped by the writer


def _writer(widget: Any) -> Any:
    """Return the writer of the template of ``widget`` (a widget or its class), or None if it
    is not one of those templates."""
    template = getattr(widget, "template_name", None)
    if template == SELECT_TEMPLATE:
        option = getattr(widget, "option_template_name", None)
        return _select_html if option == OPTION_TEMPLATE else None
    return _input_html if template in INPUT_TEMPLATES else None


class QuickSelect(QuickWriter, forms.Select):
    """A select written by :class:`QuickWriter`."""


_QUICK_CLASSES: dict[type, type] = {forms.Select: QuickSelect}


def quick_class(widget_class: type) -> type | None:
    """Return the quick-written subclass of ``widget_class`` (made once), or None when its
    template has no quick writer or it renders otherwise than Django's widgets do (its own
    ``render``, as django-filter's CSV widgets)."""
    quick = _QUICK_CLASSES.get(widget_class)
    if (
        quick is None
        and widget_class.render is forms.Widget.render  # type: ignore[attr-defined]
        and _writer(widget_class) is not None
    ):
        name = f"Quick{widget_class.__name__}"
        quick = type(name, (QuickWriter, widget_class), {"__module__": __name__})
        _QUICK_CLASSES[widget_class] = quick
    return quick


def quick_selects(form: FormT) -> FormT:
    """Give ``form``'s widgets whose templates are Django's select or input the quick writer
    (:class:`QuickWriter`); return the form."""
    for field in form.fields.values():
        quick = quick_class(type(field.widget))
        if quick is not None:
            field.widget = copy.copy(field.widget)
            field.widget.__class__ = quick
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
