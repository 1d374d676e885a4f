"""Calendar feeds: secret subscription URLs that show a user's deadlines in their calendar."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from commitments.models import Agreement, Party


class FeedScope(models.TextChoices):
    ALL = "all", _("Everything")
    AGREEMENT = "agreement", _("One agreement")
    PARTY = "party", _("One party")
    WATCHLIST = "watchlist", _("My watch list")


class CalendarFeed(models.Model):
    """One user's iCalendar subscription: a revocable secret and the commitments it shows.

    Only a SHA-256 hash of the secret is stored, so the subscription URL is shown once, when
    the feed is made or rotated. Rotating replaces the hash, which kills every old URL;
    revoking kills the feed. The feed shows what its user may read, while the user is active.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("Shown as the calendar's name.")
    )
    scope = models.CharField(_("scope"), max_length=20, choices=FeedScope.choices)
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
        verbose_name=_("agreement"),
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
        verbose_name=_("party"),
        help_text=_("Commitments this party owes or benefits from."),
    )
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    secret_hint = models.CharField(
        _("secret begins with"),
        max_length=6,
        editable=False,
        help_text=_("The first characters of the secret, to recognise a URL."),
    )
    created = models.DateTimeField(_("created"), editable=False)
    rotated_at = models.DateTimeField(_("rotated at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("model", "calendar feed")
        verbose_name_plural = pgettext_lazy("model", "calendar feeds")
        ordering = ["user", "-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope__in=[FeedScope.ALL, FeedScope.WATCHLIST], agreement=None, party=None)
                    | Q(scope=FeedScope.AGREEMENT, agreement__isnull=False, party=None)
                    | Q(scope=FeedScope.PARTY, agreement=None, party__isnull=False)
                ),
                name="calendarfeed_target_matches_scope",
            ),
        ]

    def __str__(self) -> str:
        target = self.agreement or self.party or self.get_scope_display()
        return f"{self.name or target} ({self.user}, {self.secret_hint}…)"

    def clean(self) -> None:
        """Check that the feed names exactly the agreement or party its scope needs."""
        targets = {FeedScope.AGREEMENT: "agreement", FeedScope.PARTY: "party"}
        errors = {}
        for scope, field in targets.items():
            is_set = getattr(self, f"{field}_id") is not None
            if self.scope == scope and not is_set:
                errors[field] = _("Choose the %(field)s this feed shows.") % {"field": field}
            elif self.scope != scope and is_set:
                errors[field] = _("Only a %(field)s feed names a %(field)s.") % {"field": field}
        if errors:
            raise ValidationError(errors)

    @property
    def is_revoked(self) -> bool:
        """Return whether the feed has been revoked."""
        return self.revoked_at is not None
