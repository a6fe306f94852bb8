"""JSON API for signing in, users, API tokens and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import login as start_session
from django.contrib.auth import logout as end_session
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Query, Router, Schema, Status
from ninja.errors import AuthenticationError, Throttled
from pydantic import Field

from kith.accounts.selectors import audit_page, get_user, is_admin, token_view, user_view
from kith.accounts.selectors import list_tokens as tokens
from kith.accounts.selectors import list_users as users
from kith.accounts.services import LOGIN_WINDOW, SignInThrottled, check_credentials, note_sign_out
from kith.accounts.services import add_user as add
from kith.accounts.services import change_user as change
from kith.accounts.services import create_token as create
from kith.accounts.services import revoke_token as revoke
from kith.accounts.services import set_password as set_pw
from kith.server.auth import Forbidden, acting, client_ip, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut

router = Router(tags=["accounts"])


class LoginIn(Schema):
    email: str = Field(..., max_length=320)
    password: str = Field(..., max_length=1000)


class CsrfOut(Schema):
    csrf_token: str


class OkOut(Schema):
    ok: bool


class UserOut(Schema):
    id: int
    email: str
    role: str | None = None
    team: str | None = None
    active: bool
    last_login: str | None = None


class MeOut(UserOut):
    csrf_token: str | None = None


class UserIn(Schema):
    email: str = Field(..., max_length=320)
    role: str = Field("member", description="admin, member or viewer")
    team: str | None = Field(None, max_length=60)
    password: str | None = Field(None, max_length=1000, description="Omit to generate one")


class UserCreated(UserOut):
    password: str | None = Field(None, description="The generated password, shown once")


class UserPatch(Schema):
    role: str | None = None
    team: str | None = Field(None, max_length=60)
    active: bool | None = None


class PasswordIn(Schema):
    password: str = Field(..., max_length=1000)
    revoke_tokens: bool = Field(False, description="Revoke the user's API tokens too")


class TokenIn(Schema):
    name: str = Field("", max_length=100)
    expires_days: int | None = Field(90, ge=1, le=3650, description="null: never expires")


class TokenOut(Schema):
    id: str
    user: str
    name: str
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None


class TokenCreated(TokenOut):
    token: str = Field(..., description="The secret, shown once: send Authorization: Bearer")


class AuditOut(Schema):
    id: int
    at: str
    actor: str
    action: str
    target: str
    ip: str
    detail: dict[str, Any]


class AuditPage(Schema):
    items: list[AuditOut]
    next_cursor: str | None = None


class AuditFilters(Schema):
    action: str | None = Field(None, max_length=40)
    actor: str | None = Field(None, max_length=254)
    since: dt.datetime | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(100, ge=1, le=500)


@router.get("/auth/csrf", auth=None, response={200: CsrfOut, 429: ErrorOut})
def csrf(request: HttpRequest) -> Any:
    """A CSRF token (also set as a cookie) for cookie-authenticated writes."""
    return {"csrf_token": get_token(request)}


@router.post(
    "/auth/login",
    auth=None,
    response={
        200: MeOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
)
def login(request: HttpRequest, payload: LoginIn) -> Any:
    """Sign in with email and password: starts a session (HttpOnly cookie)."""
    # Login CSRF: a cross-site page can POST text/plain or a form without asking, but not
    # JSON; and a browser names the page's origin, which must be this server's.
    if request.content_type != "application/json":
        raise Forbidden("sign in with a JSON body (Content-Type: application/json)")
    origin = request.headers.get("Origin")
    if origin and origin != f"{request.scheme}://{request.get_host()}":
        raise Forbidden(f"sign-in from another site ({origin[:80]}) is refused")
    try:
        user = check_credentials(
            email=payload.email, password=payload.password, ip=client_ip(request)
        )
    except SignInThrottled:
        raise Throttled(wait=LOGIN_WINDOW) from None
    if user is None:
        raise AuthenticationError()
    start_session(request, user)
    return {**user_view(user), "csrf_token": get_token(request)}


@router.post("/auth/logout", response={200: OkOut, **READ_ERRORS})
def logout(request: HttpRequest) -> Any:
    """End the session."""
    user = require(request, "viewer")
    note_sign_out(username=user.username, ip=client_ip(request))
    end_session(request)
    return {"ok": True}


@router.get("/auth/me", response={200: UserOut, **READ_ERRORS})
def me(request: HttpRequest) -> Any:
    """Who you are: email, role and team."""
    return user_view(require(request, "viewer"))


@router.get("/users", response={200: list[UserOut], **READ_ERRORS})
def list_users(request: HttpRequest) -> Any:
    """Every user with role and team (admins)."""
    require(request, "admin")
    return users()


@router.post("/users", response={201: UserCreated, **WRITE_ERRORS})
def add_user(request: HttpRequest, payload: UserIn) -> Any:
    """Add a user (admins); without a password, a one-time password is generated."""
    with acting(request, "admin"):
        user, generated = add(
            email=payload.email, role=payload.role, team=payload.team, password=payload.password
        )
    return Status(201, {**user_view(user), "password": generated})


@router.patch("/users/{email}", response={200: UserOut, **WRITE_ERRORS})
def change_user(request: HttpRequest, email: str, payload: UserPatch) -> Any:
    """Change a user's role, team or active flag (admins; audited)."""
    with acting(request, "admin"):
        user = change(email=email, role=payload.role, team=payload.team, active=payload.active)
    return user_view(user)


