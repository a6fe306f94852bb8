"""Admin pages: record types and fields, relationship types, users and teams, API tokens,
webhooks and the audit log; and every user's own API tokens.

Each section is one fragment (``web/_admin_<section>.html``) inside ``web/admin.html``.
htmx forms post to the section and swap in the fresh fragment; plain forms get the page
(after a change without a secret: a redirect). Secrets (one-time passwords, API tokens,
signing secrets) appear once, in the answer to the POST that made them, sent with
``Cache-Control: no-store``: never in a URL, a flash message, a log or a later page.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kith.core.errors import Conflict, KithError, NotFound, ValidationError
from kith.web.views.base import is_htmx, notify, page, signed_in

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
    "webhook.deleted", "delivery.redelivered", "import.started", "export",
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
        self.errors[name if name in self.controls else "__all__"] = _message(exc)
        return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400


def _message(exc: KithError) -> str:
    """The error's one line without its ``field:`` prefix (the control is right there)."""
    text = exc.message
    if exc.field:
        text = re.sub(rf"^-*{re.escape(exc.field)}: ", "", text)
    return text[:1].upper() + text[1:]


def _get(data: QueryDict, name: str, *, max_len: int) -> str:
    """One submitted value, stripped; refuses NUL characters and over-long values."""
    return _clean(data.get(name, ""), name, max_len)


def _getlist(data: QueryDict, name: str, *, max_len: int, max_items: int = 50) -> list[str]:
    values = data.getlist(name)
    if len(values) > max_items:
        raise ValidationError(f"{name}: at most {max_items} values", field=name)
    return [v for v in (_clean(v, name, max_len) for v in values) if v]


def _clean(value: str, name: str, max_len: int) -> str:
    if "\x00" in value:
        raise ValidationError(f"{name}: contains a NUL character", field=name)
    value = value.strip()
    if len(value) > max_len:
        raise ValidationError(f"{name}: longer than {max_len} characters", field=name)
    return value


def _audit(request: HttpRequest, action: str, target: str, **detail: Any) -> None:
    from kith.accounts.services import audit
    from kith.server.auth import client_ip

    audit(action, target=target, ip=client_ip(request), detail=detail)


def _render(
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


def _done(
    request: HttpRequest, section: str, build: Callable[[], dict[str, Any]], notice: str, to: str
) -> HttpResponse:
    """After a change: htmx gets the fresh fragment with a notice; a plain form, a redirect."""
    if is_htmx(request):
        return _render(request, section, build(), notice=notice)
    notify(request, notice)
    return HttpResponseRedirect(to)


# -- overview ---------------------------------------------------------------------------------


@signed_in("admin")
@require_http_methods(["GET"])
def overview(request: HttpRequest) -> HttpResponse:
    from kith.accounts.selectors import audit_page, list_tokens, list_users
    from kith.records.selectors import list_types
    from kith.relationships.selectors import list_types as rel_types
    from kith.webhooks.selectors import list_webhooks

    types, rels, users = list_types(), rel_types(), list_users()
    tokens, hooks = list_tokens(), list_webhooks()
    recent, _ = audit_page(limit=10)
    now = timezone.now().isoformat()
    counts = {
        "types": sum(not t["builtin"] for t in types),
        "fields": sum(len(t["fields"]) for t in types),
        "reltypes": sum(not r["builtin"] for r in rels),
        "reltypes_builtin": sum(r["builtin"] for r in rels),
        "users": sum(u["active"] for u in users),
        "disabled": sum(not u["active"] for u in users),
        "admins": sum(u["active"] and u["role"] == "admin" for u in users),
        "teams": len({u["team"] for u in users if u["team"]}),
        "tokens": sum(_token_state(t, now) == "live" for t in tokens),
        "webhooks": len(hooks),
        "webhooks_active": sum(h["active"] for h in hooks),
    }
    return _render(request, "home", {"title": "Admin", "counts": counts, "recent": recent})


# -- record types and fields ------------------------------------------------------------------


def _types_ctx(new: Form | None = None, add: Form | None = None, rows: int = 3) -> dict[str, Any]:
    from kith.records.models import FieldKind
    from kith.records.selectors import list_types

    types = list_types()
    adds = {t["key"]: Form(f"field-{t['key']}") for t in types}
    if add is not None:
        adds[add.id.removeprefix("field-")] = add
    return {
        "title": "Record types",
        "types": types,
        "kinds": [(k, k) for k in FieldKind.values],
        "new": new or Form("type-new"),
        "rows": rows,
        "adds": adds,
    }


def _spec(data: QueryDict, prefix: str) -> str | None:
    """The ``NAME:KIND[:CHOICES][!]`` spec of one field row; None when the row is blank."""
    from kith.records.models import FieldKind

    name = _get(data, f"{prefix}name", max_len=60)
    kind = _get(data, f"{prefix}kind", max_len=10) or "text"
    choices = _get(data, f"{prefix}choices", max_len=2000)
    if not name:
        if choices:
            raise ValidationError(f"{prefix}name: name this field", field=f"{prefix}name")
        return None
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ -]*", name):
        raise ValidationError(
            f"{prefix}name: {name!r} must start with a letter and use only a-z, 0-9 and _",
            field=f"{prefix}name",
        )
    if kind not in FieldKind.values:
        raise ValidationError(f"{prefix}kind: {kind!r} is not a field kind", field=f"{prefix}kind")
    if kind == "choice" and not choices:
        raise ValidationError(
            f"{prefix}choices: list the options, e.g. gold|silver|bronze", field=f"{prefix}choices"
        )
    if kind != "choice" and choices:
        raise ValidationError(
            f"{prefix}choices: only choice fields take options", field=f"{prefix}choices"
        )
    required = "!" if data.get(f"{prefix}required") else ""
    return f"{name}:{kind}" + (f":{choices}" if choices else "") + required


