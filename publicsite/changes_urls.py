"""Routes of the public site under ``<lang>/``: see :mod:`publicsite.urls`.

The change log in public: what changed in a week, the corrections log, the Atom feeds.
"""

from django.urls import URLPattern, path

from . import changes, feeds

urlpatterns: list[URLPattern] = [
    path("changes/", changes.week, name="week"),
    path("corrections/", changes.corrections, name="corrections"),
    path("feeds/changes.atom", feeds.site_feed, name="feed"),
    path("feeds/agreements/<slug:key>.atom", feeds.agreement_feed, name="feed_agreement"),
    path("feeds/parties/<slug:key>.atom", feeds.party_feed, name="feed_party"),
    path("feeds/commitments/<slug:key>.atom", feeds.commitment_feed, name="feed_commitment"),
]
