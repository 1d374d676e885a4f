"""The commitment page's row of stages and the agreement timeline's stage marks."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from dashboard import timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def tariff(make_commitment, agreement):
    return make_commitment(
        title="Tariffs cut to 15 %",
        deadline_kind="period_end",
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
        period_unit="month",
        period_number=3,
        period_year=2026,
        announced_on=dt.date(2025, 7, 22),
        effective_from=dt.date(2025, 8, 7),
        effective_from_precision="month",
        signed_on=dt.date(2025, 9, 4),
        instrument_title="Executive Order 14345",
        instrument_url="https://www.federalregister.gov/d/2025-17254",
        in_force_on=dt.date(2025, 9, 16),
    )


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(
    ("language", "row", "due"),
    [
        (
            "en",
            "Announced July 22, 2025 Signed Sept. 4, 2025 Legal instrument Executive Order "
            "14345 Takes effect August 2025 retroactive In force Sept. 16, 2025",
            "Due March 2026 (Asia/Tokyo)",
        ),
        (
            "fr",
            "Annoncé 22 juillet 2025 Signé 4 septembre 2025 Instrument juridique Executive "
            "Order 14345 Prend effet août 2025 rétroactif En vigueur 16 septembre 2025",
            "Échéance mars 2026 (Asia/Tokyo)",
        ),
    ],
)
def test_the_page_shows_the_stages_in_a_row_and_the_month_due_date(
    client, editor, tariff, language, row, due
):
    client.force_login(editor)
    response = client.get(
        reverse("dashboard:commitment", args=[tariff.pk]), headers={"Accept-Language": language}
    )
    page = response.content.decode()
    stages = page[
        page.index('<ol class="stage-row">') : page.index("</ol>", page.index("stage-row"))
    ]
    assert _text(stages) == row
    assert 'href="https://www.federalregister.gov/d/2025-17254"' in stages
    assert due in _text(page)


def test_the_timeline_marks_each_stage_on_its_row(client, editor, tariff):
    client.force_login(editor)
    response = client.get(reverse("dashboard:agreement", args=[tariff.agreement_id]))
    [row] = response.context["timeline"].rows
    kinds = {mark.kind: mark.date for mark in row.marks}
    assert kinds == {
        "announced": dt.date(2025, 7, 22),
        "signed": dt.date(2025, 9, 4),
        "in_force": dt.date(2025, 9, 16),
        "effective": dt.date(2025, 8, 1),
        "due": dt.date(2026, 3, 31),
    }
    assert 'class="mark-signed"' in response.content.decode()


def test_a_stage_before_the_agreement_widens_the_axis():
    lane = timeline.Lane(
        title="t",
        url="/",
        due_date=None,
        effective_from=None,
        fulfilled_on=None,
        state="none",
        stages=(("announced", dt.date(2025, 1, 1)),),
    )
    layout = timeline.layout(
        agreement_date=dt.date(2025, 10, 28), lanes=[lane], today=dt.date(2025, 11, 1)
    )
    [mark] = layout.rows[0].marks
    assert mark.x == timeline.LEFT


def test_the_timeline_names_its_months_unambiguously_in_french(client, editor, tariff):
    """Django's three-letter French months make June « Jui » beside July « Jul »."""
    client.force_login(editor)
    html = client.get(
        reverse("dashboard:agreement", args=[tariff.agreement_id]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    labels = re.findall(r'<g class="tick">.*?<text [^>]*>([^<]*)</text>', html)
    assert labels
    months = "jan.|fév.|mars|avr.|mai|juin|juil.|août|sept.|oct.|nov.|déc."
    for label in labels:
        assert re.fullmatch(rf"({months}) \d{{4}}", label), label


def test_the_timeline_draws_stages_as_rings_beside_the_filled_deadline_marks(
    client, editor, tariff
):
    """« Signé » and « Échéance » were two blues, « En vigueur » and « Réalisé » two greens."""
    client.force_login(editor)
    html = client.get(reverse("dashboard:agreement", args=[tariff.agreement_id])).content.decode()
    legend = _text(html.split('class="legend"')[1].split("</p>")[0])
    assert "● Due" in legend and "● Fulfilled" in legend
    for stage in ("Announced", "Signed", "In force", "Ended"):
        assert f"○ {stage}" in legend
    for stage in ("announced", "signed", "in_force"):
        assert f'<circle class="mark-{stage} stage"' in html
