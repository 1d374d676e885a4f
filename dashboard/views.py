"""The review pages: thin views over the dashboard selectors and the commitments services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alerts.models import Alert, Subscription, SubscriptionScope
from alerts.services import subscriptions as subscription_services
from commitments.assessment import Rating
from commitments.assessment import score as assessment_score
from commitments.choices import TERMINAL, rating_label
from commitments.deadlines.text import commitment_rule_in_words, deadline_explanation
from commitments.filtersets import CommitmentFilterSet
from commitments.forms import (
    AssessmentReviewForm,
    ComplianceDateForm,
    PublicationChangeForm,
    ReportCorrectionForm,
    ReportFreezeForm,
)
from commitments.models import Agreement, Assessment, Commitment, Party, Report, ReportCorrection
from commitments.report_files import report_cached, report_file
from commitments.selectors import (
    CommitmentBrief,
    ReportReading,
    agreement_rows_version,
    agreements_awaiting_review,
    assessment_history,
    commitment_related,
    compliance_briefs,
    compliance_changes,
    compliance_table,
    methodology,
    report_list,
)
from commitments.services.reports import agreement_today
from commitments.services.revisions import revision_refusal
from commitments.stages import is_retroactive, stage_dates
from commitments.templatetags.localized import localized_writer
from commitments.translations import localized, reader_language
from core.fragments import fragments
from core.html_rows import escape, pk_urls, safe
from core.roles import can_read, can_write
from core.slices import slice_by_ids
from feeds.models import CalendarFeed, FeedScope
from feeds.selectors import feed_url
from feeds.services import calendar_feed_create, calendar_feed_revoke, calendar_feed_rotate

from . import charts, selectors, timeline
from .forms import (
    SHOW_SOURCE,
    DeadlineRevisionForm,
    ProgressForm,
    RatingForm,
    dashboard_widgets,
    initial_from_post,
    quick_selects,
)
from .publication import publication_panel

PAGE_SIZE = 25


def _has_reader_role(user: Any) -> bool:
    if not can_read(user):
        raise PermissionDenied
    return True


def _reviewer(view):  # type: ignore[no-untyped-def]
    """Require a login and a role that reads (403 for a logged-in user without one)."""
    return login_required(user_passes_test(_has_reader_role)(view))


def _me(request: HttpRequest) -> int:
    """Return the logged-in user's id (every view here requires a login)."""
    return cast(int, request.user.pk)


def _posted_id(request: HttpRequest, name: str) -> int | None:
    """Return the posted ``name`` as a row id, or None if it is not a positive whole number.

    The one parser of the ids the pages post: ``str.isdigit()`` accepts "²", which ``int()``
    then refuses.
    """
    try:
        return forms.IntegerField(min_value=1).clean(request.POST.get(name, ""))
    except ValidationError:
        return None


def _days(due: dt.date | None, today: dt.date) -> int | None:
    return (due - today).days if due else None


@_reviewer
def overview(request: HttpRequest) -> HttpResponse:
    """Show counts, the next deadlines, the overdue list and recent progress."""
    now = timezone.now()
    today = timezone.localdate(now)
    data = selectors.overview(now=now, today=today)
    # The lists filter as the counts count: by the due instant, at the time of the request.
    links = {
        "overdue": "overdue=true",
        "due_7": "due_within=7",
        "due_30": "due_within=30",
        "fulfilled": "status=fulfilled",
        "total": "",
    }
    return render(
        request,
        "dashboard/overview.html",
        {
            # Timeliness of fulfilment (issue 12).
            "timing_counts": data.timing,
            # Ratings whose last review is too old (issue 13, item 4).
            "reviews_due": selectors.reviews_due_count(),
            "data": data,
            "links": links,
            "upcoming": [(c, _days(c.due_date, today)) for c in data.upcoming],
            "overdue": [(c, -(_days(c.due_date, today) or 0)) for c in data.overdue],
            # Publishing (issue 15): what waits for a second editor.
            "awaiting_review": (
                list(agreements_awaiting_review()) if can_write(request.user) else None
            ),
        },
    )


