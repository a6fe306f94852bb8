"""Normalisation and validation of contact points and typed field values."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.parse import parse_date

_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_INTERNATIONAL = re.compile(r"^\+[1-9][\d \-.]{6,24}\d$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def name_key(name: str) -> str:
    """Casefold and squeeze spaces: how names are compared."""
    return " ".join(name.split()).casefold()


def clean_name(name: str, *, field: str = "name") -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationError(f"{field}: a name is required", field=field)
    if len(cleaned) > 300:
        raise ValidationError(f"{field}: longer than 300 characters", field=field)
    _no_nul(cleaned, field=field)
    return cleaned


def refuse_nul(text: str, *, field: str) -> str:
    """Return ``text``; refuse it when it holds a NUL character (alike on both databases)."""
    # PostgreSQL refuses NUL in text; SQLite would keep it, and a backup would not restore
    if "\x00" in text:
        raise ValidationError(f"{field}: {text[:40]!r} contains a NUL character", field=field)
    return text


_no_nul = refuse_nul


def normalize_email(value: str, *, field: str = "email") -> str:
    text = (value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _EMAIL.match(text) or len(text) > 320:
        raise ValidationError(f"{field}: {value!r} is not a valid email address", field=field)
    local, _, domain = text.rpartition("@")
    return f"{local.lower()}@{domain.lower()}"


def normalize_phone(value: str, *, field: str = "phone") -> str:
    """Return E.164 when the number parses (``KITH_REGION`` for national numbers)."""
    text = (value or "").strip()
    if _INTERNATIONAL.match(text):
        # already international: E.164 is "+" and the digits (what phonenumbers would
        # return), without its ~150 µs parse; "(0)" trunk prefixes take the slow path
        digits = re.sub(r"\D", "", text)
        if 8 <= len(digits) <= 15:
            return "+" + digits
    import phonenumbers  # noqa: PLC0415 - phonenumbers costs 67 ms to import

    region = os.environ.get("KITH_REGION", "US")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        digits = re.sub(r"\D", "", text)
        if len(digits) < 3 or re.search(r"[A-Za-z]{2,}", text.replace("ext", "")):
            raise ValidationError(f"{field}: {value!r} is not a phone number", field=field)
        return digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(value: str, *, field: str = "domain") -> str:
    text = (value or "").strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0]
    text = text.removeprefix("www.").rstrip(".")
    if not _DOMAIN.match(text):
        raise ValidationError(f"{field}: {value!r} is not a web domain", field=field)
    return text


def normalize_url(value: str, *, field: str = "url") -> str:
    text = (value or "").strip()
    if text and "://" not in text:
        text = "https://" + text
    try:
        URLValidator()(text)
    except DjangoValidationError:
        raise ValidationError(f"{field}: {value!r} is not a valid URL", field=field) from None
    return text


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def coerce_value(kind: str, raw: Any, *, field: str, choices: list[str] | None = None) -> Any:
    """Validate ``raw`` for a field of ``kind``; returns the JSON value to store."""
    if isinstance(raw, str):
        raw = raw.strip()
    if kind == "text":
        _no_nul(str(raw), field=field)
        return str(raw)
    if kind == "number":
        if isinstance(raw, bool):
            raise ValidationError(f"{field}: {raw!r} is not a number", field=field)
        try:
            num = float(raw)
        except (TypeError, ValueError):
            raise ValidationError(f"{field}: {raw!r} is not a number", field=field) from None
        if num != num or num in (float("inf"), float("-inf")):
            raise ValidationError(f"{field}: {raw!r} is not a finite number", field=field)
        return int(num) if num.is_integer() and abs(num) < 2**53 else num
    if kind == "date":
        parsed = parse_date(raw if isinstance(raw, str | dt.date) else str(raw), field=field)
        return parsed.isoformat() if parsed else None
    if kind == "choice":
        options = choices or []
        for option in options:
            if str(raw).casefold() == option.casefold():
                return option
        raise ValidationError(f"{field}: {raw!r} is not one of {', '.join(options)}", field=field)
    if kind == "email":
        return normalize_email(str(raw), field=field)
    if kind == "url":
        return normalize_url(str(raw), field=field)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(f"{field}: {raw!r} is not true or false", field=field)
    raise ValidationError(f"{field}: unknown field kind {kind!r}", field=field)


def check_birthday(name: str, value: Any, *, field: str) -> None:
    """Refuse a birthday (a date field so named) after today: nobody is born yet."""
    if name != "birthday" or not isinstance(value, str) or len(value) != 10:
        return
    if value > clock.local_today().isoformat():
        raise ValidationError(
            f"{field}: {value} is in the future; a birthday has passed", field=field
        )