def _slug(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def types_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "types", _types_ctx())
    from kith.records.services import define_type

    data = request.POST
    sent = [int(m.group(1)) for k in data if (m := re.fullmatch(r"f(\d{1,2})-name", k))]
    rows = min(max([3, *(i + 1 for i in sent)]), MAX_FIELD_ROWS)
    row_controls = [f"f{i}-{c}" for i in range(rows) for c in ("name", "kind", "choices")]
    form = Form("type-new", ("key", "label", *row_controls), data)
    specs: list[tuple[int, str]] = []
    try:
        key = _get(data, "key", max_len=40)
        label = _get(data, "label", max_len=80)
        if not key:
            raise ValidationError("key: name the type, e.g. vendor", field="key")
        seen: set[str] = set()
        for i in range(rows):
            spec = _spec(data, f"f{i}-")
            if spec is None:
                continue
            if _slug(spec.split(":")[0]) in seen:
                raise ValidationError(
                    f"f{i}-name: the type already has this field", field=f"f{i}-name"
                )
            seen.add(_slug(spec.split(":")[0]))
            specs.append((i, spec))
        with transaction.atomic():
            rtype = define_type(key=key, label=label or None, fields=[s for _, s in specs])
            _audit(request, "type.defined", rtype.key, fields=[s for _, s in specs])
    except KithError as exc:
        status = form.fail(exc, {"type": "key", "field": _row_of(exc, specs)})
        return _render(request, "types", _types_ctx(new=form, rows=rows), status=status)
    notice = f"Record type {rtype.label} ({rtype.key}) defined with {len(specs)} field(s)."
    return _done(request, "types", _types_ctx, notice, reverse("admin-types"))


def _row_of(exc: KithError, specs: list[tuple[int, str]]) -> str:
    """The field row a service error names (it quotes the field's name)."""
    for i, spec in specs:
        if repr(_slug(spec.split(":")[0])) in exc.message:
            return f"f{i}-name"
    return "__all__"


@signed_in("admin")
@require_POST
def add_field(request: HttpRequest, key: str) -> HttpResponse:
    from kith.records.services import add_field as add

    form = Form(f"field-{key}", ("name", "kind", "choices"), request.POST)
    try:
        spec = _spec(request.POST, "")
        if spec is None:
            raise ValidationError("name: name the field", field="name")
        with transaction.atomic():
            fdef = add(type_key=key, spec=spec)
            _audit(request, "type.field_added", fdef.record_type_id, field=spec)
    except KithError as exc:
        status = form.fail(exc, {"field": "name"})
        ctx = _types_ctx(add=form)
        if key not in {t["key"] for t in ctx["types"]}:
            ctx["new"].errors["__all__"] = _message(exc)
        return _render(request, "types", ctx, status=status)
    notice = f"Field {fdef.name} ({fdef.kind}) added to {fdef.record_type_id}."
    return _done(request, "types", _types_ctx, notice, reverse("admin-types"))