@_reviewer
def commitment_list(request: HttpRequest) -> HttpResponse:
    """List commitments with the API's filters, sortable and paginated."""
    queryset = Commitment.objects.order_by(F("due_date").asc(nulls_last=True), "id")
    filterset = CommitmentFilterSet(request.GET, queryset=queryset)
    quick_selects(filterset.form)
    valid = filterset.is_valid()
    rows = filterset.qs if valid else queryset.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # What a row shows is loaded for the page's rows only; a deep page's are picked by id
    # first, so that the joins are not made for the rows it skips.
    page.object_list = selectors.commitment_page(slice_by_ids(cast(QuerySet, page.object_list)))
    query = request.GET.copy()
    query.pop("page", None)
    party = filterset.form.cleaned_data.get("obligor") if valid else None
    return render(
        request,
        "dashboard/commitment_list.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "party": party,
            "watching": _watching(request, party=party) if party else None,
            "today": timezone.localdate(),
        },
        status=200 if valid else 400,
    )


def commitment_urls(pks: Iterable[int]) -> dict[int, str]:
    """Return each commitment's dashboard URL, reversing the route once for all of them."""
    return pk_urls("dashboard:commitment", pks)


@dataclass
class CommitmentRow:
    """One commitment of the agreement page, with the words and link its sections share.

    Not frozen: the page builds one per commitment, and a frozen dataclass's ``__init__``
    costs several times a plain one's (``object.__setattr__`` per field).
    """

    commitment: CommitmentBrief
    title: str
    #: The title as the ``localized`` tag writes it (a fallback or machine translation marked).
    title_html: SafeString
    url: str
    obligors: list[Party]

    @cached_property
    def link(self) -> SafeString:
        """Return the title linked to the commitment's page, escaped once for the sections
        that show it (the commitments table and each compliance table)."""
        return safe(f'<a href="{escape(self.url)}">{escape(self.title_html)}</a>')


