"""Admin: users and teams; API tokens (everyone's for admins, your own for anyone)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kith.accounts.selectors import list_tokens, list_users
from kith.accounts.services import add_user, create_token, new_password, revoke_token, set_password
from kith.accounts.services import change_user as change
from kith.accounts.services import disable_user as disable
from kith.core import clock
from kith.core.errors import KithError, ValidationError
from kith.web.views.admin.forms import (
    ROLES,
    Form,
    done,
    get_text,
    message,
    render,
)
from kith.web.views.base import signed_in

# -- users and teams --------------------------------------------------------------------------


def _users_ctx(new: Form | None = None, row: Form | None = None) -> dict[str, Any]:
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
    email = get_text(data, "email", max_len=150)  # Django's username holds 150 characters
    if not email:
        raise ValidationError("email: enter the user's email address", field="email")
    return email


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def users_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "users", _users_ctx())

    data = request.POST
    form = Form("user-new", ("email", "role", "team"), data)
    try:
        user, password = add_user(
            email=_email(data),
            role=get_text(data, "role", max_len=10),
            team=get_text(data, "team", max_len=60) or None,
        )
    except KithError as exc:
        status = form.fail(exc)
        return render(request, "users", _users_ctx(new=form), status=status)
    secret = {
        "title": f"User {user.username} added",
        "label": f"One-time password for {user.username}",
        "value": password or "",
        "note": "Give it to them privately; it is shown only this once.",
    }
    return render(request, "users", _users_ctx(), secret=secret)


def _user_action(request: HttpRequest, act: Callable[[str], str | dict[str, str]]) -> HttpResponse:
    """Run ``act(email)`` for one user row; errors show on that row."""
    row = Form("user-row", ("role", "team"), request.POST)
    try:
        email = _email(request.POST)
        result = act(email)
    except KithError as exc:
        status = row.fail(exc)
        ctx = _users_ctx(row=row)
        if row.value("email") not in ctx["rows"]:
            ctx["new"].errors["__all__"] = message(exc)
        return render(request, "users", ctx, status=status)
    if isinstance(result, dict):
        return render(request, "users", _users_ctx(), secret=result)
    return done(request, "users", _users_ctx, result, reverse("admin-users"))


@signed_in("admin")
@require_POST
def change_user(request: HttpRequest) -> HttpResponse:
    def act(email: str) -> str:
        role = get_text(request.POST, "role", max_len=10) or None
        team = get_text(request.POST, "team", max_len=60) if "team" in request.POST else None
        user = change(email=email, role=role, team=team)
        return f"Saved {user.username}."

    return _user_action(request, act)


@signed_in("admin")
@require_POST
def disable_user(request: HttpRequest) -> HttpResponse:
    return _user_action(request, lambda email: f"Disabled {disable(email=email).username}.")


@signed_in("admin")
@require_POST
def enable_user(request: HttpRequest) -> HttpResponse:
    return _user_action(
        request, lambda email: f"Enabled {change(email=email, active=True).username}."
    )


@signed_in("admin")
@require_POST
def reset_password(request: HttpRequest) -> HttpResponse:
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


def token_state(token: Mapping[str, Any], now: str) -> str:
    if token["revoked_at"]:
        return "revoked"
    if token["expires_at"] and token["expires_at"] <= now:
        return "expired"
    return "live"


def _tokens_ctx(request: HttpRequest, scope: str, new: Form | None = None) -> dict[str, Any]:
    now = clock.now().isoformat()
    tokens = list_tokens(None if scope == "all" else request.user)  # type: ignore[arg-type]
    return {
        "title": "API tokens" if scope == "all" else "Your API tokens",
        "scope": scope,
        "tokens": [{**t, "state": token_state(t, now)} for t in tokens],
        "here": reverse("admin-tokens" if scope == "all" else "account-tokens"),
        "revoke_url": reverse("admin-token-revoke" if scope == "all" else "account-token-revoke"),
        "new": new or Form("token-new", values={"expires": "90"}),
    }


def _tokens(request: HttpRequest, scope: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "tokens", _tokens_ctx(request, scope))

    data = request.POST
    form = Form("token-new", ("name", "expires"), data)
    try:
        name = get_text(data, "name", max_len=100)
        days_text = get_text(data, "expires", max_len=10)
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
        return render(request, "tokens", _tokens_ctx(request, scope, form), status=status)
    shown = {
        "title": f"Token {token.name or token.id} created",
        "label": "API token (send it as Authorization: Bearer …)",
        "value": secret,
        "note": "Copy it now: Kith keeps only a hash, so it cannot be shown again.",
    }
    return render(request, "tokens", _tokens_ctx(request, scope), secret=shown)


def _revoke(request: HttpRequest, scope: str) -> HttpResponse:
    form = Form("token-new")
    try:
        token_id = get_text(request.POST, "token_id", max_len=40)
        token = revoke_token(token_id=token_id, by=request.user)  # type: ignore[arg-type]
    except KithError as exc:
        status = form.fail(exc)
        return render(request, "tokens", _tokens_ctx(request, scope, form), status=status)
    here = reverse("admin-tokens" if scope == "all" else "account-tokens")
    build = lambda: _tokens_ctx(request, scope)  # noqa: E731
    return done(request, "tokens", build, f"Revoked token {token.id}.", here)


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
