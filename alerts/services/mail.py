"""The alert mail: what it says, in the recipient's language, with a stable Message-ID.

One mail tells one alert, or lists all of a recipient's digest alerts; the sender
(:mod:`alerts.services.delivery`) builds it here and sends it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Hashable, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services import user_language
from alerts.models import Alert, AlertKind
from alerts.services import mail_bodies
from commitments.choices import rating_label
from commitments.deadlines import due_instant
from commitments.deadlines.text import (
    commitment_rule_in_words,
    date_in_words,
    deadline_explanation,
    due_in_words,
)
from commitments.models import Commitment
from commitments.translations import localized_text


def digest_message_id(*, recipient: str, alert_ids: Iterable[int]) -> str:
    """Return the Message-ID of a digest: the same for the same recipient and alerts."""
    key = f"{recipient}|{','.join(str(pk) for pk in sorted(alert_ids))}"
    return f"<digest.{hashlib.sha256(key.encode()).hexdigest()[:32]}@commitment-tracker>"


def alert_address(alert: Alert) -> str:
    """Return the address ``alert`` goes to: its own, else its user's (``""`` if none)."""
    if alert.email:
        return alert.email
    return alert.user.email if alert.user is not None else ""


#: One immediate alert's mail as written: its subject, text and HTML bodies.
Wording = tuple[str, str, str]


def alert_mail_build(
    *,
    alerts: Sequence[Alert],
    now: dt.datetime,
    mailer: BaseEmailBackend,
    written: dict[Hashable, Wording] | None = None,
) -> EmailMultiAlternatives:
    """Write the mail in the recipient's language (the site's for the escalation contact).

    ``written`` is a run's memory of the immediate alerts' mails it has written: a mail that
    says the same as one already written (the same alert, as :func:`_wording_key` defines
    it, for another recipient) reuses its words rather than rendering them again.
    """
    language = user_language(user=alerts[0].user)
    first = alerts[0]
    if first.digest or written is None:
        with translation.override(language):
            return _write_message(alerts=alerts, now=now, mailer=mailer)
    key = _wording_key(alert=first, language=language, now=now)
    wording = written.get(key)
    if wording is None:
        with translation.override(language):
            wording = written[key] = _write_alert(alert=first, now=now)
    return _message(alert=first, wording=wording, message_id=first.message_id, mailer=mailer)


def _wording_key(*, alert: Alert, language: str, now: dt.datetime) -> Hashable:
    """Return what an immediate alert's mail depends on besides its recipient's address.

    The words are the commitment's (read once per claim), the alert's date, kind and rating,
    the days left at ``now``, whether the recipient is the escalation contact (a negative
    threshold, no user) and the language; the address and Message-ID are set per mail.
    """
    return (
        language,
        now,
        alert.kind,
        alert.commitment_id,
        alert.due_date,
        alert.threshold < 0,
        alert.user_id is None,
        alert.assessment_id,
        alert.reviewed_on,
    )


def _write_message(
    *, alerts: Sequence[Alert], now: dt.datetime, mailer: BaseEmailBackend
) -> EmailMultiAlternatives:
    first = alerts[0]
    if not first.digest:
        wording = _write_alert(alert=first, now=now)
        return _message(alert=first, wording=wording, message_id=first.message_id, mailer=mailer)
    items = sorted(
        (_item(alert=alert, now=now) for alert in alerts),
        key=lambda item: (item["due_at"], item["commitment"].title),
    )
    recipient = f"user-{first.user_id}" if first.user_id else first.email
    message_id = digest_message_id(recipient=recipient, alert_ids=[a.pk for a in alerts])
    subject = ngettext(
        "[Deadline digest] %(count)d commitment to watch",
        "[Deadline digest] %(count)d commitments to watch",
        len(items),
    ) % {"count": len(items)}
    language = translation.get_language()
    wording = (
        " ".join(subject.split()),
        mail_bodies.digest_text(items),
        mail_bodies.digest_html(items, subject=subject, language=language),
    )
    return _message(alert=first, wording=wording, message_id=message_id, mailer=mailer)


def _write_alert(*, alert: Alert, now: dt.datetime) -> Wording:
    """Return the subject and bodies of ``alert``'s own mail, in the active language."""
    item = _item(alert=alert, now=now)
    subject = f"{item['headline']} {localized_text(item['commitment'], 'title')}"
    return (
        " ".join(subject.split()),
        mail_bodies.alert_text(item),
        mail_bodies.alert_html(item, subject=subject, language=translation.get_language()),
    )