# -- relationship types -----------------------------------------------------------------------


def _reltypes_ctx(new: Form | None = None) -> dict[str, Any]:
    from kith.records.selectors import list_types
    from kith.relationships.selectors import list_types as rel_types

    return {
        "title": "Relationship types",
        "reltypes": rel_types(),
        "record_types": [(t["key"], t["label"]) for t in list_types()],
        "new": new or Form("reltype-new"),
    }


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def reltypes_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "reltypes", _reltypes_ctx())
    from kith.relationships.services import add_type

    data = request.POST
    form = Form("reltype-new", ("name", "inverse", "from", "to"), data)
    try:
        name = _get(data, "name", max_len=60)
        if not name:
            raise ValidationError("name: name the type, e.g. advises", field="name")
        with transaction.atomic():
            rtype = add_type(
                name=name,
                inverse=_get(data, "inverse", max_len=60) or None,
                symmetric=bool(data.get("symmetric")),
                from_types=_getlist(data, "from", max_len=60),
                to_types=_getlist(data, "to", max_len=60),
                rollup=bool(data.get("rollup")),
            )
            _audit(request, "reltype.added", rtype.key, inverse=rtype.inverse)
    except KithError as exc:
        status = form.fail(exc)
        return _render(request, "reltypes", _reltypes_ctx(form), status=status)
    notice = f"Relationship type {rtype.key} added."
    return _done(request, "reltypes", _reltypes_ctx, notice, reverse("admin-reltypes"))


# -- users and teams --------------------------------------------------------------------------


def _users_ctx(new: Form | None = None, row: Form | None = None) -> dict[str, Any]:
    from kith.accounts.selectors import list_users

    users = list_users()
    teams: dict[str, list[dict[str, Any]]] = {}
    for u in users:
        teams.setdefault(u["team"] or "", []).append(u)
    rows = {u["email"]: Form(f"user-{u['id']}", ("role", "team")) for u in users}
    if row is not None and row.value("email") in rows:
        row.id = rows[row.value("email")].id
        rows[row.value("email")] = row
    return {
        "title": "Users and teams",
        "users": users,
        "teams": sorted(teams.items(), key=lambda kv: (kv[0] == "", kv[0])),
        "role_options": [(r, r) for r in ROLES],
        "rows": rows,
        "new": new or Form("user-new", values={"role": "member"}),
    }


def _email(data: QueryDict) -> str:
    email = _get(data, "email", max_len=150)  # Django's username holds 150 characters
    if not email:
        raise ValidationError("email: enter the user's email address", field="email")
    return email


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def users_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "users", _users_ctx())
    from kith.accounts.services import add_user

    data = request.POST
    form = Form("user-new", ("email", "role", "team"), data)
    try:
        user, password = add_user(
            email=_email(data),
            role=_get(data, "role", max_len=10),
            team=_get(data, "team", max_len=60) or None,
        )
    except KithError as exc:
        status = form.fail(exc)
        return _render(request, "users", _users_ctx(new=form), status=status)
    secret = {
        "title": f"User {user.username} added",
        "label": f"One-time password for {user.username}",
        "value": password or "",
        "note": "Give it to them privately; it is shown only this once.",
    }
    return _render(request, "users", _users_ctx(), secret=secret)


def _user_action(request: HttpRequest, act: Callable[[str], str | dict[str, str]]) -> HttpResponse:
    """Run ``act(email)`` for one user row; errors show on that row."""
    row = Form("user-row", ("role", "team"), request.POST)
    try:
        email = _email(request.POST)
        done = act(email)
    except KithError as exc:
        status = row.fail(exc)
        ctx = _users_ctx(row=row)
        if row.value("email") not in ctx["rows"]:
            ctx["new"].errors["__all__"] = _message(exc)
        return _render(request, "users", ctx, status=status)
    if isinstance(done, dict):
        return _render(request, "users", _users_ctx(), secret=done)
    return _done(request, "users", _users_ctx, done, reverse("admin-users"))


