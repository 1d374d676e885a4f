"""``Authorization: Token <key>`` against our hashed, expiring, revocable API tokens."""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.prepared import prepared_cursor
from core.roles import roles_remember, with_roles
from core.tokens import token_hash

from .models import ApiToken
from .throttling import FailedTokenThrottle

#: How stale ``last_used_at`` may get before a request writes it again.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """Authenticate by an :class:`ApiToken` key; a wrong, revoked or expired key is a 401.

    Failed keys are counted per address (:class:`~api.throttling.FailedTokenThrottle`): past
    the anonymous rate, the address gets a 429 for any key until its failures age out.
    """

    keyword = "Token"
    model = ApiToken

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        """Authenticate, unless the caller's address has sent too many failed tokens (429)."""
        guard = FailedTokenThrottle()
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == self.keyword.lower().encode():
            wait = guard.wait_before_next_token(request)
            if wait is not None:
                raise exceptions.Throttled(wait=math.ceil(wait))
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            guard.record_failure(request)
            raise
        if result is not None:
            request.api_token = result[1]  # type: ignore[attr-defined]
        return result

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        now = timezone.now()
        token = token_with_user(token_hash(key))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        if not token.is_active(now=now):
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        roles_remember(token.user, token)
        return token.user, token


def _token_look_up() -> Any:
    """Return the token look-up as a queryset: the token, its user and roles; the caller
    filters by hash and reads one row (``get``, not ``first``: the hash is unique, and
    ``first`` sorted by the model's ordering for nothing)."""
    return with_roles(ApiToken.objects.select_related("user"), "user_id")


#: What stands for the key's hash when the look-up is compiled (no hash is this long).
_HASH_PLACEHOLDER = "key-hash-placeholder-" + "0" * 64


@dataclass(frozen=True)
class _LookUp:
    """The token look-up's SQL, where its hash goes, and where each model's columns are."""

    sql: str
    params: tuple[Any, ...]
    hash_at: int
    token_columns: tuple[int, ...]
    token_fields: tuple[str, ...]
    user_columns: tuple[int, ...]
    user_fields: tuple[str, ...]
    roles_at: int | None


@functools.cache
def _look_up_compiled(alias: str) -> _LookUp | None:
    """Compile the token look-up once per process and database, or return None.

    Compiling it (the token, its user's select_related columns, the roles' array) was 2 ms of
    CPU on every API request, five times the statement's own round trip. None where a column
    needs a converter (the database gives it otherwise than as its Python value: SQLite's
    instants): the ORM reads the token there.
    """
    queryset = _token_look_up().using(alias).filter(key_hash=_HASH_PLACEHOLDER)
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    expressions = [expression for expression, _sql, _alias in compiler.select]
    if compiler.get_converters(expressions) or params.count(_HASH_PLACEHOLDER) != 1:
        return None
    klass_info = compiler.klass_info or {}
    (user_info,) = klass_info["related_klass_infos"]

    def fields(indexes: list[int]) -> tuple[str, ...]:
        return tuple(expressions[index].target.attname for index in indexes)

    return _LookUp(
        sql=sql,
        params=tuple(params),
        hash_at=params.index(_HASH_PLACEHOLDER),
        token_columns=tuple(klass_info["select_fields"]),
        token_fields=fields(klass_info["select_fields"]),
        user_columns=tuple(user_info["select_fields"]),
        user_fields=fields(user_info["select_fields"]),
        roles_at=compiler.annotation_col_map.get("user_roles"),
    )


def token_with_user(key_hash: str) -> ApiToken | None:
    """Return the token whose key has ``key_hash``, its user and the user's roles read with
    it in one statement (:func:`core.roles.with_roles`), or None if there is none.

    The statement is the ORM's (:func:`_token_look_up`), compiled once per process
    (:func:`_look_up_compiled`); the token and its user are made as the ORM makes them.
    """
    alias = _token_look_up().db
    compiled = _look_up_compiled(alias)
    if compiled is None:
        try:
            return _token_look_up().get(key_hash=key_hash)
        except ApiToken.DoesNotExist:
            return None
    params = list(compiled.params)
    params[compiled.hash_at] = key_hash
    # Bound on the server: one prepared statement for every token, its plan a unique look-up.
    with prepared_cursor(connections[alias], bound=True) as cursor:
        cursor.execute(compiled.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    token = ApiToken.from_db(alias, compiled.token_fields, [row[i] for i in compiled.token_columns])
    user_model = ApiToken._meta.get_field("user").related_model
    user = user_model.from_db(  # type: ignore[union-attr]
        alias, compiled.user_fields, [row[i] for i in compiled.user_columns]
    )
    ApiToken._meta.get_field("user").set_cached_value(token, user)  # type: ignore[union-attr]
    if compiled.roles_at is not None:
        token.user_roles = row[compiled.roles_at]  # type: ignore[attr-defined]
    return token
