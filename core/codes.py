"""The shape of the codes stored as text: language tags and country codes, in one place."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

#: A BCP 47 tag as the product uses them: a lowercase language, then subtags (``pt-BR``,
#: ``zh-Hant``); the registry is not consulted, the shape is what keeps "NaN" or an emoji out.
LANGUAGE_TAG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
#: An ISO 3166-1 alpha-2 country code: two uppercase letters.
COUNTRY_CODE_PATTERN = r"^[A-Z]{2}$"

validate_language_tag = RegexValidator(
    LANGUAGE_TAG_PATTERN,
    _("Enter a language tag such as fr, en or pt-BR (BCP 47)."),
    code="invalid_language_tag",
)
validate_country_code = RegexValidator(
    COUNTRY_CODE_PATTERN,
    _("Enter a country code of two capital letters such as JP (ISO 3166-1 alpha-2)."),
    code="invalid_country_code",
)


def language_tag_q(field: str, *, blank: bool = False) -> Q:
    """Match the rows whose ``field`` is a language tag (or empty, if ``blank``)."""
    q = Q(**{f"{field}__regex": LANGUAGE_TAG_PATTERN})
    return q | Q(**{field: ""}) if blank else q


def country_code_q(field: str, *, blank: bool = False) -> Q:
    """Match the rows whose ``field`` is a country code (or empty, if ``blank``)."""
    q = Q(**{f"{field}__regex": COUNTRY_CODE_PATTERN})
    return q | Q(**{field: ""}) if blank else q
