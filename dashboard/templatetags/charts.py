"""The agreement page's charts, as tags: ``{% load charts %}{% chart_ratings agreement %}``.

Tags rather than view context, so that a page shows a chart with one line and its view
needs no change; each tag runs the fixed queries its builder (:mod:`dashboard.charts`) states.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from commitments.models import Agreement
from commitments.selectors import ComplianceTable
from dashboard import charts

register = template.Library()


@register.inclusion_tag("dashboard/_chart_compliance_history.html")
def chart_compliance_history(
    agreement: Agreement, table: ComplianceTable | None = None
) -> dict[str, Any]:
    """Draw each obligor's compliance over time, from the rating history.

    ``table``: the agreement's compliance table, if the page has read it already.
    """
    return {
        "chart": charts.compliance_history_chart(
            agreement=agreement, today=timezone.localdate(), table=table
        )
    }


@register.inclusion_tag("dashboard/_chart_ratings.html")
def chart_ratings(agreement: Agreement, table: ComplianceTable | None = None) -> dict[str, Any]:
    """Draw the distribution of today's ratings, one stacked bar per obligor.

    ``table``: today's compliance table of the agreement, if the page has read it already.
    """
    return {"chart": charts.ratings_chart(agreement=agreement, table=table)}
