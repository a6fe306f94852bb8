"""The Jinja2 environment of the web app: autoescaped, with URL, static and format helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from kith.core import clock


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


def _moment(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, str):
        try:
            parse = dt.datetime.fromisoformat if "T" in value else dt.date.fromisoformat
            value = parse(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return value if isinstance(value, dt.date) else None


def _span(days: int) -> str:
    n = abs(days)
    if n < 14:
        amount, unit = n, "day"
    elif n < 60:
        amount, unit = round(n / 7), "week"
    elif n < 730:
        amount, unit = round(n / 30.4), "month"
    else:
        amount, unit = round(n / 365.25), "year"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def ago(value: Any) -> str:
    """A date or time relative to today in the user's zone: 'today', 'yesterday', '3 days
    ago', 'in 2 weeks', '5 months ago'; '' when missing."""
    moment = _moment(value)
    if moment is None:
        return "" if not value else str(value)
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    days = (clock.local_today() - day).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days == -1:
        return "tomorrow"
    return f"{_span(days)} ago" if days > 0 else f"in {_span(days)}"


def reltime(value: Any) -> Markup:
    """A <time> element: the relative time, with the exact date (and time) on hover."""
    moment = _moment(value)
    if moment is None:
        return Markup("")
    exact = when(moment, "%Y-%m-%d %H:%M") if isinstance(moment, dt.datetime) else when(moment)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), exact, escape(ago(moment))
    )


AVATAR_COLOURS = 8


def initials(name: str) -> str:
    """Up to two initials of a name ('Jane Doe' -> 'JD', 'acme' -> 'A')."""
    words = [w for w in str(name or "").replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    picked = words[:1] + words[-1:] if len(words) > 1 else words
    return "".join(w[0] for w in picked).upper()


def avatar(name: str, type_key: str = "person", size: str = "") -> Markup:
    """An initials avatar (round for people, square for everything else), coloured by name."""
    colour = sum(map(ord, str(name or ""))) % AVATAR_COLOURS
    shape = "avatar-person" if type_key == "person" else "avatar-org"
    extra = f" avatar-{size}" if size else ""
    return Markup('<span class="avatar {} av-{}{}" aria-hidden="true">{}</span>').format(
        shape, colour, extra, initials(name)
    )


def wording(label: str) -> str:
    """A record type's label as the pages spell it: 'Organisation', not 'Organization'."""
    text = str(label)
    return text.replace("Organization", "Organisation").replace("organization", "organisation")


def environment(**options: Any) -> Environment:
    options.setdefault("undefined", StrictUndefined)
    env = Environment(**options)
    env.globals.update(url=url, static=static, reltime=reltime, avatar=avatar)
    env.filters.update(when=when, band_class=band_class, ago=ago, initials=initials)
    env.filters.update(wording=wording)
    return env
