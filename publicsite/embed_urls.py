"""Routes of the public site under ``<lang>/``: the embeddable cards and oEmbed.

See :mod:`publicsite.urls`; the views are in :mod:`publicsite.embeds`.
"""

from django.urls import path

from . import embeds

urlpatterns = [
    path("embed/commitments/<slug:key>/", embeds.embed_commitment, name="embed_commitment"),
    path("embed/agreements/<slug:key>/", embeds.embed_agreement, name="embed_agreement"),
    path("oembed", embeds.oembed, name="oembed"),
]
