"""The login forms of the site and of the admin, refusing a username no account can have."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class UsernameLengthMixin:
    """Check the username's length before any backend (and django-axes) sees it.

    Django's form sets the username field's ``max_length`` after the field is built, so no
    validator enforces it: a 10,000-character name reached ``authenticate()``, and
    django-axes, recording the failed attempt, overflowed its column (a server error).
    """

    fields: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(UsernameLengthMixin, AuthenticationForm):
    """The site's login form."""


class AdminLoginForm(UsernameLengthMixin, AdminAuthenticationForm):
    """The admin's login form."""