@signed_in("admin")
@require_POST
def change_user(request: HttpRequest) -> HttpResponse:
    from kith.accounts.services import change_user as change

    def act(email: str) -> str:
        role = _get(request.POST, "role", max_len=10) or None
        team = _get(request.POST, "team", max_len=60) if "team" in request.POST else None
        user = change(email=email, role=role, team=team)
        return f"Saved {user.username}."

    return _user_action(request, act)


@signed_in("admin")
@require_POST
def disable_user(request: HttpRequest) -> HttpResponse:
    from kith.accounts.services import disable_user as disable

    return _user_action(request, lambda email: f"Disabled {disable(email=email).username}.")


@signed_in("admin")
@require_POST
def enable_user(request: HttpRequest) -> HttpResponse:
    from kith.accounts.services import change_user as change

    return _user_action(
        request, lambda email: f"Enabled {change(email=email, active=True).username}."
    )


@signed_in("admin")
@require_POST
def reset_password(request: HttpRequest) -> HttpResponse:
    from kith.accounts.services import new_password, set_password

    def act(email: str) -> dict[str, str]:
        password = new_password()
        user = set_password(email=email, password=password)
        return {
            "title": f"New password for {user.username}",
            "label": f"One-time password for {user.username}",
            "value": password,
            "note": "Their old password no longer works. This one is shown only once.",
        }

    return _user_action(request, act)


# -- API tokens: everyone's (admins) and your own ---------------------------------------------


def _token_state(token: Mapping[str, Any], now: str) -> str:
    if token["revoked_at"]:
        return "revoked"
    if token["expires_at"] and token["expires_at"] <= now:
        return "expired"
    return "live"


def _tokens_ctx(request: HttpRequest, scope: str, new: Form | None = None) -> dict[str, Any]:
    from kith.accounts.selectors import list_tokens

    now = timezone.now().isoformat()
    tokens = list_tokens(None if scope == "all" else request.user)  # type: ignore[arg-type]
    return {
        "title": "API tokens" if scope == "all" else "Your API tokens",
        "scope": scope,
        "tokens": [{**t, "state": _token_state(t, now)} for t in tokens],
        "here": reverse("admin-tokens" if scope == "all" else "account-tokens"),
        "revoke_url": reverse("admin-token-revoke" if scope == "all" else "account-token-revoke"),
        "new": new or Form("token-new", values={"expires": "90"}),
    }


def _tokens(request: HttpRequest, scope: str) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "tokens", _tokens_ctx(request, scope))
    from kith.accounts.services import create_token

    data = request.POST
    form = Form("token-new", ("name", "expires"), data)
    try:
        name = _get(data, "name", max_len=100)
        days_text = _get(data, "expires", max_len=10)
        days: int | None = None
        if not data.get("never"):
            if not days_text.isdigit():
                raise ValidationError("expires: enter a whole number of days", field="expires")
            days = int(days_text)
        token, secret = create_token(
            email=request.user.get_username(), expires_days=days, name=name
        )
    except KithError as exc:
        status = form.fail(exc)
        return _render(request, "tokens", _tokens_ctx(request, scope, form), status=status)
    shown = {
        "title": f"Token {token.name or token.id} created",
        "label": "API token (send it as Authorization: Bearer …)",
        "value": secret,
        "note": "Copy it now: Kith keeps only a hash, so it cannot be shown again.",
    }
    return _render(request, "tokens", _tokens_ctx(request, scope), secret=shown)


def _revoke(request: HttpRequest, scope: str) -> HttpResponse:
    from kith.accounts.services import revoke_token

    form = Form("token-new")
    try:
        token_id = _get(request.POST, "token_id", max_len=40)
        token = revoke_token(token_id=token_id, by=request.user)  # type: ignore[arg-type]
    except KithError as exc:
        status = form.fail(exc)
        return _render(request, "tokens", _tokens_ctx(request, scope, form), status=status)
    here = reverse("admin-tokens" if scope == "all" else "account-tokens")
    build = lambda: _tokens_ctx(request, scope)  # noqa: E731
    return _done(request, "tokens", build, f"Revoked token {token.id}.", here)


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def admin_tokens(request: HttpRequest) -> HttpResponse:
    return _tokens(request, "all")


