"""The public site's cache: a page served from the cache before the middleware chain runs.

A public page is the same for every reader of its URL (the language is in the path, public
views never read the session or the user), so it is stored whole, keyed by its path and
query string and by a **generation** number kept in the same cache. Every change that may
touch public content bumps the generation (the ``commitments`` models' ``post_save``,
``post_delete`` and ``m2m_changed`` signals and the domain's hooks, connected in
``PublicConfig.ready``), so the next request renders afresh; old entries are never read
again and expire by themselves. The bump happens at once and again when the transaction
commits, so a page rendered from the state before the commit cannot be stored under the
new generation.

The cache is ``CACHES["default"]``: local memory by default, one per process, where a change
made by another process (a Celery worker) bumps only that process's generation; entries live
``TRACKER_PUBLIC_CACHE_SECONDS`` (default 60), so a page is then stale at most that long.
Production sets ``CACHE_URL=redis://…``: one generation for every process.

Responses carry ``Cache-Control: public, max-age=…``, an ``ETag`` (a hash of the body) and
``Last-Modified`` (when it was rendered); a conditional GET that matches gets a 304.
``X-Public-Cache: hit`` or ``miss`` says whether the page came from the cache.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.urls import reverse
from django.utils.http import http_date, parse_http_date_safe

GENERATION_KEY = "public-cache:generation"
#: The attribute :func:`publicsite.i18n.public_view` sets on a public view's response.
PUBLIC_MARK = "public_cacheable"
#: Headers stored with a page and sent again with it (the outer middleware add their own).
KEPT_HEADERS = ("Content-Type", "Content-Language", "X-Frame-Options", "Vary")
#: Response attributes the outer middleware read (the CSP exceptions of the embeds).
KEPT_ATTRIBUTES = ("_csp_replace", "_csp_update", "xframe_options_exempt")


def cache_seconds() -> int:
    """Return how long a public page may be kept, by us and by browsers and proxies."""
    return int(getattr(settings, "TRACKER_PUBLIC_CACHE_SECONDS", 60))


def generation() -> int:
    """Return the current generation, starting one if the cache has none."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        # A fresh start must not meet the entries of a generation evicted before it: begin
        # from the clock, above every number used so far.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY, time.time_ns())
    return int(value)


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


def generation_bump() -> None:
    """Make every stored page stale: now, and again when the current transaction commits."""
    _bump()
    transaction.on_commit(_bump)


#: The domain's models no public page shows: their changes leave the cache alone (an
#: import run's progress is saved many times a second).
PRIVATE = frozenset({"importrun"})


def changed(*_args: Any, sender: Any = None, **_kwargs: Any) -> None:
    """Bump the generation after a change to a ``commitments`` model (a signal receiver)."""
    meta = getattr(sender, "_meta", None)
    if meta is not None and meta.app_label == "commitments" and meta.model_name not in PRIVATE:
        generation_bump()


def hook_changed(*_args: Any, **_kwargs: Any) -> None:
    """Bump the generation when a domain hook reports a change (flags, fields, revisions)."""
    generation_bump()


def _key(path: str, gen: int) -> str:
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()
    return f"public-cache:page:{gen}:{digest}"


def public_prefix() -> str:
    """Return the path the public site lives under (``/public/``, or ``/`` at the root)."""
    return reverse("public:root")


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _not_modified(request: HttpRequest, etag: str, modified: float) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(modified) <= since


#: The query parameters public pages read (the week, the page, the search, oEmbed's).
READ_PARAMETERS = frozenset({"week", "page", "q", "url", "format", "maxwidth", "maxheight"})


def _canonical_path(request: HttpRequest) -> str:
    """The path with its parameters sorted: one entry for ``?a=1&b=2`` and ``?b=2&a=1``."""
    query = sorted((name, value) for name in request.GET for value in request.GET.getlist(name))
    return request.path + ("?" + urlencode(query) if query else "")


class PublicCacheMiddleware:
    """Serve stored public pages before the middleware chain runs; store the public 200s."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD") or not request.path.startswith(public_prefix()):
            return self.get_response(request)
        if set(request.GET) - READ_PARAMETERS:
            # A parameter no public page reads would make a new entry per value: anyone could
            # push the hot pages out. Such requests are answered, never stored.
            return self.get_response(request)
        request.get_host()  # a Host the site does not serve is refused (400), hit or miss
        key = _key(_canonical_path(request), generation())
        entry = cache.get(key)
        if entry is not None:
            return self._answer(request, entry, hit=True)
        response = self.get_response(request)
        if not isinstance(response, HttpResponse) or not self._storable(request, response):
            return response
        entry = self._entry(response)
        cache.set(key, entry, timeout=cache_seconds())
        return self._answer(request, entry, hit=False)

    @staticmethod
    def _storable(request: HttpRequest, response: HttpResponse) -> bool:
        """A public view's 200, identical for every reader: no cookie set, none read."""
        return (
            request.method == "GET"
            and response.status_code == 200
            and getattr(response, PUBLIC_MARK, False)
            and not response.cookies
            and "cookie" not in response.headers.get("Vary", "").lower()
            and "private" not in response.headers.get("Cache-Control", "").lower()
        )

    @staticmethod
    def _entry(response: HttpResponse) -> dict[str, Any]:
        content = response.content
        return {
            "content": content,
            "headers": {name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
            "attributes": {
                name: getattr(response, name) for name in KEPT_ATTRIBUTES if hasattr(response, name)
            },
            "etag": _etag(content),
            "modified": time.time(),
        }

    @staticmethod
    def _answer(request: HttpRequest, entry: dict[str, Any], *, hit: bool) -> HttpResponse:
        if _not_modified(request, entry["etag"], entry["modified"]):
            response: HttpResponse = HttpResponseNotModified()
        else:
            response = HttpResponse(b"" if request.method == "HEAD" else entry["content"])
            for name, value in entry["headers"].items():
                response[name] = value
        for name, value in entry["attributes"].items():
            setattr(response, name, value)
        response["ETag"] = entry["etag"]
        response["Last-Modified"] = http_date(entry["modified"])
        response["Cache-Control"] = f"public, max-age={cache_seconds()}"
        response["X-Public-Cache"] = "hit" if hit else "miss"
        if request.method == "HEAD":
            response["Content-Length"] = str(len(entry["content"]))
        return response
