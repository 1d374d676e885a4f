"""Forms of the workbench: the start (agreement and source), the agreement carried, the drafts.

They parse and show; the rules live in the services (``commitments.services.workbench``,
``sources``, ``commitments``) and the models they validate through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from commitments import deadlines
from commitments.choices import AgreementKind, Category, PartyKind, SourceKind
from commitments.forms import DATE_ERRORS, AmountField, LocalizedModelChoiceField
from commitments.models import Agreement, Commitment, Party, Source
from commitments.places import time_zone_guess
from commitments.services.sources import source_by_copy, source_create
from commitments.services.workbench import parties_by_name

DATE_WIDGET = {"type": "date"}
#: The workbench's drafts count a relative rule from the agreement's date: no anchor to pick.
_NOT_OFFERED = {deadlines.ANCHOR_KIND_FIELD.name, deadlines.ANCHOR_COMMITMENT_FIELD.name}
#: The rule's stored fields each kind of rule reads (the engine's mapping, as the admin's):
#: the only ones shown for that kind.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name in names if name not in _NOT_OFFERED)
    for kind, names in deadlines.KIND_PARAMETERS.items()
}
RULE_INPUTS = ("deadline_kind", "deadline_phrase", *(n for f in KIND_FIELDS.values() for n in f))


def _date_field(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages=DATE_ERRORS,
    )


def _model_field(model: Any, name: str, **kwargs: Any) -> forms.Field:
    field = model._meta.get_field(name).formfield(**kwargs)
    if isinstance(field, forms.DateField):
        field.widget = forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
        field.error_messages.update(DATE_ERRORS)
    return field


def language_choices_initial() -> str:
    return (get_language() or "en").split("-")[0]


class StartForm(forms.Form):
    """Step one: the agreement (picked, or new with its parties) and the source (picked or
    pasted). Saving creates the pasted source and the parties named inline; the agreement
    itself is written with its commitments, at the end."""

    agreement = LocalizedModelChoiceField(
        Agreement.objects.order_by("-date", "title"),
        required=False,
        label=_("Existing agreement"),
        empty_label=_("— a new agreement —"),
    )
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=AgreementKind.choices, initial=AgreementKind.JOINT_STATEMENT
    )
    date = _date_field(_("Date signed or announced"))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        required=False,
        help_text=_("Left empty: the place's zone, else the parties' (Tokyo: Asia/Tokyo)."),
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    parties = forms.ModelMultipleChoiceField(
        Party.objects.order_by("name"),
        required=False,
        label=_("Parties"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    new_parties = forms.CharField(
        label=_("New parties"),
        required=False,
        help_text=_("One name per line; created with the kind and country code below."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    new_party_kind = forms.ChoiceField(
        label=_("Kind of the new parties"), choices=PartyKind.choices, initial=PartyKind.STATE
    )
    new_party_country = forms.CharField(
        label=_("Their country code"),
        max_length=2,
        required=False,
        help_text=_("ISO 3166-1, e.g. JP; empty for an organisation."),
    )
    source = forms.ModelChoiceField(
        Source.objects.exclude(text="").order_by("-published_on", "title"),
        required=False,
        label=_("Existing source"),
        empty_label=_("— paste a new source —"),
    )
    text = forms.CharField(
        label=_("Source text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Paste the whole text; citations point into it."),
    )
    source_title = forms.CharField(label=_("Source title"), max_length=500, required=False)
    publisher = forms.CharField(label=_("Publisher"), max_length=200, required=False)
    url = forms.URLField(label=_("URL"), max_length=1000, required=False, assume_scheme="https")
    # No max_length: its maxlength attribute made browsers cut "xx-garbage-123" to a tag
    # that passes; the model's checks (shape and length) judge the whole value instead.
    language = forms.CharField(
        label=_("Language of the text"),
        initial=language_choices_initial,
        help_text=_("BCP 47 code: en, fr, ja…"),
        widget=forms.TextInput(attrs={"size": 8}),
    )
    published_on = _date_field(_("Published on"))
    source_kind = forms.ChoiceField(
        label=_("Source kind"), choices=SourceKind.choices, initial=SourceKind.OFFICIAL
    )

    AGREEMENT_REQUIRED = {
        "title": _("Give the new agreement's title (or pick an existing agreement)."),
        "date": _("Give the day the new agreement was signed or announced."),
    }
    #: What describes a new agreement: given with an agreement picked, it would be lost.
    AGREEMENT_DESCRIBED = ("title", "date", "place", "time_zone", "parties", "new_parties")
    SOURCE_REQUIRED = ("text", "source_title", "publisher", "published_on")
    #: The source's fields under the model's names, for its checks and their errors.
    SOURCE_FIELDS = {
        "source_title": "title",
        "publisher": "publisher",
        "url": "url",
        "language": "language",
        "published_on": "published_on",
        "source_kind": "kind",
    }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("agreement") is None:
            for name, message in self.AGREEMENT_REQUIRED.items():
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
            if not data.get("parties") and not self._new_party_names():
                self.add_error("parties", _("Pick the parties, or name new ones."))
            self._agreement_check(data)
        elif any(data.get(name) for name in self.AGREEMENT_DESCRIBED):
            self.add_error("agreement", _("Pick an agreement or describe a new one, not both."))
        if data.get("source") is None:
            for name in self.SOURCE_REQUIRED:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Needed for a new source (or pick one)."))
            self._source_check(data)
        return data

    def _new_party_names(self) -> list[str]:
        text = self.cleaned_data.get("new_parties", "")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def _agreement_check(self, data: dict[str, Any]) -> None:
        """Check the new agreement's own fields now, so its errors show on this page."""
        if not data.get("time_zone"):
            codes = [party.country_code for party in data.get("parties") or ()]
            if data.get("new_party_country"):
                codes.append(data["new_party_country"])
            data["time_zone"] = time_zone_guess(data.get("place", ""), codes) or "UTC"
        agreement = Agreement(**{name: data.get(name) for name in self.agreement_fields()})
        agreement.key = "workbench-check"
        try:
            agreement.full_clean(exclude=["key"], validate_unique=False)
        except ValidationError as exc:
            self._model_errors(exc, {})

    def _source_check(self, data: dict[str, Any]) -> None:
        """Check the new source's own fields now (its copy is retrieved today), so its errors
        show on this page with the agreement's."""
        source = Source(
            **{model: data.get(name) for name, model in self.SOURCE_FIELDS.items()},
            key="workbench-check",
            retrieved_on=timezone.localdate(),
        )
        try:
            source.full_clean(validate_unique=False)
        except ValidationError as exc:
            self._model_errors(exc, {model: name for name, model in self.SOURCE_FIELDS.items()})

    def _model_errors(self, exc: ValidationError, names: Mapping[str, str]) -> None:
        """Put a model's errors at this form's fields; a field with an error of its own
        (a required one left empty) keeps only that one."""
        for model_name, messages in exc.message_dict.items():
            name = names.get(model_name, model_name)
            if name not in self.fields:
                self.add_error(None, messages)
            elif name not in self.errors:
                self.add_error(name, messages)

    @staticmethod
    def agreement_fields() -> tuple[str, ...]:
        return ("title", "kind", "date", "place", "time_zone")

    @transaction.atomic
    def save(self, *, user: Any) -> tuple[Source, dict[str, Any]]:
        """Create the pasted source and the new parties; return the source and the agreement
        as the workbench's address carries it (``agreement`` id, or the new one's fields)."""
        data = self.cleaned_data
        # The same text pasted again (another "Open the workbench") reuses its source.
        source = data["source"] or source_by_copy(data["text"])
        if source is None:
            try:
                source = source_create(
                    user=user,
                    text=data["text"],
                    title=data["source_title"],
                    publisher=data["publisher"],
                    url=data["url"],
                    language=data["language"],
                    published_on=data["published_on"],
                    kind=data["source_kind"],
                )
            except ValidationError as exc:
                names = {"title": "source_title", "kind": "source_kind"}
                for name, messages in exc.message_dict.items():
                    name = names.get(name, name)
                    self.add_error(name if name in self.fields else None, messages)
                raise
        if data["agreement"] is not None:
            return source, {"agreement": data["agreement"].pk}
        try:
            new = parties_by_name(
                user=user,
                names=self._new_party_names(),
                kind=data["new_party_kind"],
                country_code=data["new_party_country"],
            )
        except ValidationError as exc:
            self.add_error("new_parties", exc.messages)
            raise
        carried: dict[str, Any] = {name: data[name] for name in self.agreement_fields()}
        carried["date"] = data["date"].isoformat()
        carried["parties"] = sorted({p.pk for p in data["parties"]} | {p.pk for p in new})
        return source, carried