@signed_in("admin")
@require_POST
def admin_revoke(request: HttpRequest) -> HttpResponse:
    return _revoke(request, "all")


@signed_in("viewer")
@require_http_methods(["GET", "POST"])
def own_tokens(request: HttpRequest) -> HttpResponse:
    return _tokens(request, "own")


@signed_in("viewer")
@require_POST
def own_revoke(request: HttpRequest) -> HttpResponse:
    return _revoke(request, "own")


# -- webhooks and their deliveries ------------------------------------------------------------


def _events() -> list[str]:
    from kith.webhooks.outbox import EVENTS, OPTIONAL_EVENTS

    return ["*", *EVENTS, *OPTIONAL_EVENTS]


def _webhooks_ctx(new: Form | None = None) -> dict[str, Any]:
    from kith.webhooks.selectors import list_webhooks

    return {
        "title": "Webhooks",
        "hooks": list_webhooks(),
        "events": _events(),
        "new": new or Form("webhook-new"),
    }


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "webhooks", _webhooks_ctx())
    from kith.webhooks.services import add_webhook

    data = request.POST
    form = Form("webhook-new", ("url", "events"), data)
    try:
        url = _get(data, "url", max_len=500)
        events = _getlist(data, "events", max_len=60, max_items=20)
        with transaction.atomic():
            hook, secret = add_webhook(url=url, events=events)
            _audit(request, "webhook.added", hook.url, id=hook.id, events=hook.events)
    except KithError as exc:
        status = form.fail(exc)
        return _render(request, "webhooks", _webhooks_ctx(form), status=status)
    shown = {
        "title": f"Webhook {hook.id} added",
        "label": "Signing secret (HMAC-SHA256 key for X-Kith-Signature)",
        "value": secret,
        "note": "Store it with the receiver now; it is shown only this once.",
    }
    return _render(request, "webhooks", _webhooks_ctx(), secret=shown)


def _hook_change(request: HttpRequest, change: Callable[[], str]) -> HttpResponse:
    """Run one change of a webhook; an error (a wrong id) shows on the webhooks section."""
    try:
        with transaction.atomic():
            notice = change()
    except KithError as exc:
        form = Form("webhook-new")
        status = form.fail(exc)
        return _render(request, "webhooks", _webhooks_ctx(form), status=status)
    return _done(request, "webhooks", _webhooks_ctx, notice, reverse("admin-webhooks"))


@signed_in("admin")
@require_POST
def webhook_active(request: HttpRequest, hook_id: str) -> HttpResponse:
    from kith.webhooks.services import change_webhook

    active = request.POST.get("active") == "1"

    def change() -> str:
        hook = change_webhook(hook_id=hook_id, active=active)
        _audit(request, "webhook.changed", hook.url, id=hook.id, active=active)
        return f"Webhook {hook.id} {'enabled' if active else 'disabled'}."

    return _hook_change(request, change)


@signed_in("admin")
@require_POST
def webhook_delete(request: HttpRequest, hook_id: str) -> HttpResponse:
    from kith.webhooks.services import delete_webhook, get_webhook

    def change() -> str:
        url = get_webhook(hook_id).url
        delete_webhook(hook_id=hook_id)
        _audit(request, "webhook.deleted", url, id=hook_id)
        return f"Webhook {hook_id} deleted with its deliveries."

    return _hook_change(request, change)


def _deliveries_ctx(hook_id: str, query: QueryDict) -> tuple[dict[str, Any], int]:
    from kith.webhooks.selectors import deliveries_page, webhook_view
    from kith.webhooks.services import get_webhook

    hook = webhook_view(get_webhook(hook_id))
    form = Form("deliveries", ("status",), query)
    items: list[dict[str, Any]] = []
    nxt, status = None, 200
    try:
        state = _get(query, "status", max_len=10)
        if state not in ("", "pending", "delivered", "failed"):
            raise ValidationError(
                f"status: {state!r} is not pending, delivered or failed", field="status"
            )
        cursor = _get(query, "cursor", max_len=500) or None
        items, nxt = deliveries_page(
            hook_id=hook["id"], status=state or None, cursor=cursor, limit=DELIVERY_PAGE
        )
    except KithError as exc:
        status = form.fail(exc)
    for d in items:
        d["payload_text"] = json.dumps(d["payload"], indent=2, sort_keys=True, ensure_ascii=False)
    ctx = {
        "title": f"Deliveries to {hook['url']}",
        "hook": hook,
        "deliveries": items,
        "next": nxt,
        "form": form,
    }
    return ctx, status


