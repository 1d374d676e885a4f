"""Forms of the commitments domain: the admin's, and the status change every interface takes.

The model forms validate through the models' ``full_clean()`` like the services do; an error
the model names on a field the form does not show (an inline row shows only some fields)
becomes a form-wide error that still names the field, never a crash.
"""

from __future__ import annotations

import json
import zoneinfo
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db.models import Case, When
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.dates import validate_date_in_range

from . import deadlines, passages
from .assessment import SCALE, Rating
from .choices import (
    PrecisionChoice,
    PublicationAction,
    RatingChoice,
    RevisionKind,
    Status,
    rating_label,
)
from .deadlines import RuleError, recurrence
from .models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    DeadlineRevision,
    Occurrence,
    Party,
    ProgressUpdate,
    PublicationEvent,
    Report,
    ReportCorrection,
    ReportRow,
    Source,
)
from .parsing import targets
from .services import assessments as assessment_services
from .services import commitments as commitment_services
from .services import publishing as publishing_services
from .services import reports as report_services
from .services import revisions as revision_services
from .services import sources as source_services
from .services.sources import NEW_SOURCE
from .stages import STAGE_FIELDS
from .translations import LocalizedLabelMixin


def _field_label(form: forms.BaseForm, name: str) -> str:
    """Return the human name of ``name`` for ``form``, whether or not the form shows it."""
    if name in form.fields and form.fields[name].label:
        return str(form.fields[name].label)
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        try:
            return str(capfirst(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            pass
    return capfirst(name.replace("_", " "))


def errors_for_form(
    form: forms.BaseForm, error: ValidationError, *, context: str = ""
) -> ValidationError:
    """Return ``error`` keyed on ``form``'s fields; others become form-wide, naming their field.

    ``context`` (e.g. which inline row was being saved) prefixes every message and makes all
    of them form-wide, because the fields it names are not this form's.
    """
    error_dict = (
        error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.error_list}
    )
    mapped: dict[str, list[ValidationError]] = {}
    for name, errors in error_dict.items():
        if name in form.fields and not context:
            mapped.setdefault(name, []).extend(errors)
            continue
        prefix = context + ": " if context else ""
        if name != NON_FIELD_ERRORS:
            prefix += _field_label(form, name) + ": "
        for err in errors:
            for message in err.messages:
                mapped.setdefault(NON_FIELD_ERRORS, []).append(
                    ValidationError(prefix + message, code=err.code)
                )
    return ValidationError(mapped)


def service_error(error: ValidationError | RuleError) -> ValidationError:
    """Return a service's refusal as a ``ValidationError`` keyed by the fields it names."""
    if isinstance(error, RuleError):
        return ValidationError({error.field: [error.translated()]})
    return error


def add_service_errors(form: forms.BaseForm, error: ValidationError, *, context: str = "") -> None:
    """Show a ``ValidationError`` from a service on ``form``."""
    form.add_error(None, errors_for_form(form, error, context=context))


#: The one error of a date field that is not a date, in every form (pages, admin and API).
DATE_ERRORS = {"invalid": _("The date has the wrong format; write it as YYYY-MM-DD.")}


class ServiceModelForm(forms.ModelForm):
    """A model form whose errors always land on the form, and that shows a service's refusal.

    ``service_rejection`` is set (on a per-request subclass) when saving through a service
    raised a ``ValidationError`` after the form had validated; the admin then shows the same
    submission again with that error.
    """

    service_rejection: tuple[ValidationError, str] | None = None

    def _update_errors(self, errors: ValidationError) -> None:
        super()._update_errors(  # type: ignore[misc]
            errors_for_form(self, errors)
        )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.service_rejection is not None:
            error, context = self.service_rejection
            add_service_errors(self, error, context=context)
        return cleaned


def ambiguous_scale_error(error: targets.AmbiguousScale) -> ValidationError:
    """The refusal of "billion" and its kind, as every amount input says it."""
    return ValidationError(
        _(
            "“%(word)s” is not the same number in English and in French: write "
            "the digits, or use “milliard” or “bn”."
        ),
        code="ambiguous_scale",
        params={"word": error.word},
    )


class AmountField(forms.DecimalField):
    """A target amount typed as an analyst writes it: "750 bn", « 1,2 milliard », "$600bn"
    without its sign, "750 000 000 000" or plain digits; read by the parser's one number
    reader (:func:`commitments.parsing.targets.read_typed_amount`), in the page's language
    first. "billion" is refused: 10^9 in English, 10^12 in French.
    """

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text", _('Digits, or a number and a scale word: "750 bn", « 1,2 milliard ».')
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.pop("step", None)

    def prepare_value(self, value: Any) -> Any:
        """Show a stored amount without its four stored decimals: 750000000000, 2.5."""
        if isinstance(value, Decimal) and value.is_finite():
            text = format(value, "f")
            return text.rstrip("0").rstrip(".") if "." in text else text
        return super().prepare_value(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            language = (translation.get_language() or "en").split("-")[0]
            try:
                amount = targets.read_typed_amount(value, language)
            except targets.AmbiguousScale as error:
                raise ambiguous_scale_error(error) from None
            if amount is not None:
                return super().to_python(format(amount, "f"))
        return super().to_python(value)


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class AgreementAdminForm(ServiceModelForm):
    """An agreement, with its time zone chosen from the IANA names."""

    time_zone = forms.TypedChoiceField(
        label=_("time zone"),
        choices=_time_zone_choices,
        initial="UTC",
        help_text=Agreement._meta.get_field("time_zone").help_text,
    )

    class Meta:
        model = Agreement
        fields = [
            "key",
            "title",
            "title_fr",
            "kind",
            "parties",
            "date",
            "place",
            "time_zone",
            "summary",
            "summary_fr",
            "machine_translations",
        ]


class CommitmentAdminForm(ServiceModelForm):
    """A commitment's input fields; status and due dates are computed or set by services."""

    target_amount = AmountField(
        label=capfirst(Commitment._meta.get_field("target_amount").verbose_name),
        required=False,
        max_digits=20,
        decimal_places=4,
        min_value=0,
    )

    instrument_url = forms.URLField(
        label=Commitment._meta.get_field("instrument_url").verbose_name,
        max_length=1000,
        required=False,
        assume_scheme="https",
    )

    class Meta:
        model = Commitment
        fields = [
            "agreement",
            "key",
            "title",
            "description",
            # Issue 15: the French texts and the machine translations, kept apart.
            "title_fr",
            "description_fr",
            "machine_translations",
            "obligor",
            # Ratings (issue 13): the other parties bound by the same promise.
            "co_obligors",
            "beneficiaries",
            "owner",
            "category",
            "target_amount",
            "target_unit",
            *deadlines.RULE_FIELD_NAMES,
            *recurrence.FIELD_NAMES,
            # Issue 12, h3: the implementation stages (effective_from among them).
            *STAGE_FIELDS,
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields.get(deadlines.KIND_FIELD.name)
        if kind is not None:
            # Read by commitments/admin/rule_fields.js, which shows only the chosen kind's
            # parameters; without JavaScript all of them stay shown.
            kind.widget.attrs.update(rule_field_attrs())


def rule_field_attrs() -> dict[str, str]:
    """Return the data attributes that tell a page which rule fields each kind reads."""
    groups = {str(kind): list(names) for kind, names in deadlines.KIND_GROUPS.items()}
    fields = {f.name: f.group for f in deadlines.PARAMETER_FIELDS}
    return {
        "data-rule-groups": json.dumps(groups, separators=(",", ":")),
        "data-rule-fields": json.dumps(fields, separators=(",", ":")),
    }


def _source_field(name: str, **overrides: Any) -> forms.Field:
    """Return the form field of ``Source.<name>``, with the model's label and validators."""
    model_field = cast(Any, Source._meta.get_field(name))
    return cast(forms.Field, model_field.formfield(**overrides))


def _source_fields(*, required: bool) -> dict[str, forms.Field]:
    """Return the fields an editor fills to add a source with its archived copy.

    Three ways to give the copy: paste its ``text``; upload its ``original`` (a PDF, or a web
    page saved as HTML, with its ``url``); the type of a file is judged on its bytes.
    """
    return {
        "title": _source_field("title", required=required),
        "publisher": _source_field("publisher", required=required),
        "language": _source_field("language", required=required),
        "published_on": _source_field(
            "published_on", required=required, error_messages=DATE_ERRORS
        ),
        "kind": _source_field("kind", required=required),
        "url": _source_field(
            "url",
            assume_scheme="https",
            help_text=_("Where the page was published; give the saved page's file too."),
        ),
        "key": _source_field(
            "key", required=False, help_text=_("Left empty, it is made from the title.")
        ),
        "retrieved_on": _source_field(
            "retrieved_on",
            error_messages=DATE_ERRORS,
            help_text=_("The day the copy was taken; today if left empty."),
        ),
        "text": forms.CharField(
            label=_("Paste the text"),
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 8}),
            help_text=_("Or upload the file below, not both."),
        ),
        "original": forms.FileField(
            label=_("Or upload the file (PDF, saved web page or text)"),
            required=False,
            help_text=_("Read on our side: nothing is fetched from the internet."),
        ),
    }


def _source_arguments(cleaned: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return ``source_create``'s arguments from a form's cleaned source fields."""
    values = {name: cleaned.get(prefix + name) for name in _source_fields(required=False)}
    upload = values.pop("original")
    arguments: dict[str, Any] = {
        name: value for name, value in values.items() if value not in (None, "")
    }
    arguments["text"] = values.get("text") or ""
    if upload is not None:
        arguments["upload"] = source_services.upload_read(upload)
        arguments["upload_name"] = upload.name or ""
    return arguments


class SourceForm(forms.Form):
    """A new source with its archived copy: the dashboard's and the admin's "Add a source".

    ``source_create`` reads the copy, checks and stores it; its refusal lands on the field it
    names. A text or a file is required: the source's quotes are checked against it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(_source_fields(required=True))

    def save(self, *, user: Any) -> Source | None:
        """Save the source through ``source_create``; ``None`` if it refused."""
        try:
            return source_services.source_create(
                user=user, copy_required=True, **_source_arguments(self.cleaned_data)
            )
        except ValidationError as exc:
            add_service_errors(self, service_error(exc))
            return None


class EvidenceForm(forms.Form):
    """The evidence of a change on one commitment: an existing citation, or a source and quote.

    The status change and the deadline revision take their evidence with these fields; their
    names are the ``evidence*`` arguments and error keys of the services.
    """

    evidence = forms.ModelChoiceField(
        label=_("Existing citation"),
        queryset=Citation.objects.none(),
        required=False,
        help_text=_("Evidence already cited on this commitment; or give a source and a quote."),
    )
    evidence_source = forms.ModelChoiceField(
        label=_("Evidence source"),
        queryset=Source.objects.order_by("-published_on", "title"),
        required=False,
    )
    evidence_quote = forms.CharField(
        label=_("Quote (original language)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In the source's original language."),
    )
    evidence_translation = forms.CharField(
        label=_("Translation"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_locator = forms.CharField(
        label=_("Locator"),
        required=False,
        max_length=200,
        help_text=_("Section, paragraph or page."),
    )

    #: Whether the form also offers to add the evidence's source (the dashboard's pages).
    offers_new_source = False

    def __init__(
        self,
        *args: Any,
        commitment: Commitment,
        offers_new_source: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        if offers_new_source is not None:
            self.offers_new_source = offers_new_source
        evidence = cast(forms.ModelChoiceField, self.fields["evidence"])
        evidence.queryset = commitment.citations.select_related("source").order_by("id")
        if self.offers_new_source:
            self.fields["evidence_paragraph"] = forms.IntegerField(
                label=_("Paragraph quoted"),
                required=False,
                min_value=1,
                help_text=_("The whole paragraph is the quote, unless you paste a part of it."),
            )
            for name, field in _source_fields(required=False).items():
                self.fields[NEW_SOURCE + name] = field

    def new_source_fields(self) -> list[forms.BoundField]:
        """Return the bound fields of the new source, in order (empty if not offered)."""
        return [self[name] for name in self.fields if name.startswith(NEW_SOURCE)]

    def other_fields(self) -> list[forms.BoundField]:
        """Return the bound fields that are not the new source's, in order."""
        return [self[name] for name in self.fields if not name.startswith(NEW_SOURCE)]

    def service_data(self) -> dict[str, Any]:
        """Return the cleaned data as the services take it: the new source in one argument."""
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if not k.startswith(NEW_SOURCE) and k != "evidence_paragraph"
        }
        if self._new_source_given(self.cleaned_data):
            data["evidence_new_source"] = _source_arguments(self.cleaned_data, NEW_SOURCE)
        return data

    def clean(self) -> dict[str, Any] | None:
        """Refuse half a new citation: a quote without its source, or a source without a quote."""
        cleaned = super().clean() or {}
        self._paragraph_quote(cleaned)
        if "evidence_source" in cleaned and "evidence_quote" in cleaned:
            if (
                cleaned["evidence_quote"]
                and cleaned["evidence_source"] is None
                and not self._new_source_given(cleaned)
            ):
                self.add_error(
                    "evidence_source",
                    _("This field is required: a quote needs the source it comes from."),
                )
            elif cleaned["evidence_source"] is not None and not cleaned["evidence_quote"]:
                self.add_error(
                    "evidence_quote", _("This field is required: a source needs its quote.")
                )
        return cleaned

    def _new_source_given(self, cleaned: dict[str, Any]) -> bool:
        """Return whether the editor filled in any field of a new source."""
        return any(
            value not in (None, "") and not (isinstance(value, str) and not value.strip())
            for name, value in cleaned.items()
            if name.startswith(NEW_SOURCE)
        )

    def _paragraph_quote(self, cleaned: dict[str, Any]) -> None:
        """Take a chosen paragraph of the chosen source as the quote, if none was pasted."""
        number = cleaned.get("evidence_paragraph")
        source = cleaned.get("evidence_source")
        if not number or cleaned.get("evidence_quote"):
            return
        text = source.text if source is not None else ""
        spans = passages.paragraphs(text)
        if number > len(spans):
            self.add_error(
                "evidence_paragraph",
                _("The source's archived text has no paragraph %(number)s.") % {"number": number},
            )
            return
        paragraph = spans[number - 1]
        cleaned["evidence_quote"] = text[paragraph.start : paragraph.end]
        if not cleaned.get("evidence_locator"):
            cleaned["evidence_locator"] = passages.locator(text, paragraph.start, paragraph.end)


#: The evidence fields, last in every form that takes them.
EVIDENCE_FIELDS = [
    "evidence",
    "evidence_source",
    "evidence_quote",
    "evidence_translation",
    "evidence_locator",
]


class StatusChangeForm(EvidenceForm):
    """A progress update on one commitment that may change its status, with its evidence.

    The one parser of a status change: the admin and the dashboard show it (with their own
    widgets), the API fills it from its JSON (the nested ``evidence`` object flattened into
    the ``evidence_*`` fields). Field names are the arguments and error keys of
    ``commitment_change_status``, so :meth:`save` puts the service's refusal on the field
    it names, the same way for every interface.
    """

    field_order = ["status", "occurred_on", "note", "measured_value", *EVIDENCE_FIELDS]

    status = forms.ChoiceField(
        label=_("Status"),
        choices=Status.choices,
        error_messages={"invalid_choice": _("“%(value)s” is not a valid choice.")},
    )
    occurred_on = forms.DateField(
        label=_("Date"),
        # Left out, the service dates the update today in the agreement's time zone.
        required=False,
        validators=[validate_date_in_range],
        error_messages=DATE_ERRORS,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    measured_value = forms.DecimalField(
        label=_("Measured value"),
        required=False,
        max_digits=20,
        decimal_places=4,
        help_text=_("Progress toward the target, in the target's unit."),
    )

    def __init__(
        self,
        *args: Any,
        commitment: Commitment,
        iso_dates: bool = False,
        occurrence: Occurrence | None = None,
        **kwargs: Any,
    ) -> None:
        """Bind the form to ``commitment``, or to one of its ``occurrence``s.

        ``iso_dates`` reads the date as YYYY-MM-DD only, whatever the active language: the
        API's contract, where a page's form also takes the dates its reader writes.
        """
        current = occurrence.status if occurrence is not None else commitment.status
        kwargs.setdefault("initial", {"status": current, "occurred_on": timezone.localdate()})
        super().__init__(*args, commitment=commitment, **kwargs)
        self.occurrence = occurrence
        if iso_dates:
            cast(forms.DateField, self.fields["occurred_on"]).input_formats = ["%Y-%m-%d"]

    def save(self, *, user: Any) -> ProgressUpdate | None:
        """Record the update through ``commitment_change_status``; ``None`` if it refused.

        A refusal writes nothing and its errors land on this form (see
        :func:`add_service_errors`): on the field they name, or form-wide naming it.
        """
        try:
            return commitment_services.commitment_change_status(
                commitment=self.commitment,
                user=user,
                occurrence=self.occurrence,
                **self.service_data(),
            )
        except (ValidationError, RuleError) as exc:
            add_service_errors(self, service_error(exc))
            return None


# Deadline revisions (issue 12).


class RevisionForm(EvidenceForm):
    """A revision of one commitment's deadline, with its reason and evidence.

    The one parser of a revision: the admin's "Revise the deadline" page, the dashboard and
    the API (``POST .../revisions/``, its ``evidence`` object flattened into ``evidence_*``)
    fill it. Field names are the arguments and error keys of ``revision_create``.
    """

    field_order = [
        "kind",
        "new_due_date",
        "new_precision",
        "revised_on",
        "reason",
        *EVIDENCE_FIELDS,
    ]

    kind = forms.ChoiceField(
        label=_("Kind of revision"),
        choices=RevisionKind.choices,
        error_messages={"invalid_choice": _("“%(value)s” is not a valid choice.")},
    )
    new_due_date = forms.DateField(
        label=_("New due date"),
        required=False,
        validators=[validate_date_in_range],
        error_messages=DATE_ERRORS,
        help_text=_("Needed to extend, bring forward or renegotiate; none to suspend."),
    )
    new_precision = forms.ChoiceField(
        label=_("Precision of the new date"),
        choices=[("", "---------"), *PrecisionChoice.choices],
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a valid choice.")},
        help_text=_("A month, quarter or year moves the date to the end of that period."),
    )
    revised_on = forms.DateField(
        label=_("Revised on"),
        # Left out, the service dates the revision today in the agreement's time zone.
        required=False,
        validators=[validate_date_in_range],
        error_messages=DATE_ERRORS,
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("This field is required: give the reason.")},
    )

    def __init__(
        self, *args: Any, commitment: Commitment, iso_dates: bool = False, **kwargs: Any
    ) -> None:
        """Bind the form to ``commitment``; ``iso_dates`` as :class:`StatusChangeForm` has it."""
        super().__init__(*args, commitment=commitment, **kwargs)
        if iso_dates:
            for name in ("new_due_date", "revised_on"):
                cast(forms.DateField, self.fields[name]).input_formats = ["%Y-%m-%d"]

    def save(self, *, user: Any) -> DeadlineRevision | None:
        """Record the revision through ``revision_create``; ``None`` if it refused."""
        try:
            return revision_services.revision_create(
                commitment=self.commitment, user=user, **self.service_data()
            )
        except ValidationError as exc:
            add_service_errors(self, service_error(exc))
            return None


# Ratings (issue 13).


class LocalizedModelChoiceField(LocalizedLabelMixin, forms.ModelChoiceField):
    """A choice of parties, agreements or commitments named in the reader's language."""


class AssessmentForm(EvidenceForm):
    """A rating of one obligor's compliance with one commitment, with its justification.

    The one parser of a rating: the admin's "Rate an obligor" page, the dashboard and the API
    (``POST .../assessments/``, its ``evidence`` object flattened into ``evidence_*``) fill
    it. Field names are the arguments and error keys of ``assessment_record``, which checks
    the rest (the date's bounds, evidence for a judged rating) and writes.
    """

    field_order = [
        "party",
        "rating",
        "assessed_on",
        "justification",
        "justification_fr",
        *EVIDENCE_FIELDS,
    ]

    party = LocalizedModelChoiceField(
        label=_("Obligor rated"),
        queryset=Party.objects.none(),
        error_messages={"invalid_choice": _("That party is not an obligor of this commitment.")},
    )
    rating = forms.ChoiceField(
        label=_("Rating"),
        choices=RatingChoice.choices,
        error_messages={"invalid_choice": _("“%(value)s” is not a rating on the scale.")},
    )
    assessed_on = forms.DateField(
        label=_("Assessed on"),
        # Left out, the service dates the rating today in the agreement's time zone.
        required=False,
        validators=[validate_date_in_range],
        error_messages=DATE_ERRORS,
        help_text=_("The date from which the rating holds; today if left empty."),
    )
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("This field is required: say why.")},
        help_text=_("Why this rating: what was done, or not, and when."),
    )
    justification_fr = forms.CharField(
        label=_("Justification in French"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "lang": "fr"}),
        help_text=_("A human translation; left empty, French readers see the English text."),
    )

    def __init__(
        self, *args: Any, commitment: Commitment, iso_dates: bool = False, **kwargs: Any
    ) -> None:
        """Bind the form to ``commitment``: its obligors, obligor first, are the parties offered.

        ``iso_dates`` as :class:`StatusChangeForm` has it.
        """
        super().__init__(*args, commitment=commitment, **kwargs)
        party = cast(forms.ModelChoiceField, self.fields["party"])
        party.queryset = Party.objects.filter(
            pk__in=assessment_services.obligor_ids(commitment)
        ).order_by(Case(When(pk=commitment.obligor_id, then=0), default=1), "name", "id")
        if iso_dates:
            cast(forms.DateField, self.fields["assessed_on"]).input_formats = ["%Y-%m-%d"]

    def save(self, *, user: Any) -> Assessment | None:
        """Record the rating through ``assessment_record``; ``None`` if it refused."""
        try:
            return assessment_services.assessment_record(
                commitment=self.commitment, user=user, **self.service_data()
            )
        except ValidationError as exc:
            add_service_errors(self, service_error(exc))
            return None


class AssessmentReviewForm(forms.Form):
    """Confirm that one current rating still holds, on a date (today if left out).

    The admin's review action, the dashboard's "Still holds" button and the API's
    ``POST .../assessments/{id}/review/`` fill it; ``assessment_review`` checks and writes.
    """

    reviewed_on = forms.DateField(
        label=_("Reviewed on"),
        required=False,
        validators=[validate_date_in_range],
        error_messages=DATE_ERRORS,
    )

    def __init__(
        self, *args: Any, assessment: Assessment, iso_dates: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.assessment = assessment
        if iso_dates:
            cast(forms.DateField, self.fields["reviewed_on"]).input_formats = ["%Y-%m-%d"]

    def save(self, *, user: Any) -> Assessment | None:
        """Record the review through ``assessment_review``; ``None`` if it refused."""
        try:
            return assessment_services.assessment_review(
                assessment=self.assessment, user=user, **self.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(self, service_error(exc))
            return None


# Compliance as of a date and frozen reports (issue 13, items 5 and 6) --------------------

#: The one date format of the as-of, since and cut-off fields, in the pages and the API.
ISO_DATE_INPUT = ["%Y-%m-%d"]


def _iso_date_field(label: Any, help_text: Any = "", *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=ISO_DATE_INPUT,
        help_text=help_text,
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ComplianceDateForm(forms.Form):
    """The dates of a compliance table: ``as_of`` (default today) and ``since`` to compare.

    The one parser of these query parameters: the agreement page and the API fill it from
    the query string. Each date must be neither before the agreement nor in the future, and
    ``since`` must come before the table's date.
    """

    as_of = _iso_date_field(
        _("As of"), _("The table as it stood at the end of this day (empty: today).")
    )
    since = _iso_date_field(
        _("What changed since"), _("Show the ratings that changed after the end of this day.")
    )

    def __init__(self, *args: Any, agreement: Agreement, now: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        self.now = now or timezone.now()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        for name in ("as_of", "since"):
            day = cleaned.get(name)
            error = (
                report_services.compliance_date_error(self.agreement, day, self.now)
                if day
                else None
            )
            if error:
                self.add_error(name, error)
        as_of, since = cleaned.get("as_of"), cleaned.get("since")
        end = as_of or report_services.agreement_today(self.agreement, self.now)
        if since and "since" not in self.errors and "as_of" not in self.errors and since >= end:
            self.add_error("since", _("Compare with a day before the table's date."))
        return cleaned


class ReportFreezeForm(forms.Form):
    """Freeze a report of an agreement: its title and cut-off, parsed for every interface."""

    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("E.g. “Interim 2026”."), required=False
    )
    cutoff = _iso_date_field(
        _("Cut-off date"),
        _("The report keeps the ratings as they stood at the end of this day."),
        required=True,
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agreement = agreement

    def save(self, *, user: Any, now: Any = None) -> Report | None:
        """Freeze the report through ``report_freeze``; ``None`` with the errors on the form."""
        try:
            return report_services.report_freeze(
                agreement=self.agreement, user=user, now=now, **self.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None


class ReportRowChoiceField(forms.ModelChoiceField):
    """A report's row, shown as its commitment's key and the party rated."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.commitment_key} / {obj.party_name}"


class ReportCorrectionForm(forms.Form):
    """Correct one row of a frozen report (or the report as a whole), with the reason."""

    row = ReportRowChoiceField(
        label=_("Row"),
        queryset=ReportRow.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("This row is not one of the report's.")},
    )
    field = forms.ChoiceField(label=_("What is corrected"), choices=ReportCorrection.Field.choices)
    new_value = forms.CharField(
        label=_("It should say"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(label=_("Why"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    corrected_on = _iso_date_field(_("Corrected on"), _("Empty: today."))

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = report
        row_field = cast(forms.ModelChoiceField, self.fields["row"])
        # The select names each row by key and party (``label_from_instance``): a
        # 1,000-row report's justifications and quotes are not read to write it.
        row_field.queryset = report.rows.only("id", "report_id", "commitment_key", "party_name")
        # Written here, in the reader's language: the scale's names, in its order.
        self.fields["new_value"].help_text = _(
            "For a rating, its name on the scale: %(names)s."
        ) % {"names": ", ".join(rating_label(rule.rating) for rule in SCALE)}

    def clean_new_value(self) -> str:
        """Read a rating given by its name on the scale (in either language) as its code."""
        value = self.cleaned_data.get("new_value", "")
        if self.cleaned_data.get("field") != ReportCorrection.Field.RATING:
            return value
        names: dict[str, str] = {}
        for rating in Rating:
            names[rating.value] = rating.value
            for language in ("en", "fr"):
                with translation.override(language):
                    names[rating_label(rating).casefold()] = rating.value
        return names.get(value.strip().casefold(), value)

    def save(self, *, user: Any, now: Any = None) -> ReportCorrection | None:
        """Record the correction through ``report_correct``; ``None`` with the errors shown."""
        try:
            return report_services.report_correct(
                report=self.report, user=user, now=now, **self.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None


class PublicationChangeForm(forms.Form):
    """A step of an agreement's publication, as the admin and the dashboard take it.

    The rules (which step from which state, the second reviewer, the reason to unpublish)
    are the publishing service's; its refusal lands on the field it names.
    """

    #: The longest note kept with a step.
    NOTE_MAX = 2000

    action = forms.ChoiceField(label=_("Step"), choices=PublicationAction.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why: required to unpublish; kept with the step."),
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agreement = agreement

    def save(self, *, user: Any) -> PublicationEvent | None:
        """Take the step through ``publication_change``; ``None`` with the refusal on the form.

        A user who may not write gets the service's ``PermissionDenied`` (a 403).
        """
        try:
            return publishing_services.publication_change(
                agreement=self.agreement,
                action=self.cleaned_data["action"],
                note=self.cleaned_data["note"],
                user=user,
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None
