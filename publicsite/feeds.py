"""Atom feeds of the public change log: the whole site, an agreement, a party, a commitment.

Every entry is one :class:`commitments.changes.Change`: its title says what changed and to
what, its content from what, to what and why, its link is the permalink. Texts are in the
URL's language. The syndication framework escapes the XML; the content is HTML, so the texts
in it are escaped once more (a ``<script>`` in a note reads as text in any reader).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.translation import gettext as _

from commitments.changes import Change, public_changes
from commitments.models import Agreement, Commitment, Party
from commitments.services.keys import key_resolve
from commitments.translations import localized_text
from commitments.visibility import public_agreements, public_commitments, public_parties

from .i18n import public_view

#: Entries in a feed: the newest changes.
FEED_SIZE = 50


def absolute(path: str) -> str:
    """Return ``path`` on the public site's address (``settings.SITE_URL``)."""
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def change_permalink(change: Change, lang: str) -> str:
    """Return the absolute permalink of what ``change`` is about, in ``lang``."""
    if change.report_id is not None:
        path = reverse(
            "public:report",
            kwargs={"lang": lang, "key": change.agreement_key, "report_id": change.report_id},
        )
    elif change.commitment_key is not None:
        path = reverse("public:commitment", kwargs={"lang": lang, "key": change.commitment_key})
    else:
        path = reverse("public:agreement", kwargs={"lang": lang, "key": change.agreement_key})
    return absolute(path)


def change_headline(change: Change) -> str:
    """Return "Status: In progress → Fulfilled — <title>": what changed, to what, where."""
    return _("%(what)s: %(old)s → %(new)s — %(subject)s") % {
        "what": change.what,
        "old": change.old,
        "new": change.new,
        "subject": change.subject,
    }


@dataclass(frozen=True)
class Scope:
    """What a feed follows: its title, its page, its own URL, and the filter of changes."""

    title: str
    link: str
    self_link: str
    lang: str
    filters: dict[str, Any] = field(default_factory=dict)


class ChangesAtom(Atom1Feed):
    """Atom with each entry's text as its ``content`` (from what, to what, why)."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class ChangesFeed(Feed):
    """The Atom feed of one scope's public changes, newest first."""

    feed_type = ChangesAtom
    scope: Scope

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Scope:
        scope: Scope = kwargs["scope"]
        self.scope = scope  # one instance per request (see _feed): the items' language
        return scope

    def title(self, obj: Scope) -> str:
        return obj.title

    def link(self, obj: Scope) -> str:
        return obj.link

    def feed_url(self, obj: Scope) -> str:
        return obj.self_link

    def feed_guid(self, obj: Scope) -> str:
        return obj.self_link

    def subtitle(self, obj: Scope) -> str:
        return _("Status, rating, deadline and correction changes, with their reasons.")

    def items(self, obj: Scope) -> list[Change]:
        return public_changes(language=obj.lang, limit=FEED_SIZE, **obj.filters)

    def get_feed(self, obj: Scope, request: HttpRequest) -> Any:
        feed = super().get_feed(obj, request)
        feed.feed["language"] = obj.lang
        return feed

    def item_title(self, item: Change) -> str:
        return change_headline(item)

    def item_description(self, item: Change) -> str:
        # The entry's summary: the same words as its content (without it Django would put
        # the item's repr there).
        return self._content(item)

    def author_name(self, obj: Scope) -> str:
        return _("Commitment Tracker")

    def item_extra_kwargs(self, item: Change) -> dict[str, Any]:
        return {"content": self._content(item)}

    def _content(self, item: Change) -> str:
        return str(
            format_html(
                "<p>{}: {} → {}</p><p>{} {}</p><p>{}</p>",
                item.what,
                item.old or _("none"),
                item.new or _("none"),
                _("Why:"),
                item.why or _("No reason was given."),
                item.subject,
            )
        )

    def item_link(self, item: Change) -> str:
        return change_permalink(item, self._lang(item))

    def item_guid(self, item: Change) -> str:
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"tag:{host},2026:changes/{self._lang(item)}/{item.uid}"

    item_guid_is_permalink = False

    def item_updateddate(self, item: Change) -> Any:
        return item.at

    def item_pubdate(self, item: Change) -> Any:
        return item.at

    def _lang(self, item: Change) -> str:
        return self.scope.lang


def _feed(request: HttpRequest, scope: Scope) -> HttpResponse:
    return ChangesFeed()(request, scope=scope)


def _self(name: str, **kwargs: Any) -> str:
    return absolute(reverse(name, kwargs=kwargs))


@public_view
def site_feed(request: HttpRequest, lang: str) -> HttpResponse:
    """The feed of every public change."""
    return _feed(
        request,
        Scope(
            title=_("Commitment Tracker: what changed"),
            link=_self("public:week", lang=lang),
            self_link=_self("public:feed", lang=lang),
            lang=lang,
        ),
    )


def _resolved(model: Any, key: str, queryset: Any) -> tuple[Any, bool]:
    try:
        return key_resolve(model, key, queryset=queryset)
    except model.DoesNotExist as exc:
        raise Http404(_("There is no such public page.")) from exc


def _scoped_feed(
    request: HttpRequest, lang: str, key: str, *, model: Any, rows: Any, kind: str, text: str
) -> HttpResponse:
    """The feed of one public agreement, party or commitment (``kind``), found by its key;
    an old key answers 301 to the current one. ``text`` is the field the title names."""
    row, moved = _resolved(model, key, rows)
    if moved:
        return redirect(f"public:feed_{kind}", lang=lang, key=row.key, permanent=True)
    title = localized_text(row, text, lang)
    return _feed(
        request,
        Scope(
            title=_("What changed: %(title)s") % {"title": title},
            link=_self(f"public:{kind}", lang=lang, key=row.key),
            self_link=_self(f"public:feed_{kind}", lang=lang, key=row.key),
            lang=lang,
            filters={kind: row},
        ),
    )


@public_view
def agreement_feed(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """The feed of a published agreement's changes (its commitments', its reports')."""
    return _scoped_feed(
        request,
        lang,
        key,
        model=Agreement,
        rows=public_agreements(),
        kind="agreement",
        text="title",
    )


@public_view
def party_feed(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """The feed of the changes to what a party is bound by (as obligor or co-obligor)."""
    return _scoped_feed(
        request, lang, key, model=Party, rows=public_parties(), kind="party", text="name"
    )


@public_view
def commitment_feed(request: HttpRequest, lang: str, key: str) -> HttpResponse:
    """The feed of one public commitment's changes."""
    return _scoped_feed(
        request,
        lang,
        key,
        model=Commitment,
        rows=public_commitments(),
        kind="commitment",
        text="title",
    )
