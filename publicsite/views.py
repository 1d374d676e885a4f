"""The public pages: the published tracker, readable by anyone without a login.

Every page is anonymous, in the language its URL names (:func:`publicsite.i18n.public_view`),
and reads only public content (:mod:`commitments.visibility`, through
:mod:`publicsite.selectors`). A view never reads ``request.user`` or the session, so a page is
the same for every reader of its URL and may be cached as such. An unknown or unpublished key
is a plain 404 in the URL's language; an old key answers 301 to the current one.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language_from_request, get_language_info, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from commitments.assessment import Tally
from commitments.changes import CORRECTION, public_changes
from commitments.choices import TERMINAL
from commitments.deadlines.text import commitment_rule_in_words, deadline_explanation
from commitments.models import Agreement, Commitment, Party, Source
from commitments.selectors import current_assessments, methodology, report_reading
from commitments.services.keys import key_resolve
from commitments.stages import is_retroactive, stage_dates
from commitments.translations import localized_text, reader_language
from commitments.visibility import public_parties, public_sources
from dashboard import timeline

from . import selectors
from .context import public_context
from .i18n import public_view

#: ``og:locale`` of each language of the site.
OG_LOCALES = {"en": "en_GB", "fr": "fr_FR"}
#: What a description keeps of a long text (search engines show about 160 characters).
DESCRIPTION_CHARS = 200
#: JSON in a ``<script>``: these could close the element or open a comment.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def language_pick(request: HttpRequest) -> HttpResponseRedirect:
    """Send ``/public/`` to the overview in the reader's language (browser or cookie)."""
    language = reader_language(get_language_from_request(request))
    response = HttpResponseRedirect(reverse("public:overview", kwargs={"lang": language}))
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


def json_ld(data: dict[str, Any]) -> SafeString:
    """Return ``data`` as a JSON-LD ``<script>``, safe inside HTML whatever its texts hold."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


def _description(*texts: str) -> str:
    text = " ".join(" ".join(strip_tags(t).split()) for t in texts if t)
    return Truncator(text).chars(DESCRIPTION_CHARS)


def _meta(lang: str, *, title: str, description: str, kind: str = "website") -> dict[str, Any]:
    """Return the page's Open Graph and Twitter card values (``meta`` in ``public/base.html``)."""
    return {
        "title": title,
        "description": _description(description),
        "type": kind,
        "locale": OG_LOCALES[lang],
        "locale_alternates": [code for other, code in OG_LOCALES.items() if other != lang],
    }


def _render(
    request: HttpRequest,
    lang: str,
    template: str,
    context: dict[str, Any],
    *,
    meta: dict[str, Any],
    structured: dict[str, Any] | None = None,
) -> HttpResponse:
    page = public_context(request)
    if structured is not None:
        known = {name: value for name, value in structured.items() if value is not None}
        structured = {"@context": "https://schema.org", **known}
        structured.setdefault("url", page["canonical_url"])
        structured.setdefault("inLanguage", lang)
    return render(
        request,
        template,
        {**page, **context, "meta": meta, "json_ld": json_ld(structured) if structured else ""},
    )


def not_found(request: HttpRequest) -> HttpResponse:
    """Answer a plain 404 in the URL's language: nothing about what was asked for."""
    return HttpResponse(
        render_to_string("public/404.html", {"site_url": settings.SITE_URL.rstrip("/")}),
        status=404,
    )


def _resolve(
    model: type[Model], key: str, queryset: QuerySet[Any], request: HttpRequest, lang: str
) -> tuple[Any, HttpResponse | None]:
    """Return ``(row, None)``, or ``(None, response)``: a 301 for an old key, else a 404."""
    try:
        row, moved = key_resolve(model, key, queryset=queryset)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        return None, not_found(request)
    if moved:
        match = request.resolver_match
        name = match.view_name if match else ""
        kwargs = {**(match.kwargs if match else {}), "lang": lang, "key": row.key}
        return None, HttpResponsePermanentRedirect(reverse(name, kwargs=kwargs))
    return row, None


def _language_name(code: str) -> str:
    """Return a language's name in the reader's language ("French", « français »), else its code."""
    try:
        return str(get_language_info(code.split("-")[0])["name_translated"])
    except KeyError:
        return code


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


