"""The public site's search: published agreements, commitments and parties, in both languages.

Reads only through :mod:`commitments.visibility`, so a draft is never found. The query is
matched, case- and accent-insensitively where the database allows, against the English and
French texts (a French reader typing « minéraux » finds the commitment whose French title
says it, an English reader typing "minerals" the same one) and the keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from commitments.visibility import public_agreements, public_commitments, public_parties

from .context import public_context
from .i18n import public_view

#: At most this many results of each kind: a search is a way in, not a listing.
LIMIT = 50


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the tracker"),
        max_length=200,
        strip=True,
        help_text=_("Words from a title, a summary or a party's name, in English or French."),
    )


@dataclass(frozen=True)
class Results:
    agreements: list
    commitments: list
    parties: list

    @property
    def count(self) -> int:
        return len(self.agreements) + len(self.commitments) + len(self.parties)


def search(query: str) -> Results:
    """Return the public agreements, commitments and parties whose texts contain ``query``."""
    words = query.split()[:8]
    agreement_q, commitment_q, party_q = Q(), Q(), Q()
    for word in words:
        agreement_q &= (
            Q(title__icontains=word)
            | Q(title_fr__icontains=word)
            | Q(summary__icontains=word)
            | Q(summary_fr__icontains=word)
            | Q(key__icontains=word)
        )
        commitment_q &= (
            Q(title__icontains=word)
            | Q(title_fr__icontains=word)
            | Q(description__icontains=word)
            | Q(description_fr__icontains=word)
            | Q(key__icontains=word)
        )
        party_q &= Q(name__icontains=word) | Q(name_fr__icontains=word) | Q(key__icontains=word)
    return Results(
        agreements=list(public_agreements().filter(agreement_q).order_by("-date", "id")[:LIMIT]),
        commitments=list(
            public_commitments()
            .filter(commitment_q)
            .select_related("agreement", "obligor")
            .order_by("due_date", "id")[:LIMIT]
        ),
        parties=list(public_parties().filter(party_q).order_by("name", "id")[:LIMIT]),
    )


@public_view
def search_page(request: HttpRequest, lang: str) -> HttpResponse:
    """Show the search box and, for a query, what matches it (400 for a query too long)."""
    form = SearchForm(request.GET or None)
    results = search(form.cleaned_data["q"]) if form.is_bound and form.is_valid() else None
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "public/search.html",
        {**public_context(request), "form": form, "results": results, "lang": lang},
        status=status,
    )
