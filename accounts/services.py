"""Read and change a user's preferences."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import Profile


def user_language(*, user: Any, default: str | None = None) -> str:
    """Return the language ``user`` reads; ``default`` (else the site's) if they never chose one."""
    fallback = default or settings.LANGUAGE_CODE
    if user is None or not getattr(user, "pk", None):
        return fallback
    profile_of = Profile._meta.get_field("user").remote_field
    if profile_of.is_cached(user):
        # Loaded with the user (``select_related("user__profile")``): no query per mail.
        profile = profile_of.get_cached_value(user)
        return str(getattr(profile, "language", "")) or fallback
    language = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    return language or fallback


def user_set_language(*, user: Any, language: str) -> Profile:
    """Remember ``language`` for ``user``; raise ``ValidationError`` on an unknown one."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": f"{language!r} is not a language of the tracker."})
    profile, created = Profile.objects.get_or_create(user=user, defaults={"language": language})
    if not created and profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile
