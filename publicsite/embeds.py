"""Embeddable cards and oEmbed: a commitment's or an agreement's meter, framable by any site.

A card is a small page of its own (no site header, no JavaScript) that another site puts in
an ``<iframe>``; it links back to the permalink in a new tab. ``oembed`` answers the oEmbed
1.0 question "how do I embed this permalink?" with the same ``<iframe>``. Both read only
through :mod:`commitments.visibility`: a draft, an unknown key or a foreign URL is a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from csp.decorators import csp_replace
from django.conf import settings
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from commitments.assessment import SCALE, Rating
from commitments.assessment import score as rating_score
from commitments.choices import TERMINAL, rating_label
from commitments.models import Agreement, Assessment, Commitment, Party
from commitments.selectors import compliance_table
from commitments.services.keys import key_resolve
from commitments.translations import localized_text
from commitments.visibility import public_agreements, public_assessments, public_commitments

from .context import public_context
from .i18n import public_view
from .selectors import status_counts

#: Each card's natural size in CSS pixels: what the snippet and oEmbed ask for by default.
COMMITMENT_SIZE = (480, 440)
AGREEMENT_SIZE = (480, 520)
#: How long an oEmbed consumer may keep an answer (seconds): the public cache's order.
OEMBED_CACHE_AGE = 3600


def site_url() -> str:
    """Return the tracker's public address, without a trailing slash."""
    return str(settings.SITE_URL).rstrip("/")


def _route(obj: Agreement | Commitment) -> str:
    return "agreement" if isinstance(obj, Agreement) else "commitment"


def permalink(obj: Agreement | Commitment, lang: str) -> str:
    """Return the absolute URL of the object's public page in ``lang``."""
    return site_url() + reverse(f"public:{_route(obj)}", kwargs={"lang": lang, "key": obj.key})


def embed_url(obj: Agreement | Commitment, lang: str) -> str:
    """Return the absolute URL of the object's embeddable card in ``lang``."""
    return site_url() + reverse(
        f"public:embed_{_route(obj)}", kwargs={"lang": lang, "key": obj.key}
    )


def default_size(obj: Agreement | Commitment) -> tuple[int, int]:
    """Return the card's natural width and height."""
    return AGREEMENT_SIZE if isinstance(obj, Agreement) else COMMITMENT_SIZE


def iframe_html(obj: Agreement | Commitment, lang: str, width: int, height: int) -> str:
    """Return the ``<iframe>`` code another site pastes to show the card (text escaped)."""
    return format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy" '
        'style="border:0;max-width:100%"></iframe>',
        embed_url(obj, lang),
        width,
        height,
        localized_text(obj, "title", lang),
    )


# The cards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligorRating:
    """One obligor of a commitment and its current rating (``None``: not yet rated)."""

    party: Party
    assessment: Assessment | None

    @property
    def rating(self) -> str:
        return self.assessment.rating if self.assessment else Rating.NOT_RATED.value

    @property
    def label(self) -> str:
        return rating_label(self.rating)

    @property
    def score(self) -> int | None:
        return rating_score(self.rating)


def _moved(route: str, lang: str, key: str) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(reverse(route, kwargs={"lang": lang, "key": key}))


def _framable(view: Any) -> Any:
    """Let any site frame the view: ``frame-ancestors *`` and no X-Frame-Options.

    The rest of the policy stays (no script, our styles only). Only the cards are framable:
    every other page keeps ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'``.
    """
    return csp_replace({"frame-ancestors": ["*"]})(xframe_options_exempt(view))


