"""The public site's sitemap: every public page, in each language, with its alternates.

Only what :mod:`commitments.visibility` allows is listed. Each URL names its language
(``/public/en/…``), so the sitemap's i18n mode activates a language and ``location`` reverses
the route with it; the alternates give the same page in the other language (``hreflang``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation

from commitments.models import Agreement, Commitment, Party, Report, Source
from commitments.translations import LANGUAGES, reader_language
from commitments.visibility import (
    public_agreements,
    public_commitments,
    public_parties,
    public_reports,
    public_sources,
)


def _language() -> str:
    return reader_language(translation.get_language())


class _PublicSitemap(Sitemap):  # type: ignore[type-arg]
    """Both languages with their alternates, at the site's own address (as canonical URLs)."""

    i18n = True
    alternates = True
    languages = list(LANGUAGES)

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class PagesSitemap(_PublicSitemap):
    """The overview and the methodology."""

    def items(self) -> list[str]:
        return ["public:overview", "public:methodology"]

    def location(self, item: str) -> str:
        return reverse(item, kwargs={"lang": _language()})


class _KeyedSitemap(_PublicSitemap):
    """The pages of rows found by their key: ``route`` with ``lang`` and ``key``."""

    route = ""

    def location(self, item: Any) -> str:
        return reverse(self.route, kwargs={"lang": _language(), "key": item.key})

    def lastmod(self, item: Any) -> dt.datetime:
        return item.updated  # type: ignore[no-any-return]


class AgreementSitemap(_KeyedSitemap):
    route = "public:agreement"

    def items(self) -> QuerySet[Agreement]:
        return public_agreements().order_by("id")


class CommitmentSitemap(_KeyedSitemap):
    route = "public:commitment"

    def items(self) -> QuerySet[Commitment]:
        return public_commitments().order_by("id")


class PartySitemap(_KeyedSitemap):
    route = "public:party"

    def items(self) -> QuerySet[Party]:
        return public_parties().order_by("id")


class SourceSitemap(_KeyedSitemap):
    route = "public:source"

    def items(self) -> QuerySet[Source]:
        return public_sources().order_by("id")


class ReportSitemap(_PublicSitemap):
    def items(self) -> QuerySet[Report]:
        return public_reports().select_related("agreement").order_by("id")

    def location(self, item: Report) -> str:
        kwargs = {"lang": _language(), "key": item.agreement.key, "report_id": item.pk}
        return reverse("public:report", kwargs=kwargs)

    def lastmod(self, item: Report) -> dt.datetime:
        return item.created


SITEMAPS: dict[str, type[Sitemap]] = {  # type: ignore[type-arg]
    "pages": PagesSitemap,
    "agreements": AgreementSitemap,
    "commitments": CommitmentSitemap,
    "parties": PartySitemap,
    "sources": SourceSitemap,
    "reports": ReportSitemap,
}