def _message(
    *, alert: Alert, wording: Wording, message_id: str, mailer: BaseEmailBackend
) -> EmailMultiAlternatives:
    subject, text, html = wording
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[alert_address(alert)],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
        connection=mailer,
    )
    message.attach_alternative(html, "text/html")
    return message


def _item(*, alert: Alert, now: dt.datetime) -> dict[str, Any]:
    """Return what a mail says about one alert's commitment, as of ``now``.

    Days count in the agreement's time zone, where the deadline ends with its due day.
    """
    if alert.kind == AlertKind.REVIEW_DUE:
        return _review_item(alert=alert)
    commitment: Commitment = alert.commitment
    zone = commitment.agreement.time_zone
    due_at = due_instant(alert.due_date, zone)
    days = (alert.due_date - now.astimezone(ZoneInfo(zone)).date()).days
    citation = next(iter(commitment.citations.all()), None)
    return {
        "alert": alert,
        "commitment": commitment,
        "agreement": commitment.agreement,
        "obligor": commitment.obligor,
        # The names of every party the commitment binds, the obligor first.
        "obligors": [localized_text(party, "name") for party in commitment.obligor_list],
        "due_date": alert.due_date,
        "due_at": due_at,
        "due_at_local": due_at.astimezone(ZoneInfo(zone)),
        "days_left": max(days, 0),
        "days_overdue": max(-days, 0),
        "rule_words": commitment_rule_in_words(commitment),
        # The alert's date as precisely as the commitment's deadline knows it, if still that.
        "due_words": due_in_words(
            alert.due_date,
            commitment.due_precision if alert.due_date == commitment.due_date else None,
        ),
        "explanation": deadline_explanation(commitment),
        # Once for both bodies: the label lookup translates every status's label each time.
        "status": commitment.get_status_display(),
        "headline": _headline(alert=alert, days=days),
        "countdown": _countdown(days=days),
        "opening": _opening(days=days),
        "citation": citation,
        "url": settings.SITE_URL.rstrip("/") + commitment.get_absolute_url(),
    }


def _review_item(*, alert: Alert) -> dict[str, Any]:
    """Return what a mail says about a rating whose review fell due."""
    commitment: Commitment = alert.commitment
    rating = alert.assessment
    if rating is None or alert.reviewed_on is None:  # pragma: no cover - a constraint forbids it
        raise ValueError("a review alert names its rating and its last review")
    reviewed_words = date_in_words(alert.reviewed_on)
    return {
        "alert": alert,
        "review": True,
        "commitment": commitment,
        "agreement": commitment.agreement,
        "party": rating.party,
        "rating": rating,
        "rating_label": rating_label(rating.rating),
        "assessed_words": date_in_words(rating.assessed_on),
        "reviewed_words": reviewed_words,
        "due_at": due_instant(alert.due_date, commitment.agreement.time_zone),
        "headline": _("[Review due]"),
        "opening": _("Review due: %(party)s's rating of “%(title)s” was last reviewed on %(date)s.")
        % {
            "party": localized_text(rating.party, "name"),
            "title": localized_text(commitment, "title"),
            "date": reviewed_words,
        },
        "url": settings.SITE_URL.rstrip("/") + commitment.get_absolute_url(),
    }


def _headline(*, alert: Alert, days: int) -> str:
    """Return the bracketed subject prefix, e.g. ``[Due in 7 days]`` or ``[Overdue 3 days]``."""
    if alert.threshold < 0 and days < 0:
        return ngettext(
            "[Escalation: overdue %(n)d day]", "[Escalation: overdue %(n)d days]", -days
        ) % {"n": -days}
    if days < 0:
        return ngettext("[Overdue %(n)d day]", "[Overdue %(n)d days]", -days) % {"n": -days}
    if days == 0:
        return _("[Due today]")
    return ngettext("[Due in %(n)d day]", "[Due in %(n)d days]", days) % {"n": days}


def _countdown(*, days: int) -> str:
    """Return the days left or overdue (``days`` < 0) as a phrase."""
    if days < 0:
        return ngettext("%(n)d day overdue", "%(n)d days overdue", -days) % {"n": -days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}


def _opening(*, days: int) -> str:
    """Return the mail's first sentence about the deadline."""
    if days < 0:
        return ngettext(
            "This commitment is %(n)d day past its deadline.",
            "This commitment is %(n)d days past its deadline.",
            -days,
        ) % {"n": -days}
    if days == 0:
        return _("This commitment is due today.")
    return ngettext(
        "This commitment is due in %(n)d day.", "This commitment is due in %(n)d days.", days
    ) % {"n": days}
