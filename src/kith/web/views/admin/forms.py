"""What every admin section shares: forms shown again with errors next to their controls,
reading submitted values safely, rendering a section as a page or an htmx fragment."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict

from kith.core.errors import Conflict, KithError, NotFound, ValidationError
from kith.web.views.base import is_htmx, notify, page

SECTIONS = [
    ("admin-home", "Overview"),
    ("admin-types", "Record types"),
    ("admin-reltypes", "Relationship types"),
    ("admin-users", "Users and teams"),
    ("admin-tokens", "API tokens"),
    ("admin-webhooks", "Webhooks"),
    ("admin-audit", "Audit log"),
]
# actions the audit log holds (the filter offers them; any other text is allowed too)
AUDIT_ACTIONS = [
    "login", "login.failed", "login.throttled", "logout", "user.added", "user.changed",
    "user.disabled", "user.password_changed", "token.created", "token.revoked", "token.used",
    "type.defined", "type.field_added", "reltype.added", "webhook.added", "webhook.changed",
    "webhook.deleted", "delivery.redelivered", "import", "export",
]  # fmt: skip
ROLES = ["admin", "member", "viewer"]
MAX_FIELD_ROWS = 20
AUDIT_PAGE = 50
DELIVERY_PAGE = 25


@dataclass
class Form:
    """A form shown again: the values sent, and an error per control (``__all__``: general)."""

    id: str
    controls: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def many(self, name: str) -> list[str]:
        getlist = getattr(self.values, "getlist", None)
        return list(getlist(name)) if getlist else list(self.values.get(name, []))

    def fail(self, exc: KithError, rename: Mapping[str, str] | None = None) -> int:
        """Put ``exc`` next to its control; returns the HTTP status for it."""
        name = (rename or {}).get(exc.field or "", exc.field or "")
        self.errors[name if name in self.controls else "__all__"] = message(exc)
        return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400


def message(exc: KithError) -> str:
    """The error's one line without its ``field:`` prefix (the control is right there)."""
    text = exc.message
    if exc.field:
        text = re.sub(rf"^-*{re.escape(exc.field)}: ", "", text)
    return text[:1].upper() + text[1:]


def get_text(data: QueryDict, name: str, *, max_len: int) -> str:
    """One submitted value, stripped; refuses NUL characters and over-long values."""
    return clean(data.get(name, ""), name, max_len)


def get_list(data: QueryDict, name: str, *, max_len: int, max_items: int = 50) -> list[str]:
    values = data.getlist(name)
    if len(values) > max_items:
        raise ValidationError(f"{name}: at most {max_items} values", field=name)
    return [v for v in (clean(v, name, max_len) for v in values) if v]


def clean(value: str, name: str, max_len: int) -> str:
    if "\x00" in value:
        raise ValidationError(f"{name}: contains a NUL character", field=name)
    value = value.strip()
    if len(value) > max_len:
        raise ValidationError(f"{name}: longer than {max_len} characters", field=name)
    return value


def render(
    request: HttpRequest,
    section: str,
    ctx: dict[str, Any],
    *,
    status: int = 200,
    notice: str = "",
    secret: dict[str, str] | None = None,
) -> HttpResponse:
    """The section: its fragment for htmx, else the admin page around it."""
    fragment = f"web/_admin_{section}.html"
    ctx = {"fragment": fragment, "sections": SECTIONS, "notice": notice, "secret": secret, **ctx}
    # a history restore wants the whole page, not the fragment
    part = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    resp = page(request, fragment if part else "web/admin.html", ctx, status)
    if secret is not None:
        resp["Cache-Control"] = "no-store"
    return resp


def done(
    request: HttpRequest, section: str, build: Callable[[], dict[str, Any]], notice: str, to: str
) -> HttpResponse:
    """After a change: htmx gets the fresh fragment with a notice; a plain form, a redirect."""
    if is_htmx(request):
        return render(request, section, build(), notice=notice)
    notify(request, notice)
    return HttpResponseRedirect(to)
