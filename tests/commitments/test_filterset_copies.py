"""Each request's filter set gets its own filters (issue 16 copies them shallowly).

The copies must not share what depends on the request: the choices a filter offers (an
anonymous reader's do not include drafts) and the method a filter calls (bound to its own
filter set).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from commitments.filtersets import CommitmentFilterSet
from commitments.models import Agreement, Commitment
from tests import factories

pytestmark = pytest.mark.django_db


def _filtered(user, data):
    request = RequestFactory().get("/", data)
    request.user = user
    return CommitmentFilterSet(data, queryset=Commitment.objects.all(), request=request)


def test_a_readers_choices_and_methods_are_their_own_request_after_request(
    agreement, japan, usa, viewer
):
    """A draft agreement is a choice for a signed-in reader, unknown to the public, and again
    a choice for the next signed-in reader; the obligor filter (a method) filters each time."""
    published = factories.agreement_make(parties=[japan, usa], key="filter-published")
    Agreement.objects.filter(pk=published.pk).update(publication_state="published")
    mine = factories.commitment_make(agreement=agreement, obligor=japan)
    factories.commitment_make(agreement=agreement, obligor=usa)

    # The class's own filters may hold a form field of their own, built without a request
    # (the API schema's generator reads them so): no request's copy may reuse it.
    for filter_ in CommitmentFilterSet.base_filters.values():
        assert filter_.field is not None

    for _round in range(2):
        signed_in = _filtered(viewer, {"agreement": agreement.pk, "obligor": japan.pk})
        assert signed_in.is_valid(), signed_in.errors
        assert list(signed_in.qs) == [mine]

        public = _filtered(AnonymousUser(), {"agreement": agreement.pk})
        assert not public.is_valid()
        assert "agreement" in public.errors
        public_ok = _filtered(AnonymousUser(), {"agreement": published.pk})
        assert public_ok.is_valid(), public_ok.errors

    # The class's own filters were never bound to a request.
    for filter_ in CommitmentFilterSet.base_filters.values():
        assert getattr(filter_, "parent", None) is None