@require_safe
@_framable
@public_view
def embed_commitment(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """Render a public commitment's card: status, each obligor's rating, the key dates."""
    queryset = public_commitments().select_related("obligor", "agreement")
    try:
        commitment, moved = key_resolve(Commitment, key, queryset=queryset)
    except Commitment.DoesNotExist:
        raise Http404(_("No published commitment has this key.")) from None
    if moved:
        return _moved("public:embed_commitment", lang, commitment.key)
    ratings = {
        a.party_id: a
        for a in public_assessments()
        .filter(commitment=commitment, current=True)
        .select_related("party")
    }
    obligors = [ObligorRating(p, ratings.get(p.pk)) for p in commitment.obligor_list]
    return render(
        request,
        "public/embed_commitment.html",
        {
            **public_context(request),
            "commitment": commitment,
            "obligors": obligors,
            "permalink": permalink(commitment, lang),
        },
    )


@require_safe
@_framable
@public_view
def embed_agreement(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """Render a public agreement's card: commitments by status, compliance, next deadline."""
    try:
        agreement, moved = key_resolve(Agreement, key, queryset=public_agreements())
    except Agreement.DoesNotExist:
        raise Http404(_("No published agreement has this key.")) from None
    if moved:
        return _moved("public:embed_agreement", lang, agreement.key)
    commitments = public_commitments().filter(agreement=agreement)
    counts = dict(commitments.order_by().values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    by_status = status_counts(counts)
    next_due = (
        commitments.filter(due_date__gte=timezone.localdate())
        .exclude(status__in=[s.value for s in TERMINAL])
        .order_by("due_date", "id")
        .first()
    )
    tally = compliance_table(agreement=agreement).tally
    rating_counts = [
        (rating_label(rule.rating), tally.counts[rule.rating])
        for rule in SCALE
        if tally.counts[rule.rating]
    ]
    return render(
        request,
        "public/embed_agreement.html",
        {
            **public_context(request),
            "agreement": agreement,
            "total": total,
            "by_status": by_status,
            "tally": tally,
            "rating_counts": rating_counts,
            "next_due": next_due,
            "next_due_url": permalink(next_due, lang) if next_due else "",
            "permalink": permalink(agreement, lang),
        },
    )


# oEmbed -------------------------------------------------------------------------------------


class OEmbedError(Exception):
    """A question oEmbed cannot answer: the status to send and the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _dimension(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    # ASCII digits only ("²" is a digit to str.isdigit), and few of them.
    if not re.fullmatch(r"[0-9]{1,5}", raw) or int(raw) < 1:
        raise OEmbedError(
            400, _("%(field)s must be a whole number of pixels, 1 or more.") % {"field": name}
        )
    return int(raw)


def _oembed_target(url: str) -> tuple[Agreement | Commitment, str]:
    """Return the public agreement or commitment a permalink URL names, and its language."""
    not_found = OEmbedError(404, _("This URL is not a published agreement or commitment."))
    site = urlsplit(site_url())
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[abc/x": not a URL at all
        raise not_found from None
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        raise not_found
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise not_found from None
    models = {"public:agreement": Agreement, "public:commitment": Commitment}
    model: Any = models.get(match.view_name or "")
    if model is None:
        raise not_found
    queryset = public_agreements() if model is Agreement else public_commitments()
    try:
        row, _moved = key_resolve(model, match.kwargs["key"], queryset=queryset)
    except model.DoesNotExist:
        raise not_found from None
    return row, match.kwargs["lang"]


def oembed_answer(request: HttpRequest) -> dict[str, Any]:
    """Return the oEmbed 1.0 answer for ``?url=`` (raise :class:`OEmbedError` otherwise)."""
    url = request.GET.get("url", "").strip()
    if not url:
        raise OEmbedError(400, _("url is required: the permalink of an agreement or commitment."))
    response_format = request.GET.get("format", "json").strip() or "json"
    max_width = _dimension(request, "maxwidth")
    max_height = _dimension(request, "maxheight")
    if response_format != "json":
        raise OEmbedError(501, _("format: only json is available."))
    obj, lang = _oembed_target(url)
    width, height = default_size(obj)
    width = min(width, max_width or width)
    height = min(height, max_height or height)
    return {
        "version": "1.0",
        "type": "rich",
        "title": localized_text(obj, "title", lang),
        "provider_name": _("Commitment Tracker"),
        "provider_url": site_url() + "/",
        "cache_age": OEMBED_CACHE_AGE,
        "width": width,
        "height": height,
        "html": iframe_html(obj, lang, width, height),
    }


@require_safe
@public_view
def oembed(request: HttpRequest, lang: str) -> HttpResponse:
    """Answer ``?url=…&format=json&maxwidth=&maxheight=`` as oEmbed 1.0 says."""
    try:
        answer = oembed_answer(request)
    except OEmbedError as error:
        if error.status == 400:
            return HttpResponseBadRequest(error.message, content_type="text/plain; charset=utf-8")
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