class AgreementCarryForm(forms.Form):
    """A new agreement's fields, carried by the workbench's address and its hidden inputs."""

    prefix = "a"

    title = forms.CharField(label=_("Title"), max_length=300, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=AgreementKind.choices, widget=forms.HiddenInput
    )
    date = forms.DateField(
        label=_("Date signed or announced"), widget=forms.HiddenInput, error_messages=DATE_ERRORS
    )
    place = forms.CharField(
        label=_("Place"), max_length=200, required=False, widget=forms.HiddenInput
    )
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, required=False, widget=forms.HiddenInput
    )
    parties = forms.ModelMultipleChoiceField(
        Party.objects.order_by("name"), label=_("Parties"), widget=forms.MultipleHiddenInput
    )

    def agreement_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in StartForm.agreement_fields()}


def _choices(blank: bool, choices: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return [("", "—"), *choices] if blank else list(choices)


class DraftForm(forms.Form):
    """One commitment drafted from a passage: its citation, its fields and its deadline rule.

    ``parties`` are the agreement's (the obligor is one of them); they are given once for the
    page, so that no draft asks the database for them again.
    """

    quote = forms.CharField(
        label=_("Quote"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Select the passage in the text, or paste it here."),
    )
    start = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    end = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    locator = forms.CharField(label=_("Locator"), max_length=200, required=False)
    translation = forms.CharField(
        label=_("Translation"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    translation_language = forms.CharField(
        label=_("Translation language"), max_length=8, required=False
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    key = forms.SlugField(
        label=_("Key"),
        max_length=80,
        required=False,
        help_text=_("Made from the title; change it if you like."),
        widget=forms.TextInput(attrs={"data-from-title": _("Made from the title when saved")}),
    )
    category = forms.ChoiceField(label=_("Category"), choices=_choices(True, Category.choices))
    obligor = forms.TypedChoiceField(label=_("Obligor"), coerce=int, choices=())
    co_obligors = forms.TypedMultipleChoiceField(
        label=_("Other obligors"),
        coerce=int,
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    target_amount = AmountField(
        label=_("Target amount"), required=False, max_digits=20, decimal_places=4, min_value=0
    )
    target_unit = _model_field(Commitment, "target_unit")
    target_phrase = forms.CharField(required=False, widget=forms.HiddenInput)
    effective_from = _model_field(Commitment, "effective_from")
    effective_from_precision = _model_field(Commitment, "effective_from_precision")
    effective_from_phrase = forms.CharField(required=False, widget=forms.HiddenInput)
    deadline_phrase = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)
    deadline_kind = _model_field(Commitment, "deadline_kind")
    deadline_date = _model_field(Commitment, "deadline_date")
    deadline_precision = _model_field(Commitment, "deadline_precision")
    offset_amount = _model_field(Commitment, "offset_amount")
    offset_unit = _model_field(Commitment, "offset_unit")
    period_unit = _model_field(Commitment, "period_unit")
    period_number = _model_field(Commitment, "period_number")
    period_year = _model_field(Commitment, "period_year")

    def __init__(self, *args: Any, parties: Mapping[int, Party], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parties = parties
        choices = [(pk, str(party)) for pk, party in parties.items()]
        cast(forms.ChoiceField, self.fields["obligor"]).choices = _choices(True, choices)
        cast(forms.ChoiceField, self.fields["co_obligors"]).choices = choices
        self.fields["effective_from_precision"].required = False
        self.fields["deadline_kind"].initial = deadlines.RuleKind.NONE.value

    def kind(self) -> str:
        """Return the rule kind chosen (bound or initial): the fields it reads are shown."""
        value = self["deadline_kind"].value()
        return value if value in KIND_FIELDS else deadlines.RuleKind.NONE.value

    def rule_groups(self) -> list[tuple[str, list[forms.BoundField], bool]]:
        """Return each kind's fields, and whether that kind is the one chosen."""
        chosen = self.kind()
        return [
            (kind, [self[name] for name in names], kind == chosen)
            for kind, names in KIND_FIELDS.items()
            if names
        ]

    def proposed(self, part: str) -> str:
        """Return the phrase a part was proposed from ("" where the editor gave it)."""
        return str(self[f"{part}_phrase"].value() or "")

    def commitment_values(self) -> dict[str, Any]:
        """Return the commitment's input fields: only the chosen rule's parameters."""
        data = self.cleaned_data
        kind = data["deadline_kind"]
        values: dict[str, Any] = {
            "title": data["title"],
            "key": data["key"],
            "category": data["category"],
            "obligor": self.parties[data["obligor"]],
            "target_amount": data["target_amount"],
            "target_unit": data["target_unit"],
            "effective_from": data["effective_from"],
            "effective_from_precision": data["effective_from_precision"] or "day",
            "deadline_kind": kind,
            "deadline_phrase": data["deadline_phrase"] if kind != "none" else "",
        }
        for name in RULE_INPUTS[2:]:
            field = next(f for f in deadlines.RULE_FIELDS if f.name == name)
            values[name] = data[name] if name in KIND_FIELDS.get(kind, ()) else field.empty
            if values[name] is None and field.empty == "":
                values[name] = ""
        values["anchor_kind"] = "agreement" if kind == deadlines.RuleKind.RELATIVE else ""
        return values

    def citation_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "quote": data["quote"],
            "start": data["start"],
            "end": data["end"],
            "locator": data["locator"],
            "translation": data["translation"],
            "translation_language": data["translation_language"] if data["translation"] else "",
        }

    def co_obligor_parties(self) -> list[Party]:
        return [self.parties[pk] for pk in self.cleaned_data["co_obligors"]]


DraftFormSet = forms.formset_factory(
    DraftForm, extra=0, can_delete=True, max_num=100, absolute_max=100
)


def rule_preview_values(
    data: Mapping[str, Any], prefix: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the rule's stored values a draft's raw ``data`` holds, and parse errors by field.

    Reads the chosen kind's fields only, each through the draft form's own field.
    """
    form = DraftForm(parties={})
    raw = {name: data.get(f"{prefix}-{name}", "") for name in RULE_INPUTS}
    kind = raw["deadline_kind"] if raw["deadline_kind"] in KIND_FIELDS else "none"
    values: dict[str, Any] = {"deadline_kind": kind, "deadline_phrase": raw["deadline_phrase"]}
    errors: dict[str, str] = {}
    for name in KIND_FIELDS[kind]:
        try:
            values[name] = form.fields[name].clean(raw[name])
        except ValidationError as exc:
            errors[name] = " ".join(exc.messages)
    return values, errors


def date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