@_reviewer
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an agreement: parties, sources, commitments, timeline, compliance and reports.

    The compliance table is today's, or as of ``?as_of=``, compared with ``?since=``; a bad
    date is shown at its field with a 400 and no table.
    """
    return _agreement_page(request, pk)


def _agreement_page(
    request: HttpRequest,
    pk: int,
    *,
    freeze_form: ReportFreezeForm | None = None,
    publication_form: PublicationChangeForm | None = None,
) -> HttpResponse:
    """Render the agreement page; a refused date, freeze form or publication step shows at
    its fields with a 400.

    Its sections of rows (:data:`AGREEMENT_SECTIONS`: all but the forms and what depends on
    the reader) are kept rendered under a version of those rows
    (:func:`core.fragments.fragments`, :func:`commitments.selectors.agreement_rows_version`),
    read before them on every request: a page whose rows have not changed skips their queries
    and their rendering, and any change to them is shown at once.
    """
    # The version first, before any row it covers is read (the agreement's own included): a
    # section kept under it then shows those rows or newer ones, never older. The comparison
    # shows the ratings' evidence, rows of other tables: it is rendered each time.
    version = None if request.GET.get("since") else agreement_rows_version(pk)
    try:
        agreement = selectors.agreement_detail(pk=pk)
    except Agreement.DoesNotExist as exc:
        raise Http404 from exc
    today = timezone.localdate()
    dates_form = ComplianceDateForm(request.GET or None, agreement=agreement)
    # A refused date shows its error at the field above today's table, not an empty page.
    dates = dates_form.cleaned_data if request.GET and dates_form.is_valid() else {}
    as_of, since = dates.get("as_of"), dates.get("since")
    sections = fragments(
        ("dashboard:agreement", agreement.pk, get_language(), today, as_of),
        None if since else version,
        lambda: _agreement_sections(
            request, agreement, today=today, dates_form=dates_form, as_of=as_of, since=since
        ),
    )
    if freeze_form is None and can_write(request.user):
        freeze_form = ReportFreezeForm(
            agreement=agreement,
            initial={"cutoff": agreement_today(agreement, timezone.now()).isoformat()},
        )
    refused = (
        dates_form.errors
        or (freeze_form is not None and freeze_form.errors)
        or (publication_form is not None and publication_form.errors)
    )
    return render(
        request,
        "dashboard/agreement_detail.html",
        {
            "agreement": agreement,
            "sections": sections,
            "dates_form": dates_form,
            "compliance_as_of": as_of,
            "comparing": since is not None,
            "reports": report_list(agreement=agreement),
            "freeze_form": freeze_form,
            "watching": _watching(request, agreement=agreement),
            "publication": publication_panel(
                agreement=agreement, user=request.user, form=publication_form
            ),
        },
        status=400 if refused else 200,
    )


#: The agreement page's sections of rows, each its template (``{{ sections.<name> }}``).
AGREEMENT_SECTIONS = {
    "facts": "dashboard/_agreement_facts.html",
    "timeline": "dashboard/_agreement_timeline.html",
    "compliance": "dashboard/_compliance_body.html",
    "charts": "dashboard/_agreement_charts.html",
    "commitments": "dashboard/_agreement_commitments.html",
    "sources": "dashboard/_agreement_sources.html",
}


def _agreement_sections(
    request: HttpRequest,
    agreement: Agreement,
    *,
    today: dt.date,
    dates_form: ComplianceDateForm,
    as_of: dt.date | None,
    since: dt.date | None,
) -> dict[str, str]:
    """Render the agreement page's sections of rows (:data:`AGREEMENT_SECTIONS`): the
    compliance table as of ``as_of`` (today's if None), compared with ``since`` if given.

    The commitments are read once, as briefs, for the list, the timeline, the compliance table
    and the charts. ``current_compliance`` is today's table, for the charts: the table shown
    when no date is asked for, else one more read of the current ratings. The ratings'
    evidence is read only for the comparison, the one section that shows it.
    """
    prefetch_related_objects([agreement], *selectors.AGREEMENT_FACTS)
    commitments = compliance_briefs(agreement)
    table = compliance_table(
        agreement=agreement, as_of=as_of, commitments=commitments, with_evidence=bool(since)
    )
    current = (
        table
        if as_of is None
        else compliance_table(agreement=agreement, commitments=commitments, with_evidence=False)
    )
    # Each commitment's title, link and obligors once, for the list, the timeline and the
    # compliance table: the same words, not worked out again per section. The obligors are
    # the brief's, the parties of the commitment's rows in the compliance tables.
    urls = commitment_urls(c.pk for c in commitments)
    language = reader_language()
    title_html = localized_writer()
    rows = []
    for c in commitments:
        title = localized(c, "title", language)
        rows.append(
            CommitmentRow(
                commitment=c,
                title=title.text,
                title_html=title_html(title),
                url=urls[c.pk],
                obligors=c.obligor_list,
            )
        )
    lanes = [
        timeline.Lane(
            title=row.title,
            url=row.url,
            due_date=row.commitment.due_date,
            effective_from=row.commitment.effective_from,
            fulfilled_on=row.commitment.fulfilled_on,
            state=row.commitment.deadline_state,
            stages=stage_dates(row.commitment),
        )
        for row in rows
    ]
    context = {
        "agreement": agreement,
        "commitments": rows,
        "commitment_rows": {row.commitment.pk: row for row in rows},
        "timeline": timeline.layout(agreement_date=agreement.date, lanes=lanes, today=today),
        "dates_form": dates_form,
        "compliance": table,
        "current_compliance": current,
        "changes": compliance_changes(table=table, since=since) if since else None,
        "method": methodology(),
        "commitment_sources": selectors.agreement_commitment_sources(agreement=agreement),
    }
    return {
        name: render_to_string(template, context, request)
        for name, template in AGREEMENT_SECTIONS.items()
    }


@require_POST
@_reviewer
def agreement_publication(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a publication step (editors); a refusal shows at the form on the page, 400."""
    if not can_write(request.user):
        raise PermissionDenied
    agreement = get_object_or_404(Agreement, pk=pk)
    form = PublicationChangeForm(request.POST, agreement=agreement)
    if form.is_valid():
        event = form.save(user=request.user)
        if event is not None:
            messages.success(
                request,
                _("%(step)s: the agreement is now %(state)s.")
                % {
                    "step": event.get_action_display(),
                    "state": event.get_state_to_display().lower(),
                },
            )
            return HttpResponseRedirect(
                reverse("dashboard:agreement", args=[pk]) + "#publication-h"
            )
    return _agreement_page(request, pk, publication_form=form)


@_reviewer
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a commitment; editors may record a progress update or a status change."""
    commitment = _commitment_or_404(pk)
    can_edit = can_write(request.user)
    form = ProgressForm(commitment=commitment) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if SHOW_SOURCE in request.POST:
            initial = initial_from_post(request.POST)
            return _commitment_page(
                request, commitment, form=ProgressForm(commitment=commitment, initial=initial)
            )
        form = ProgressForm(request.POST, request.FILES, commitment=commitment)
        if form.is_valid() and form.save(user=request.user) is not None:
            messages.success(request, _("The progress update was recorded."))
            return HttpResponseRedirect(request.path)
    return _commitment_page(request, commitment, form=form)


def _commitment_or_404(pk: int) -> Commitment:
    try:
        return selectors.commitment_detail(pk=pk)
    except Commitment.DoesNotExist as exc:
        raise Http404 from exc


def _commitment_page(
    request: HttpRequest, commitment: Commitment, *, form: ProgressForm | None
) -> HttpResponse:
    """Render the commitment's page with its form; 400 if the form holds errors."""
    # Days count in the agreement's zone, where the deadline ends with its due day.
    today = timezone.localdate(timezone=ZoneInfo(commitment.agreement.time_zone))
    # A closed commitment has no clock left: "115 days left" beside "Fulfilled" misleads.
    days_left = None if commitment.status in TERMINAL else _days(commitment.due_date, today)
    updates = list(commitment.progress_updates.all())
    return render(
        request,
        "dashboard/commitment_detail.html",
        {
            "commitment": commitment,
            "rule_words": commitment_rule_in_words(commitment),
            "deadline_explanation": deadline_explanation(commitment),
            "retroactive": is_retroactive(
                effective_from=commitment.effective_from,
                signed_on=commitment.signed_on,
                announced_on=commitment.announced_on,
            ),
            "days_left": days_left,
            "days_overdue": -days_left if days_left is not None and days_left < 0 else None,
            "updates": updates,
            "related": commitment_related(commitment=commitment),
            "chart": charts.progress_chart(commitment=commitment, updates=updates, today=today),
            "form": form,
            "watching": _watching(request, commitment=commitment),
            # Deadline revisions (issue 12).
            "revisions": list(commitment.revisions.all()),
            "can_revise": form is not None,
            "revision_refusal": revision_refusal(commitment=commitment) if form else None,
            # Ratings (issue 13).
            **_assessment_context(commitment, can_edit=form is not None, rating_form=None),
        },
        status=400 if form is not None and form.errors else 200,
    )


# Ratings (issue 13) ---------------------------------------------------------------------------


@dataclass
class ObligorRating:
    """One obligor of a commitment, its current rating (or none) and its rating history."""

    party: Party
    current: Assessment | None
    history: list[Assessment]

    @property
    def rating(self) -> str:
        return self.current.rating if self.current else Rating.NOT_RATED.value

    @property
    def label(self) -> str:
        return rating_label(self.current.rating if self.current else None)

    @property
    def score(self) -> int | None:
        return assessment_score(self.rating)


def _assessment_context(
    commitment: Commitment, *, can_edit: bool, rating_form: RatingForm | None
) -> dict[str, Any]:
    """Return what ``dashboard/_assessment.html`` shows: each obligor's rating and history."""
    history = list(assessment_history(commitment=commitment))
    obligors = [
        ObligorRating(
            party=party,
            current=next((a for a in history if a.party_id == party.pk and a.current), None),
            history=[a for a in history if a.party_id == party.pk],
        )
        for party in commitment.obligor_list
    ]
    if can_edit and rating_form is None:
        rating_form = RatingForm(commitment=commitment)
    return {"obligor_ratings": obligors, "rating_form": rating_form if can_edit else None}


@_reviewer
def commitment_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the rating form (editors) and record a rating; errors stay at their fields.

    The commitment page carries the same form and posts here; a refusal is shown on this
    page, beside the obligors' current ratings.
    """
    if not can_write(request.user):
        raise PermissionDenied
    commitment = _commitment_or_404(pk)
    if request.method == "POST" and SHOW_SOURCE in request.POST:
        initial = initial_from_post(request.POST, f"{RatingForm.prefix}-")
        form = RatingForm(commitment=commitment, initial=initial)
    elif request.method == "POST":
        form = RatingForm(request.POST, request.FILES, commitment=commitment)
        if form.is_valid() and form.save(user=request.user) is not None:
            messages.success(request, _("The rating was recorded."))
            return HttpResponseRedirect(
                reverse("dashboard:commitment", args=[pk]) + "#assessment-h"
            )
    else:
        form = RatingForm(commitment=commitment)
    return render(
        request,
        "dashboard/commitment_rate.html",
        {
            "commitment": commitment,
            "form": form,
            **_assessment_context(commitment, can_edit=True, rating_form=form),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@_reviewer
def assessment_review(request: HttpRequest, pk: int, assessment_id: int) -> HttpResponse:
    """Confirm that a current rating still holds, reviewed today (editors)."""
    if not can_write(request.user):
        raise PermissionDenied
    assessment = get_object_or_404(Assessment, pk=assessment_id, commitment_id=pk)
    form = AssessmentReviewForm({}, assessment=assessment)
    if form.is_valid() and form.save(user=request.user) is not None:
        messages.success(request, _("The rating was marked reviewed today."))
    else:
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
    return HttpResponseRedirect(reverse("dashboard:commitment", args=[pk]) + "#assessment-h")


# Deadline revisions (issue 12).


@_reviewer
def commitment_revise(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the revision form (editors) and record a revision; errors stay at their fields."""
    if not can_write(request.user):
        raise PermissionDenied
    commitment = _commitment_or_404(pk)
    if request.method == "POST":
        form = DeadlineRevisionForm(request.POST, commitment=commitment)
        if form.is_valid() and form.save(user=request.user) is not None:
            messages.success(request, _("The revision of the deadline was recorded."))
            return HttpResponseRedirect(reverse("dashboard:commitment", args=[pk]))
    else:
        form = DeadlineRevisionForm(commitment=commitment)
    return render(
        request,
        "dashboard/commitment_revise.html",
        {"commitment": commitment, "revisions": list(commitment.revisions.all()), "form": form},
        status=400 if form.errors else 200,
    )


# Recurrence (issue 12, item 3) -----------------------------------------------------------


@_reviewer
def occurrence_detail(request: HttpRequest, pk: int, sequence: int) -> HttpResponse:
    """Show one occurrence of a recurring commitment; editors may record its status."""
    commitment = get_object_or_404(Commitment.objects.select_related("agreement", "obligor"), pk=pk)
    occurrence = get_object_or_404(commitment.occurrences, sequence=sequence)
    can_edit = can_write(request.user)
    form = ProgressForm(commitment=commitment, occurrence=occurrence) if can_edit else None
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    if request.method == "POST" and SHOW_SOURCE in request.POST:
        initial = initial_from_post(request.POST)
        form = ProgressForm(commitment=commitment, occurrence=occurrence, initial=initial)
    elif request.method == "POST":
        form = ProgressForm(
            request.POST, request.FILES, commitment=commitment, occurrence=occurrence
        )
        if form.is_valid() and form.save(user=request.user) is not None:
            messages.success(request, _("The progress update was recorded."))
            return HttpResponseRedirect(reverse("dashboard:commitment", args=[commitment.pk]))
    return render(
        request,
        "dashboard/occurrence_detail.html",
        {
            "commitment": commitment,
            "occurrence": occurrence,
            "updates": occurrence.progress_updates.select_related("evidence__source", "author"),
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


# End of recurrence ------------------------------------------------------------------------


def _watching(request: HttpRequest, **target: Any) -> Subscription | None:
    """Return the user's subscription to ``target``, if any."""
    return Subscription.objects.filter(user_id=_me(request), **target).first()


WATCH_TARGETS = {
    SubscriptionScope.AGREEMENT: Agreement,
    SubscriptionScope.PARTY: Party,
    SubscriptionScope.COMMITMENT: Commitment,
}


@require_POST
@_reviewer
def watch(request: HttpRequest) -> HttpResponse:
    """Start or stop watching an agreement, a party or a commitment, then go back."""
    scope = request.POST.get("scope", "")
    model = WATCH_TARGETS.get(scope)  # type: ignore[call-overload]
    if model is None:
        return HttpResponse(_("Unknown scope."), status=400)
    target_id = _posted_id(request, "id")
    if target_id is None:
        return HttpResponse(_("Unknown id."), status=400)
    target = get_object_or_404(model, pk=target_id)
    existing = Subscription.objects.filter(user_id=_me(request), **{scope: target}).first()
    try:
        if request.POST.get("action") == "unwatch":
            if existing is not None:
                subscription_services.subscription_delete(subscription=existing)
            messages.success(request, _("You no longer watch %(target)s.") % {"target": target})
        elif existing is None:
            subscription_services.subscription_create(
                user=request.user, scope=scope, **{scope: target}
            )
            messages.success(request, _("You now watch %(target)s.") % {"target": target})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("dashboard:watching")
    return HttpResponseRedirect(back)


@_reviewer
def watching(request: HttpRequest) -> HttpResponse:
    """List the user's subscriptions, alerts and calendar feeds; make, renew or revoke a feed.

    A feed's URL holds a secret that is not stored: it is shown in the answer to the request
    that made or renewed it, and never again.
    """
    new_feed_url = None
    if request.method == "POST":
        new_feed_url = _calendar_feed_action(request)
    subscriptions = (
        Subscription.objects.filter(user_id=_me(request))
        .select_related("agreement", "party", "commitment")
        .prefetch_related("leads")
        .order_by("scope", "id")
    )
    alerts = (
        Alert.objects.filter(user_id=_me(request))
        .select_related("commitment")
        .order_by("-created", "-id")[:50]
    )
    feeds = CalendarFeed.objects.filter(user_id=_me(request)).select_related("agreement", "party")
    return render(
        request,
        "dashboard/watching.html",
        {
            "subscriptions": subscriptions,
            "alerts": alerts,
            "feeds": feeds.order_by("-created", "-id"),
            "new_feed_url": new_feed_url,
        },
    )


def _calendar_feed_action(request: HttpRequest) -> str | None:
    """Make, renew or revoke one of the user's feeds; return a new URL if there is one."""
    now = timezone.now()
    action = request.POST.get("action")
    if action == "create":
        scope = request.POST.get("scope", "")
        if scope not in (FeedScope.WATCHLIST, FeedScope.ALL):
            raise PermissionDenied
        _feed, secret = calendar_feed_create(
            user=cast(Any, request.user), scope=scope, now=now, name=str(FeedScope(scope).label)
        )
        return feed_url(request=request, secret=secret)
    feed_id = _posted_id(request, "feed")
    if feed_id is None:
        raise Http404
    feed = get_object_or_404(CalendarFeed, pk=feed_id, user_id=_me(request))
    if action == "rotate":
        return feed_url(request=request, secret=calendar_feed_rotate(feed=feed, now=now))
    if action == "revoke":
        calendar_feed_revoke(feed=feed, now=now)
        messages.success(request, _("The feed's address no longer works."))
        return None
    raise PermissionDenied


# Compliance as of a date, reports and the methodology (issue 13) ----------------------------


@_reviewer
def methodology_page(request: HttpRequest) -> HttpResponse:
    """Show the assessment method: the scale, the scores, what is left out, pace and reviews."""
    return render(request, "dashboard/methodology.html", {"method": methodology()})


@require_POST
@_reviewer
def report_freeze(request: HttpRequest, pk: int) -> HttpResponse:
    """Freeze a report of the agreement (editors); errors show on the agreement page, 400."""
    if not can_write(request.user):
        raise PermissionDenied
    agreement = get_object_or_404(Agreement, pk=pk)
    form = ReportFreezeForm(request.POST, agreement=agreement)
    if form.is_valid():
        report = form.save(user=request.user)
        if report is not None:
            messages.success(request, _("The report was frozen."))
            return HttpResponseRedirect(reverse("dashboard:report", args=[pk, report.pk]))
    return _agreement_page(request, pk, freeze_form=form)


def _report_or_404(pk: int, report_id: int) -> Report:
    return get_object_or_404(
        Report.objects.select_related("agreement", "created_by"), pk=report_id, agreement_id=pk
    )


@_reviewer
def report_detail(request: HttpRequest, pk: int, report_id: int) -> HttpResponse:
    """Show a frozen report; editors may correct a row (``?row=``) or the whole report."""
    report = _report_or_404(pk, report_id)
    can_edit = can_write(request.user)
    form = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = dashboard_widgets(ReportCorrectionForm(request.POST, report=report))
        if form.is_valid() and form.save(user=request.user) is not None:
            messages.success(request, _("The correction was recorded."))
            return HttpResponseRedirect(reverse("dashboard:report", args=[pk, report.pk]))
    elif can_edit:
        row_id = request.GET.get("row", "")
        row = report.rows.filter(pk=row_id).first() if row_id.isdecimal() else None
        form = dashboard_widgets(
            ReportCorrectionForm(
                report=report,
                initial={
                    "row": row,
                    "field": ReportCorrection.Field.RATING
                    if row
                    else ReportCorrection.Field.REPORT,
                },
            )
        )
    return render(
        request,
        "dashboard/report_detail.html",
        {
            "agreement": report.agreement,
            "report": report,
            # The frozen rows' tables, tally and method, rendered once per key (corrections,
            # language...): a 1,000-row report is not rendered again for each reader.
            **report_cached(report, f"page:{int(can_edit)}", _report_parts(can_edit)),
            "correct_form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


def _report_parts(correct_forms: bool) -> Callable[[ReportReading], dict[str, Any]]:
    """Return the renderer of what the report page shows of a reading: its tally, its tables
    (with a "correct" link on each row for editors) and the method it was frozen with."""

    def render_parts(reading: ReportReading) -> dict[str, Any]:
        return {
            "tally": reading.tally,
            "body": render_to_string(
                "commitments/_report_body.html",
                {"reading": reading, "correct_forms": correct_forms},
            ),
            "methodology": render_to_string(
                "commitments/_methodology.html",
                {"method": methodology(scale=reading.report.method)},
            ),
        }

    return render_parts


@_reviewer
def report_download(request: HttpRequest, pk: int, report_id: int, extension: str) -> HttpResponse:
    """Answer the report as CSV (UTF-8 with BOM) or PDF, as an attachment."""
    body, content_type, name = report_file(_report_or_404(pk, report_id), extension)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
