"""A small rating history built through the services at known dates, for the as-of tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from commitments.services.assessments import assessment_record
from tests import factories


def at(day: str) -> dt.datetime:
    """Return noon UTC on ``day`` (YYYY-MM-DD): the ``now`` a service is called with."""
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def rating_history(*, agreement: Any, japan: Any, usa: Any, source: Any, user: Any) -> dict:
    """Rate a shared meeting and an investment for Japan at known dates; the US stays unrated.

    The meeting (Japan and the US) is in the works from 1 Nov 2025, kept from 1 Mar 2026
    with evidence; the investment (Japan) is stalled from 1 Feb 2026.
    """
    meeting = factories.commitment_make(
        agreement=agreement, obligor=japan, key="meet", title="Meet within 180 days"
    )
    meeting.co_obligors.set([usa])
    invest = factories.commitment_make(
        agreement=agreement, obligor=japan, key="invest", title="Invest $550 bn"
    )
    assessment_record(
        commitment=meeting, party=japan, rating="in_the_works", justification="Talks began.",
        assessed_on=dt.date(2025, 11, 1), user=user, now=at("2025-11-02"),
    )
    assessment_record(
        commitment=invest, party=japan, rating="stalled", justification="No project named.",
        assessed_on=dt.date(2026, 2, 1), user=user, now=at("2026-02-02"),
    )
    assessment_record(
        commitment=meeting, party=japan, rating="kept", justification="They met in Tokyo.",
        assessed_on=dt.date(2026, 3, 1), user=user, now=at("2026-03-02"),
        evidence_source=source, evidence_quote="Les deux pays se sont réunis.",
        evidence_locator="§2",
    )
    return {"meeting": meeting, "invest": invest}
