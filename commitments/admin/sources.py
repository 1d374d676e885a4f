"""The admin of sources and of the citations quoting them.

A new source is saved through ``source_create``, with its archived copy (pasted text or an
uploaded file, read and checked there); on an existing source the copy is read-only. Every
citation saved here points at its quote's span in the source's text, where it is found.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from commitments.forms import ServiceModelForm
from commitments.models import Citation, Source
from commitments.services import sources as source_services

from .base import ServiceSaveAdmin, service_call

#: The archived copy's facts: written by ``source_create``, shown read-only.
ARCHIVE_FIELDS = ["text", "original", "original_name", "content_type", "sha256", "retrieved_on"]


class SourceAddForm(ServiceModelForm):
    """A new source: its facts, and its copy pasted or uploaded (``source_create`` reads it)."""

    original = forms.FileField(
        label=_("Or upload the file (PDF, saved web page or text)"),
        required=False,
        help_text=_("Judged on its bytes; a PDF needs a text layer. Nothing is fetched."),
    )

    class Meta:
        model = Source
        fields = [
            "key",
            "title",
            "publisher",
            "url",
            "language",
            "published_on",
            "kind",
            "retrieved_on",
            "text",
        ]
        labels = {"text": _("Paste the text")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["key"].help_text = _("Left empty, it is made from the title.")

    def _post_clean(self) -> None:
        # ``source_create`` checks the whole source (and makes its key); a model check here
        # would refuse the empty key before it is made.
        pass


class CitationSpanForm(forms.ModelForm):
    """A citation whose quote is placed in its source's archived text when it is checked.

    A new or changed quote is placed with ``required=True``, as in the editors' forms: the
    admin's editor types or pastes it from a source whose text is archived, so it must stand
    there (a paraphrase belongs in the translation). An unchanged citation of older data with
    no span is left as it is.
    """

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source, quote = cleaned.get("source"), cleaned.get("quote")
        moved = {"source", "quote"} & set(self.changed_data)
        if source is not None and quote and (moved or self.instance.start is None):
            probe = Citation(source=source, quote=quote)
            required = bool(moved) or self.instance.pk is None
            try:
                source_services.citation_place(probe, required=required)
            except ValidationError as exc:
                self.add_error("quote", exc.message_dict["quote"])
                return cleaned
            self.instance.start, self.instance.end = probe.start, probe.end
            cleaned["quote"] = probe.quote
        return cleaned


@admin.register(Source)
class SourceAdmin(ServiceSaveAdmin):
    list_display = ["title", "publisher", "kind", "language", "published_on", "content_type"]
    list_filter = ["kind", "language", "publisher", "content_type"]
    search_fields = ["title", "publisher", "key", "url"]
    date_hierarchy = "published_on"

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = SourceAddForm
            kwargs["fields"] = SourceAddForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return list(SourceAddForm.Meta.fields)
        own = ["key", "title", "publisher", "url", "language", "published_on", "kind"]
        return [*own, *ARCHIVE_FIELDS]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(ARCHIVE_FIELDS) if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Source, form: forms.ModelForm, change: bool
    ) -> None:
        """Create a new source through ``source_create``; an existing one as usual."""
        if change:
            super().save_model(request, obj, form, change)
            return
        data = dict(form.cleaned_data)
        upload = data.pop("original", None)
        text = data.pop("text", "") or ""
        arguments: dict[str, Any] = {k: v for k, v in data.items() if v not in (None, "")}
        if upload is not None:
            arguments["upload"] = source_services.upload_read(upload)
            arguments["upload_name"] = upload.name or ""
        with service_call():
            created = source_services.source_create(
                user=request.user, text=text, copy_required=True, **arguments
            )
        # The admin's response (and its pop-up answer) reads the saved object from ``obj``.
        obj.__dict__.update(created.__dict__)


@admin.register(Citation)
class CitationAdmin(ServiceSaveAdmin):
    list_display = ["__str__", "source", "agreement", "commitment", "locator"]
    list_filter = ["source__kind", "source__language", "source"]
    list_select_related = ["source", "agreement", "commitment"]
    search_fields = ["quote", "translation", "locator", "source__title", "source__publisher"]
    autocomplete_fields = ["source", "agreement", "commitment"]
    form = CitationSpanForm
    readonly_fields = ["start", "end"]
