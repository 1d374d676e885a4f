"""The overview's rows written in Python (``dashboard.templatetags.overview_rows``) are the
HTML the template loops wrote before them, byte for byte, in English and in French.

The loops are kept here only as the oracle: each is rendered with the page's own context and
compared with the tag's output, on rows that cover the cases (a French title and its English
fallback, a machine translation, escaped names and titles, a shared commitment, an
agreement with no commitment, a fulfilled one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation

from commitments.models import Commitment
from dashboard.templatetags import overview_rows
from tests import factories

pytestmark = pytest.mark.django_db

#: The loops as they stood in dashboard/overview.html.
PARTY_LOOP = (
    "{% for p, t in data.by_party %}<tr>\n"
    '      <th scope="row"><a href="{{ list_url }}?obligor={{ p.pk|unlocalize }}">{% localized p "name" %}</a></th>\n'  # noqa: E501
    '      <td class="num">{{ t.total }}</td>\n'
    '      <td class="num"><a href="{{ list_url }}?obligor={{ p.pk|unlocalize }}&amp;{{ links.overdue }}">{{ t.overdue }}</a></td>\n'  # noqa: E501
    '      <td class="num"><a href="{{ list_url }}?obligor={{ p.pk|unlocalize }}&amp;{{ links.due_30 }}">{{ t.due_30 }}</a></td>\n'  # noqa: E501
    '      <td class="num"><a href="{{ list_url }}?obligor={{ p.pk|unlocalize }}&amp;{{ links.fulfilled }}">{{ t.fulfilled }}</a></td></tr>{% endfor %}'  # noqa: E501
)

AGREEMENT_LOOP = (
    "{% for a, t in data.by_agreement %}<tr>\n"
    '      <th scope="row"><a href="{% url \'dashboard:agreement\' a.pk %}">{% localized a "title" %}</a></th>\n'  # noqa: E501
    '      <td>{{ a.date|date:"DATE_FORMAT" }}</td>\n'
    '      <td class="num"><a href="{{ list_url }}?agreement={{ a.pk|unlocalize }}">{{ t.total }}</a></td>\n'  # noqa: E501
    '      <td class="num"><a href="{{ list_url }}?agreement={{ a.pk|unlocalize }}&amp;{{ links.overdue }}">{{ t.overdue }}</a></td>\n'  # noqa: E501
    '      <td class="num"><a href="{{ list_url }}?agreement={{ a.pk|unlocalize }}&amp;{{ links.fulfilled }}">{{ t.fulfilled }}</a></td>\n'  # noqa: E501
    '      <td>{% if t.total %}<progress max="{{ t.total|unlocalize }}" value="{{ t.fulfilled|unlocalize }}">{{ t.fulfilled }}/{{ t.total }}</progress>{% endif %}</td></tr>{% endfor %}'  # noqa: E501
)


def _oracle(loop: str, context: dict[str, Any], lang: str) -> str:
    template = engines["django"].from_string(
        "{% load i18n l10n localized tracker %}{% url 'dashboard:commitments' as list_url %}" + loop
    )
    with translation.override(lang):
        return template.render(context)


@pytest.fixture
def varied(agreement, japan, usa, make_commitment):
    """Parties and agreements that cover what the overview's rows may hold."""
    hostile_party = factories.party_make(
        name="<b>Bad</b> & 'Co'",
        machine_translations={"fr": {"name": "<i>Mauvais</i> & Cie"}},
    )
    factories.party_make(name="Union", name_fr="Union européenne")
    hostile = factories.agreement_make(
        parties=[usa, hostile_party],
        title="<script>alert(\"x\")</script> & 'quoted'",
        machine_translations={"fr": {"title": "Titre <b>par machine</b>"}},
        date=dt.date(2026, 1, 31),
    )
    factories.agreement_make(
        parties=[japan], title="Empty", title_fr="Vide", date=dt.date(2024, 12, 1)
    )
    held = make_commitment(title="Hold a meeting")
    Commitment.objects.filter(pk=held.pk).update(status="fulfilled")
    make_commitment(title="Open one")
    shared = factories.commitment_make(agreement=hostile, obligor=hostile_party)
    shared.co_obligors.add(usa)
    return agreement


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_rows_are_the_html_of_the_template_loops(editor_client, varied, lang):
    """Each tag writes what its template loop wrote, for every row and in both languages."""
    response = editor_client.get(reverse("dashboard:overview"), HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    context = {name: response.context[name] for name in ("data", "links")}
    list_url = reverse("dashboard:commitments")
    with translation.override(lang):
        parties = overview_rows.overview_party_rows(
            context["data"].by_party, list_url, context["links"]
        )
        agreements = overview_rows.overview_agreement_rows(
            context["data"].by_agreement, list_url, context["links"]
        )
    assert parties == _oracle(PARTY_LOOP, context, lang)
    assert agreements == _oracle(AGREEMENT_LOOP, context, lang)
    html = response.content.decode()
    assert parties in html and agreements in html
    assert "<script>alert" not in html and "<b>par" not in html and "<i>Mauvais" not in html
    assert len(context["data"].by_party) == 3 and len(context["data"].by_agreement) == 3
    # The agreement without commitments has no progress bar; the others have one.
    assert agreements.count("<progress ") == 2