@router.post("/users/{email}/password", response={200: UserOut, **WRITE_ERRORS})
def set_password(request: HttpRequest, email: str, payload: PasswordIn) -> Any:
    """Set a password: your own, or anyone's as an admin. The user's other sessions end
    (not the one asking); ``revoke_tokens`` revokes their API tokens too."""
    with acting(request, "viewer") as caller:
        own = email.strip().lower() == caller.username
        if not own and not is_admin(caller):  # before any lookup: a 404 would tell who exists
            raise Forbidden("only admins can set another user's password")
        target = get_user(email)
        session = request.session.session_key if own and hasattr(request, "session") else None
        user = set_pw(
            email=target.username,
            password=payload.password,
            keep_session=session,
            revoke_tokens=payload.revoke_tokens,
        )
        if session:  # this session stays signed in with the new password
            update_session_auth_hash(request, user)
    return user_view(user)


@router.get("/tokens", response={200: list[TokenOut], **READ_ERRORS})
def list_tokens(request: HttpRequest, all: bool = False) -> Any:
    """Your API tokens (admins: ``all=true`` for everyone's)."""
    user = require(request, "viewer")
    return tokens(None if all and is_admin(user) else user)


@router.post("/tokens", response={201: TokenCreated, **WRITE_ERRORS})
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    """Create a personal API token for yourself; the secret is shown once."""
    with acting(request, "viewer") as user:
        token, secret = create(
            email=user.username, expires_days=payload.expires_days, name=payload.name
        )
    return Status(201, {**token_view(token), "token": secret})


@router.delete("/tokens/{token_id}", response={200: TokenOut, **WRITE_ERRORS})
def revoke_token(request: HttpRequest, token_id: str) -> Any:
    """Revoke one of your tokens (admins: anyone's)."""
    with acting(request, "viewer") as user:
        token = revoke(token_id=token_id, by=user)
    return token_view(token)


@router.get("/audit", response={200: AuditPage, **READ_ERRORS})
def audit_log(request: HttpRequest, filters: Query[AuditFilters]) -> Any:
    """The audit log, newest first: logins, token use, exports, permission changes (admins)."""
    require(request, "admin")
    items, nxt = audit_page(
        action=filters.action,
        actor=filters.actor,
        since=filters.since,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": items, "next_cursor": nxt}
