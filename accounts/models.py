"""What the tracker remembers about each user beyond Django's account: their language."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Profile(models.Model):
    """A user's preferences: the language of their pages and of the e-mails they receive."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Pages and alert e-mails are written in this language."),
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "profile")
        verbose_name_plural = pgettext_lazy("model", "profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=["en", "fr"]), name="profile_language_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"
