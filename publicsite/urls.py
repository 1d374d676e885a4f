"""The public site's routes, all under ``<lang>/`` (see :mod:`publicsite.i18n`).

Each part of the site keeps its routes in its own module, included here under the language:
the pages (``site_urls``), the changes, feeds and corrections (``changes_urls``), the embeds
(``embed_urls``). Names are in the ``public`` namespace: ``public:agreement``.
"""

from django.urls import include, path, register_converter

from . import changes_urls, embed_urls, search, site_urls, views
from .i18n import LanguageConverter

register_converter(LanguageConverter, "lang")

app_name = "public"

urlpatterns = [
    path("", views.language_pick, name="root"),
    path("<lang:lang>/", include(site_urls.urlpatterns)),
    path("<lang:lang>/", include(changes_urls.urlpatterns)),
    path("<lang:lang>/", include(embed_urls.urlpatterns)),
    path("<lang:lang>/search/", search.search_page, name="search"),
]
