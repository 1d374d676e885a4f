"""The language switcher: Django's, plus remembering the choice for a logged-in user."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .services import user_set_language


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the page language; a logged-in user's e-mails follow the same choice."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response
