"""The workbench (editors): a source's text beside the commitments drafted from its passages.

Step one (:func:`workbench_start`) picks or describes the agreement and picks or pastes the
source. The workbench page (:func:`workbench`) shows the text in numbered paragraphs; a
selected passage becomes a draft (:func:`workbench_draft`, asked for by htmx; without
JavaScript the editor pastes the passage into a draft's quote), each draft's deadline is
previewed as it is typed (:func:`workbench_preview`), and one save writes the agreement,
the commitments and their citations through ``commitments.services.workbench``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from commitments import passages
from commitments.models import Agreement, Party, Source
from commitments.places import time_zone_names
from commitments.services import workbench as services
from commitments.services.sources import quote_span
from core.roles import can_write

from .workbench_forms import (
    AgreementCarryForm,
    DraftFormSet,
    StartForm,
    date_or_none,
    rule_preview_values,
)

DRAFTS = "c"


def _editor(view):  # type: ignore[no-untyped-def]
    """Require a login and the editor role (403 for anyone else)."""

    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_write(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    check.__doc__ = view.__doc__
    check.__name__ = view.__name__
    return login_required(check)


@_editor
def workbench_start(request: HttpRequest) -> HttpResponse:
    """Pick or describe the agreement, pick or paste the source; then open the workbench."""
    if request.method == "POST":
        form = StartForm(request.POST)
        if form.is_valid():
            try:
                source, carried = form.save(user=request.user)
            except ValidationError:
                pass  # the form holds the errors at their fields
            else:
                url = reverse("dashboard:workbench", args=[source.pk])
                return HttpResponseRedirect(f"{url}?{urlencode(carried, doseq=True)}")
    else:
        form = StartForm(initial=request.GET.dict() if request.GET else None)
    return render(
        request,
        "dashboard/workbench/start.html",
        {"form": form, "time_zones": time_zone_names()},
        status=400 if form.errors else 200,
    )


class _Context:
    """What every workbench request reads: the source, the agreement (saved or carried),
    its parties (once, for every draft's selects) and its date and zone."""

    def __init__(self, request: HttpRequest, source: Source, params: QueryDict) -> None:
        self.source = source
        self.agreement: Agreement | None = None
        self.carry: AgreementCarryForm | None = None
        self.date: dt.date | None
        agreement_id = params.get("agreement", "")
        if agreement_id.isascii() and agreement_id.isdigit():
            self.agreement = get_object_or_404(
                Agreement.objects.prefetch_related("parties"), pk=int(agreement_id)
            )
            parties = list(self.agreement.parties.all())
            self.date, self.time_zone = self.agreement.date, self.agreement.time_zone
        else:
            data = _carry_data(params)
            self.carry = AgreementCarryForm(data)
            ids = [int(i) for i in data.getlist("a-parties") if i.isascii() and i.isdigit()]
            parties = list(Party.objects.filter(pk__in=ids).order_by("name"))
            self.date = date_or_none(data.get("a-date", ""))
            self.time_zone = data.get("a-time_zone", "") or "UTC"
        self.parties = {party.pk: party for party in parties}

    def query(self) -> str:
        """Return the address's query that carries this agreement."""
        if self.agreement is not None:
            return urlencode({"agreement": self.agreement.pk})
        data = cast(QueryDict, self.carry.data) if self.carry is not None else QueryDict()
        return urlencode({name: data.getlist(name) for name in data}, doseq=True)


def _carry_data(params: QueryDict) -> QueryDict:
    """Return the new agreement's fields under the carry form's prefix (``title`` → ``a-title``)."""
    data = QueryDict(mutable=True)
    for name in AgreementCarryForm.base_fields:
        values = params.getlist(f"a-{name}") or params.getlist(name)
        data.setlist(f"a-{name}", values)
    return data


def _source_or_404(pk: int) -> Source:
    return get_object_or_404(Source.objects.exclude(text=""), pk=pk)


@_editor
def workbench(request: HttpRequest, source_id: int) -> HttpResponse:
    """The workbench page: the source's text, the drafts, their previews; save writes all."""
    source = _source_or_404(source_id)
    params = request.POST if request.method == "POST" else request.GET
    context = _Context(request, source, params)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "save":
        formset = DraftFormSet(
            request.POST, prefix=DRAFTS, form_kwargs={"parties": context.parties}
        )
        saved = _save(request, context, formset)
        if saved is not None:
            return saved
        return _page(request, context, formset, status=400)
    if request.method == "POST":
        formset = _redrafted(request.POST, context, add=action == "add")
    else:
        formset = DraftFormSet(prefix=DRAFTS, form_kwargs={"parties": context.parties})
    return _page(request, context, formset)


def _save(request: HttpRequest, context: _Context, formset: Any) -> HttpResponse | None:
    carry_ok = context.carry is None or context.carry.is_valid()
    if not (formset.is_valid() and carry_ok):
        return None
    forms = [form for form in formset.forms if not formset._should_delete_form(form)]
    drafts = [
        services.Draft(
            commitment=form.commitment_values(),
            citation=form.citation_values(),
            co_obligors=form.co_obligor_parties(),
        )
        for form in forms
    ]
    try:
        agreement = services.workbench_save(
            user=request.user,
            source=context.source,
            drafts=drafts,
            agreement=context.agreement,
            agreement_data=context.carry.agreement_data() if context.carry else None,
            parties=context.carry.cleaned_data["parties"] if context.carry else (),
        )
    except services.EntryRefused as refused:
        for name, errors in refused.agreement.items():
            target = context.carry if context.carry is not None else None
            if target is not None and name in target.fields:
                target.add_error(None, [f"{target.fields[name].label}: {e}" for e in errors])
            else:
                formset._non_form_errors = formset.error_class(
                    [*formset.non_form_errors(), *errors]
                )
        for index, draft_errors in refused.drafts.items():
            form = forms[index]
            for name, messages_ in draft_errors.items():
                field = name if name in form.fields and name != NON_FIELD_ERRORS else None
                if field in ("start", "end"):
                    field = "quote"
                form.add_error(field, messages_)
        return None
    messages.success(
        request,
        _("%(count)d commitments saved with their citations.") % {"count": len(drafts)},
    )
    return HttpResponseRedirect(reverse("dashboard:agreement", args=[agreement.pk]))


def _redrafted(data: QueryDict, context: _Context, *, add: bool) -> Any:
    """Return the drafts as posted, unbound (no errors shown before saving), with each new
    quote found in the text and its proposals filled in; one more empty draft with ``add``.
    """
    total = _count(data.get(f"{DRAFTS}-TOTAL_FORMS", "0"))
    initial: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for index in range(total):
        prefix = f"{DRAFTS}-{index}-"
        raw: dict[str, Any] = {
            key[len(prefix) :]: values if key.endswith("-co_obligors") else values[-1]
            for key, values in data.lists()
            if key.startswith(prefix)
        }
        if raw.get("DELETE"):
            continue
        if raw.get("quote") and not raw.get("start"):
            span = quote_span(context.source.text, raw["quote"])
            if span is not None:
                proposed = services.draft_from_passage(
                    source=context.source,
                    start=span[0],
                    end=span[1],
                    anchor=context.date,
                    with_key=False,
                )
                _fill(raw, proposed)
                found.append(raw)
        initial.append(raw)
    if found:
        taken = [raw["key"] for raw in initial if raw.get("key")]
        need = [raw for raw in found if not raw.get("key")]
        for raw, key in zip(
            need, services.keys_for_titles([r["title"] for r in need], taken), strict=True
        ):
            raw["key"] = key
    if add:
        initial.append({})
    return DraftFormSet(prefix=DRAFTS, initial=initial, form_kwargs={"parties": context.parties})


def _fill(raw: dict[str, Any], proposed: services.Proposed) -> None:
    """Put the proposal's values where the editor left the field empty."""
    for name, value in proposed.values.items():
        if raw.get(name) in (None, "") or (name == "deadline_kind" and raw.get(name) == "none"):
            raw[name] = "" if value is None else value
    for part, phrase in proposed.phrases.items():
        raw.setdefault(f"{part}_phrase", phrase)
        if not raw.get(f"{part}_phrase"):
            raw[f"{part}_phrase"] = phrase


def _count(value: str) -> int:
    return min(int(value), 100) if value.isascii() and value.isdigit() else 0


def _previews(context: _Context, formset: Any) -> list[services.Preview]:
    previews = []
    for form in formset.forms:
        data = {f"{form.prefix}-{name}": form[name].value() or "" for name in form.fields}
        previews.append(_preview(context, data, form.prefix))
    return previews


def _preview(context: _Context, data: Any, prefix: str) -> services.Preview:
    values, errors = rule_preview_values(data, prefix)
    if errors:
        return services.Preview(errors=errors)
    return services.deadline_preview(
        rule_values=values, agreement_date=context.date, time_zone=context.time_zone
    )


def _page(
    request: HttpRequest, context: _Context, formset: Any, *, status: int = 200
) -> HttpResponse:
    text = context.source.text
    paragraphs = [(p.number, p.start, text[p.start : p.end]) for p in passages.paragraphs(text)]
    return render(
        request,
        "dashboard/workbench/workbench.html",
        {
            "source": context.source,
            "agreement": context.agreement,
            "carry": context.carry,
            "parties": list(context.parties.values()),
            "agreement_date": context.date,
            "time_zone": context.time_zone,
            "paragraphs": paragraphs,
            "formset": formset,
            "drafts": list(zip(formset.forms, _previews(context, formset), strict=True)),
            "query": context.query(),
            "language": (get_language() or "en").split("-")[0],
        },
        status=status,
    )


@require_GET
@_editor
def workbench_draft(request: HttpRequest, source_id: int) -> HttpResponse:
    """Return a new draft for the passage ``start``–``end`` of the source (an htmx fragment)."""
    source = _source_or_404(source_id)
    context = _Context(request, source, request.GET)
    start, end = _count_big(request.GET.get("start", "")), _count_big(request.GET.get("end", ""))
    index = _count(request.GET.get("index", "0"))
    try:
        proposed = services.draft_from_passage(
            source=source,
            start=start,
            end=end,
            anchor=context.date,
            taken_keys=request.GET.getlist("taken"),
        )
    except ValueError:
        return HttpResponseBadRequest(_("The selection is not inside the source's text."))
    raw = {name: ("" if value is None else value) for name, value in proposed.values.items()}
    raw["translation_language"] = _translation_language(source.language)
    for part, phrase in proposed.phrases.items():
        raw[f"{part}_phrase"] = phrase
    # Built as the formset's own form (with its "remove" box), numbered after the others.
    formset = DraftFormSet(
        prefix=DRAFTS, initial=[*([{}] * index), raw], form_kwargs={"parties": context.parties}
    )
    form = formset.forms[index]
    form.use_required_attribute = False
    prefix = f"{DRAFTS}-{index}"
    preview = _preview(context, {f"{prefix}-{name}": value for name, value in raw.items()}, prefix)
    return render(
        request,
        "dashboard/workbench/_draft.html",
        {"form": form, "preview": preview, "number": index + 1, "source": source},
    )


def _count_big(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0


@require_POST
@_editor
def workbench_preview(request: HttpRequest, source_id: int) -> HttpResponse:
    """Return a draft's due date, precision and explanation for its rule as typed (htmx)."""
    source = _source_or_404(source_id)
    context = _Context(request, source, request.POST)
    prefix = request.POST.get("prefix", "")
    if not prefix.startswith(f"{DRAFTS}-") or not prefix[len(DRAFTS) + 1 :].isdigit():
        return HttpResponseBadRequest(_("Which draft? The preview needs its prefix."))
    return render(
        request,
        "dashboard/workbench/_preview.html",
        {"preview": _preview(context, request.POST, prefix)},
    )


def _translation_language(source_language: str) -> str:
    """The language a draft's translation is written in: the reader's, unless the source is
    already in it; then the product's other language (an English quote gets a French
    translation, a French one an English translation)."""
    reader = (get_language() or "en").split("-")[0]
    source = source_language.split("-")[0].lower()
    if source != reader:
        return reader
    return "fr" if reader == "en" else "en"