@require_safe
@public_view
def overview(request: HttpRequest, lang: str) -> HttpResponse:
    """List the published agreements, newest first, with their meters and compliance."""
    summaries = selectors.overview_agreements()
    title = _("Commitment Tracker")
    description = _(
        "What governments promised in international agreements, by when, and whether they "
        "kept it: every commitment, its deadline, its status and its rating, with sources."
    )
    structured = {
        "@type": "ItemList",
        "name": _("Agreements tracked"),
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": localized_text(s.agreement, "title"),
                "url": _absolute(
                    reverse("public:agreement", kwargs={"lang": lang, "key": s.agreement.key})
                ),
            }
            for position, s in enumerate(summaries, start=1)
        ],
    }
    return _render(
        request,
        lang,
        "public/overview.html",
        {"summaries": summaries, "method": methodology()},
        meta=_meta(lang, title=title, description=description),
        structured=structured,
    )


@require_safe
@public_view
def agreement(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """Show a published agreement: commitments, timeline, compliance, sources, reports."""
    row, answer = _resolve(Agreement, key, selectors.public_agreement_queryset(), request, lang)
    if answer is not None:
        return answer
    page = selectors.agreement_page(agreement=row)
    today = timezone.localdate(timezone=ZoneInfo(row.time_zone))
    lanes = [
        timeline.Lane(
            title=localized_text(line.commitment, "title"),
            url=reverse("public:commitment", kwargs={"lang": lang, "key": line.commitment.key}),
            due_date=line.commitment.due_date,
            effective_from=line.commitment.effective_from,
            fulfilled_on=line.commitment.fulfilled_on,
            state=line.commitment.deadline_state,
            stages=stage_dates(line.commitment),
        )
        for line in page.lines
    ]
    title = localized_text(row, "title")
    summary = localized_text(row, "summary")
    corrections = public_changes(agreement=row, kinds=(CORRECTION,))
    modified = selectors.last_change(
        row.published_at, *(c.at for c in corrections[:1]), row.updated
    )
    structured = {
        "@type": "Dataset",
        "name": title,
        "description": _description(summary or title) or title,
        "datePublished": row.published_at,
        "dateModified": modified,
        "temporalCoverage": row.date.isoformat(),
        "spatialCoverage": row.place or None,
        "creator": {"@type": "Organization", "name": _("Commitment Tracker")},
        "isAccessibleForFree": True,
    }
    return _render(
        request,
        lang,
        "public/agreement.html",
        {
            "agreement": row,
            "page": page,
            "compliance": page.compliance,
            "timeline": timeline.layout(agreement_date=row.date, lanes=lanes, today=today),
            "reports": selectors.agreement_reports(agreement=row),
            "corrections": corrections,
            "method": methodology(),
        },
        meta=_meta(
            lang,
            title=title,
            description=summary
            or ngettext(
                "%(count)s commitment made in %(title)s, its deadline and ratings.",
                "%(count)s commitments made in %(title)s, their deadlines and ratings.",
                len(page.lines),
            )
            % {"count": len(page.lines), "title": title},
            kind="article",
        ),
        structured=structured,
    )


@require_safe
@public_view
def commitment(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """Show a public commitment: deadline, stages, ratings with evidence, history, sources."""
    row, answer = _resolve(Commitment, key, selectors.public_commitment_queryset(), request, lang)
    if answer is not None:
        return answer
    ratings = {a.party_id: a for a in current_assessments(row)}
    changes = public_changes(commitment=row)
    today = timezone.localdate(timezone=ZoneInfo(row.agreement.time_zone))
    days_left = (row.due_date - today).days if row.due_date and row.status not in TERMINAL else None
    title = localized_text(row, "title")
    description = localized_text(row, "description")
    structured = {
        "@type": "Article",
        "headline": Truncator(title).chars(110),
        "description": _description(description or title) or title,
        "datePublished": row.agreement.published_at,
        "dateModified": selectors.last_change(
            *(c.at for c in changes[:1]), row.status_changed_at, row.updated
        ),
        "isPartOf": {
            "@type": "Dataset",
            "name": localized_text(row.agreement, "title"),
            "url": _absolute(
                reverse("public:agreement", kwargs={"lang": lang, "key": row.agreement.key})
            ),
        },
        "author": {"@type": "Organization", "name": _("Commitment Tracker")},
    }
    return _render(
        request,
        lang,
        "public/commitment.html",
        {
            "commitment": row,
            "obligor_ratings": [(p, ratings.get(p.pk)) for p in row.obligor_list],
            "rule_words": commitment_rule_in_words(row),
            "deadline_explanation": deadline_explanation(row),
            "retroactive": is_retroactive(
                effective_from=row.effective_from,
                signed_on=row.signed_on,
                announced_on=row.announced_on,
            ),
            "days_left": days_left,
            "days_overdue": -days_left if days_left is not None and days_left < 0 else None,
            "revisions": list(row.revisions.all()),
            "changes": changes,
            "corrections": [c for c in changes if c.kind == CORRECTION],
        },
        meta=_meta(
            lang,
            title=title,
            description=description
            or _("A commitment of %(agreement)s: its deadline, status and ratings.")
            % {"agreement": localized_text(row.agreement, "title")},
            kind="article",
        ),
        structured=structured,
    )


@require_safe
@public_view
def party(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """Show a party: its commitments across published agreements and its compliance."""
    row, answer = _resolve(Party, key, public_parties(), request, lang)
    if answer is not None:
        return answer
    lines = selectors.party_commitments(party=row)
    tally = Tally.of(line.rating for line in lines)
    name = localized_text(row, "name")
    return _render(
        request,
        lang,
        "public/party.html",
        {"party": row, "lines": lines, "tally": tally},
        meta=_meta(
            lang,
            title=name,
            description=_(
                "The commitments %(name)s made in international agreements, and whether it "
                "kept them."
            )
            % {"name": name},
            kind="profile",
        ),
        structured={
            "@type": "Organization" if row.kind != "state" else "Country",
            "name": name,
            "alternateName": row.name if name != row.name else None,
        },
    )


@require_safe
@public_view
def source(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """Show a source's bibliographic record and the quotes cited from it (not its text)."""
    row, answer = _resolve(Source, key, public_sources(), request, lang)
    if answer is not None:
        return answer
    return _render(
        request,
        lang,
        "public/source.html",
        {
            "source": row,
            "citations": selectors.source_citations(source=row),
            "language_name": _language_name(row.language),
        },
        meta=_meta(
            lang,
            title=row.title,
            description=_("%(title)s, %(publisher)s: the passages the tracker quotes from it.")
            % {"title": row.title, "publisher": row.publisher},
            kind="article",
        ),
        structured={
            "@type": "CreativeWork",
            "name": row.title,
            "publisher": {"@type": "Organization", "name": row.publisher},
            "datePublished": row.published_on,
            "sameAs": row.url or None,
            "inLanguage": row.language,
        },
    )


@require_safe
@public_view
def report(request: HttpRequest, lang: str, key: str, report_id: int) -> HttpResponse:
    """Show a frozen report of a published agreement, with its dated corrections."""
    row, answer = _resolve(Agreement, key, selectors.public_agreement_queryset(), request, lang)
    if answer is not None:
        return answer
    frozen = selectors.agreement_reports(agreement=row).filter(pk=report_id).first()
    if frozen is None:
        return not_found(request)
    title = f"{frozen.title} — {localized_text(row, 'title')}"
    return _render(
        request,
        lang,
        "public/report.html",
        {
            "agreement": row,
            "report": frozen,
            "reading": report_reading(report=frozen),
            "method": methodology(scale=frozen.method),
            "correct_forms": False,
        },
        meta=_meta(
            lang,
            title=title,
            description=_(
                "The compliance report %(report)s, frozen at its cut-off date, with its "
                "dated corrections."
            )
            % {"report": title},
            kind="article",
        ),
        structured={
            "@type": "Report",
            "name": title,
            "dateCreated": frozen.created,
            "temporalCoverage": f"../{frozen.cutoff.isoformat()}",
        },
    )


@require_safe
@public_view
def methodology_page(request: HttpRequest, lang: str) -> HttpResponse:
    """Show the method: the scale and scores, deadlines, "not yet rated", corrections."""
    return _render(
        request,
        lang,
        "public/methodology.html",
        {"method": methodology()},
        meta=_meta(
            lang,
            title=_("Methodology"),
            description=_(
                "How the tracker rates commitments, scores and averages compliance, computes "
                "deadlines and corrects its mistakes."
            ),
            kind="article",
        ),
    )


#: What crawlers may not read, whichever way the site is mounted: the editors' side.
PRIVATE_PREFIXES = ("/admin/", "/api/", "/accounts/", "/i18n/", "/healthz")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Allow the public site, keep crawlers out of the editors' side, point at the sitemap.

    At ``/public/`` the dashboard holds the rest of the root, so everything but the public
    site (and its static files) is disallowed; at the root, the dashboard is ``/dashboard/``.
    """
    public = reverse("public:root")
    lines = ["User-agent: *", f"Allow: {public}", f"Allow: {settings.STATIC_URL}"]
    lines += [f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES]
    if public == "/":
        lines.append(f"Disallow: {reverse('dashboard:overview')}")
    else:
        lines.append("Disallow: /")
    lines += ["", f"Sitemap: {_absolute(reverse('sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