@signed_in("admin")
@require_http_methods(["GET"])
def deliveries(request: HttpRequest, hook_id: str) -> HttpResponse:
    ctx, status = _deliveries_ctx(hook_id, request.GET)
    return _render(request, "deliveries", ctx, status=status)


@signed_in("admin")
@require_POST
def redeliver(request: HttpRequest, delivery_id: str) -> HttpResponse:
    from kith.webhooks.services import redeliver as again

    with transaction.atomic():
        d = again(delivery_id=delivery_id)
        _audit(request, "delivery.redelivered", d.webhook_id, delivery=d.id, event=d.event)
    hook_id = d.webhook_id
    return _done(
        request,
        "deliveries",
        lambda: _deliveries_ctx(hook_id, QueryDict())[0],
        f"Delivery {d.id} is queued to be sent again now.",
        reverse("admin-webhook", args=[hook_id]),
    )


# -- audit log --------------------------------------------------------------------------------


@signed_in("admin")
@require_http_methods(["GET"])
def audit_log(request: HttpRequest) -> HttpResponse:
    from kith.accounts.selectors import audit_page
    from kith.core.parse import local_zone, parse_date

    form = Form("audit", ("action", "actor", "since"), request.GET)
    items: list[dict[str, Any]] = []
    nxt, status = None, 200
    try:
        action = _get(request.GET, "action", max_len=40) or None
        actor = _get(request.GET, "actor", max_len=254) or None
        day = parse_date(_get(request.GET, "since", max_len=20), field="since")
        since = dt.datetime.combine(day, dt.time(), tzinfo=local_zone()) if day else None
        cursor = _get(request.GET, "cursor", max_len=500) or None
        items, nxt = audit_page(
            action=action, actor=actor, since=since, cursor=cursor, limit=AUDIT_PAGE
        )
    except KithError as exc:
        status = form.fail(exc)
    for e in items:
        e["detail_text"] = ", ".join(f"{k}={_plain(v)}" for k, v in sorted(e["detail"].items()))
    ctx = {
        "title": "Audit log",
        "events": items,
        "next": nxt,
        "form": form,
        "actions": AUDIT_ACTIONS,
    }
    return _render(request, "audit", ctx, status=status)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


urlpatterns = [
    path("admin", overview, name="admin-home"),
    path("admin/types", types_page, name="admin-types"),
    path("admin/types/<str:key>/fields", add_field, name="admin-type-field"),
    path("admin/relationship-types", reltypes_page, name="admin-reltypes"),
    path("admin/users", users_page, name="admin-users"),
    path("admin/users/change", change_user, name="admin-user-change"),
    path("admin/users/disable", disable_user, name="admin-user-disable"),
    path("admin/users/enable", enable_user, name="admin-user-enable"),
    path("admin/users/password", reset_password, name="admin-user-password"),
    path("admin/tokens", admin_tokens, name="admin-tokens"),
    path("admin/tokens/revoke", admin_revoke, name="admin-token-revoke"),
    path("account/tokens", own_tokens, name="account-tokens"),
    path("account/tokens/revoke", own_revoke, name="account-token-revoke"),
    path("admin/webhooks", webhooks_page, name="admin-webhooks"),
    path("admin/webhooks/<str:hook_id>", deliveries, name="admin-webhook"),
    path("admin/webhooks/<str:hook_id>/active", webhook_active, name="admin-webhook-active"),
    path("admin/webhooks/<str:hook_id>/delete", webhook_delete, name="admin-webhook-delete"),
    path("admin/deliveries/<str:delivery_id>/redeliver", redeliver, name="admin-redeliver"),
    path("admin/audit", audit_log, name="admin-audit"),
]
