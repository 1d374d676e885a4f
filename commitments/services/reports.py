"""Freeze an agreement's compliance into a named report, and correct a report afterwards.

A report copies the compliance table as it stood at the end of its cut-off date
(:func:`commitments.selectors.compliance_table`) into text: later ratings, edits of a
commitment's title or of a source change nothing in it. Its rows never change; a mistake is
put right by a dated :class:`~commitments.models.ReportCorrection` that keeps the old text.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.assessment import Rating
from commitments.models import Agreement, Report, ReportCorrection, ReportRow
from commitments.selectors import compliance_table, scale_records
from commitments.services.deadlines import User
from core.dates import local_date

#: The longest title a report may have (the model's column).
TITLE_MAX = Report._meta.get_field("title").max_length or 200


def agreement_today(agreement: Agreement, now: dt.datetime) -> dt.date:
    """Return ``now``'s date in the agreement's time zone: the last day a table can show."""
    return local_date(now, agreement.time_zone)


def compliance_date_error(agreement: Agreement, day: dt.date, now: dt.datetime) -> str | None:
    """Return why ``day`` cannot be a compliance table's date, or ``None`` if it can.

    The one rule for an as-of date, a comparison's start and a report's cut-off: not before
    the agreement (there was nothing to comply with), not after today in its time zone (the
    table would claim ratings nobody has made).
    """
    if day < agreement.date:
        return _("The date is before the agreement (%(date)s).") % {
            "date": agreement.date.isoformat()
        }
    if day > agreement_today(agreement, now):
        return _("The date is in the future.")
    return None


@transaction.atomic
def report_freeze(
    *,
    agreement: Agreement,
    title: str,
    cutoff: dt.date,
    user: User = None,
    now: dt.datetime | None = None,
) -> Report:
    """Freeze ``agreement``'s compliance table at the end of ``cutoff`` as a report named ``title``.

    Refused, with the field named and nothing written: a blank, too long or already used
    title (``title``); a cut-off before the agreement or after today in its time zone
    (``cutoff``).
    """
    now = now or timezone.now()
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Name the report, e.g. “Interim 2026”.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("The title is longer than %(max)d characters.") % {"max": TITLE_MAX}
    elif Report.objects.filter(agreement=agreement, title=title).exists():
        errors["title"] = _("This agreement already has a report named “%(title)s”.") % {
            "title": title
        }
    cutoff_error = compliance_date_error(agreement, cutoff, now)
    if cutoff_error:
        errors["cutoff"] = cutoff_error
    if errors:
        raise ValidationError(errors)
    report = Report(
        agreement=agreement,
        title=title,
        cutoff=cutoff,
        method=scale_records(),
        created_by=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
    )
    report.full_clean()
    report.save()
    table = compliance_table(agreement=agreement, as_of=cutoff)
    rows = []
    for position, line in enumerate(table.rows, start=1):
        assessment = line.assessment
        citation = assessment.evidence if assessment else None
        source = citation.source if citation else None
        rows.append(
            ReportRow(
                report=report,
                position=position,
                commitment_id=line.commitment.pk,
                commitment_key=line.commitment.key,
                commitment_title=line.commitment.title,
                party=line.party,
                party_name=line.party.name,
                assessment_id=assessment.pk if assessment else None,
                rating=assessment.rating if assessment else "",
                score=line.score,
                justification=assessment.justification if assessment else "",
                assessed_on=assessment.assessed_on if assessment else None,
                reviewed_on=assessment.reviewed_on if assessment else None,
                evidence_quote=citation.quote if citation else "",
                evidence_locator=citation.locator if citation else "",
                source_title=source.title if source else "",
                source_url=source.url if source else "",
                source_published_on=source.published_on if source else None,
            )
        )
    ReportRow.objects.bulk_create(rows)
    return report


def _frozen_value(row: ReportRow | None, field: str) -> str:
    """Return what the frozen report says for ``field`` of ``row`` (the report: nothing)."""
    if row is None:
        return ""
    if field == ReportCorrection.Field.RATING:
        return row.rating or Rating.NOT_RATED.value
    if field == ReportCorrection.Field.JUSTIFICATION:
        return row.justification
    return row.evidence_quote


@transaction.atomic
def report_correct(
    *,
    report: Report,
    row: ReportRow | None,
    field: str,
    new_value: str,
    note: str,
    corrected_on: dt.date | None = None,
    user: User = None,
    now: dt.datetime | None = None,
) -> ReportCorrection:
    """Correct ``row``'s ``field`` (or, with no row, the report as a whole), saying why.

    The old value is what the report says now: the previous correction of the same field,
    else the frozen text. Refused, field named and nothing written: a row of another report
    or a row-level field without a row (``row``); an unknown field (``field``); a rating not
    on the scale, or a value that changes nothing (``new_value``); no reason (``note``); a
    date before the cut-off, in the future, or before the previous correction of the same
    value (``corrected_on``).
    """
    now = now or timezone.now()
    report = Report.objects.select_for_update().select_related("agreement").get(pk=report.pk)
    today = agreement_today(report.agreement, now)
    corrected_on = corrected_on or today
    errors: dict[str, str] = {}
    new_value = (new_value or "").strip()
    note = (note or "").strip()
    fields = ReportCorrection.Field
    if field not in fields.values:
        errors["field"] = _("%(field)r is not something a report correction can change.") % {
            "field": field
        }
    elif field == fields.REPORT and row is not None:
        errors["row"] = _("A correction of the report as a whole names no row.")
    elif field != fields.REPORT and row is None:
        errors["row"] = _("Say which row is corrected.")
    if row is not None and row.report_id != report.pk:
        errors["row"] = _("This row belongs to another report.")
    if not note:
        errors["note"] = _("Say why: every correction needs a reason.")
    if corrected_on > today:
        errors["corrected_on"] = _("A correction cannot be dated in the future.")
    elif corrected_on < report.cutoff:
        errors["corrected_on"] = _("A correction cannot be dated before the report's cut-off.")
    old_value = ""
    if "field" not in errors and "row" not in errors:
        previous = (
            ReportCorrection.objects.filter(report=report, row=row, field=field)
            .order_by("-corrected_on", "-id")
            .first()
        )
        old_value = previous.new_value if previous else _frozen_value(row, field)
        if (
            previous is not None
            and "corrected_on" not in errors
            and corrected_on < previous.corrected_on
        ):
            # Corrections of one value read in date order: an earlier date would hide this one.
            errors["corrected_on"] = _(
                "This value was last corrected on %(date)s: a new correction cannot be dated "
                "before it."
            ) % {"date": previous.corrected_on.isoformat()}
        if field == fields.RATING and new_value not in {rating.value for rating in Rating}:
            errors["new_value"] = _("%(rating)r is not a rating on the scale.") % {
                "rating": new_value
            }
        elif not new_value and field != fields.EVIDENCE:
            errors["new_value"] = _("Say what the report should say.")
        elif new_value == old_value:
            errors["new_value"] = _("The report already says this.")
    if errors:
        raise ValidationError(errors)
    correction = ReportCorrection(
        report=report,
        row=row,
        field=field,
        corrected_on=corrected_on,
        old_value=old_value,
        new_value=new_value,
        note=note,
        author=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
    )
    correction.full_clean()
    correction.save()
    return correction
