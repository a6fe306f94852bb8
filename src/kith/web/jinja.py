"""The Jinja2 environment of the web app: autoescaped, with URL, static and format helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment, StrictUndefined


def url(name: str, *args: Any, **query: Any) -> str:
    """The path of the named URL, with ``query`` (None values left out) as a query string."""
    path = reverse(name, args=args)
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the server's zone (an ISO string or datetime), '' when missing."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime(fmt)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def band_class(band: str | None) -> str:
    """The CSS class of a health band (strong, good, fair, weak, cold)."""
    return f"band band-{band or 'none'}"


def environment(**options: Any) -> Environment:
    options.setdefault("undefined", StrictUndefined)
    env = Environment(**options)
    env.globals.update(url=url, static=static)
    env.filters.update(when=when, band_class=band_class)
    return env
