"""Sources on the review pages: the list, "Add a source", a source's page and its original.

Readers read a source's archived text with every citation's span marked, so a quote can be
checked against the archive; editors add sources through ``source_create`` (by way of
``SourceForm``). The original is only ever sent as a download that no browser runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from commitments import passages
from commitments.filtersets import SourceFilterSet
from commitments.forms import SourceForm
from commitments.models import Citation, Source
from commitments.source_files import source_download, source_has_copy
from core.roles import can_write

from .forms import dashboard_widgets
from .views import PAGE_SIZE, _reviewer


@dataclass
class Piece:
    """A run of a paragraph's text, and the citations whose spans cover it."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    #: The citations whose span starts here (their anchors go on this piece).
    starts: list[Citation] = field(default_factory=list)


@dataclass
class Paragraph:
    number: int
    start: int
    pieces: list[Piece]


def source_paragraphs(text: str, citations: Iterable[Citation]) -> list[Paragraph]:
    """Return ``text`` in its paragraphs (:func:`passages.paragraphs`, the workbench's too), cut
    where spans begin or end.

    A citation whose span crosses paragraphs is marked in each; overlapping spans share the
    pieces they both cover.
    """
    spans = [(c, c.start, c.end) for c in citations if c.start is not None and c.end is not None]
    # One sweep down the text: the spans open over the current paragraph, in their given
    # order, instead of every span tested against every paragraph and every piece.
    by_start = sorted(range(len(spans)), key=lambda i: spans[i][1])
    waiting = 0
    open_spans: list[int] = []
    paragraphs = []
    for number, start, end in ((p.number, p.start, p.end) for p in passages.paragraphs(text)):
        while waiting < len(by_start) and spans[by_start[waiting]][1] < end:
            open_spans.append(by_start[waiting])
            waiting += 1
        open_spans = [i for i in open_spans if spans[i][2] > start]
        here = [spans[i] for i in sorted(open_spans)]
        cuts = {start, end}
        for _citation, left, right in here:
            cuts.update({max(left, start), min(right, end)})
        pieces = []
        for left, right in itertools.pairwise(sorted(cuts)):
            covering = [c for c, c_start, c_end in here if c_start <= left and c_end >= right]
            starts = [c for c, c_start, _end in here if c_start == left and c in covering]
            pieces.append(Piece(text[left:right], covering, starts))
        paragraphs.append(Paragraph(number, start, pieces))
    return paragraphs


@_reviewer
def source_list(request: HttpRequest) -> HttpResponse:
    """List the sources, newest first; ``?q=`` searches them as the API's ``q`` does."""
    query = request.GET.get("q", "").strip()[:200]
    rows = Source.objects.annotate(citation_count=Count("citations")).order_by(
        "-published_on", "title", "id"
    )
    if query:
        rows = SourceFilterSet({"q": query}, queryset=rows).qs
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/sources/source_list.html",
        {"page": page, "q": query, "can_add": can_write(request.user)},
    )


@_reviewer
def source_add(request: HttpRequest) -> HttpResponse:
    """Add a source with its archived copy (editors); errors stay at their fields, 400."""
    if not can_write(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = dashboard_widgets(SourceForm(request.POST, request.FILES))
        if form.is_valid():
            source = form.save(user=request.user)
            if source is not None:
                messages.success(request, _("The source was added with its archived copy."))
                return HttpResponseRedirect(reverse("dashboard:source", args=[source.pk]))
    else:
        form = dashboard_widgets(SourceForm())
    return render(
        request,
        "dashboard/sources/source_add.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@_reviewer
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a source: its metadata, its archive's facts and its text with the cited spans."""
    source = get_object_or_404(Source, pk=pk)
    citations = list(
        Citation.objects.filter(source=source)
        .select_related("commitment", "agreement")
        .order_by("start", "id")
    )
    return render(
        request,
        "dashboard/sources/source_detail.html",
        {
            "source": source,
            "paragraphs": source_paragraphs(source.text, citations),
            "citations": citations,
            "unplaced": [c for c in citations if c.start is None],
            "can_download": source_has_copy(source),
        },
    )


@_reviewer
def source_original(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Send the source's original (or its pasted text) as a download no browser runs."""
    return source_download(get_object_or_404(Source, pk=pk))
