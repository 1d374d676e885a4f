"""Who may do what: viewers read, editors write, superusers everything.

Anonymous callers are refused (401) unless ``settings.API_PUBLIC_READ`` lets them read the
public resources. A user's own subscriptions and alerts are scoped by the views' querysets, so
someone else's id is simply not found (404).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import permissions
from rest_framework.request import Request

from core.roles import can_read, can_write


class RolePermission(permissions.BasePermission):
    """Let viewers and editors read, editors write; anonymous reads only if public read is on."""

    message = "Your role does not allow this: viewers read, editors write."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return request.method in permissions.SAFE_METHODS and bool(
                getattr(settings, "API_PUBLIC_READ", False)
            )
        if request.method in permissions.SAFE_METHODS:
            return can_read(user)
        return can_write(user)


class OwnDataPermission(permissions.BasePermission):
    """Let any user with a role manage their own subscriptions and read their own alerts."""

    message = "Your account has no role in the tracker."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and can_read(user))
