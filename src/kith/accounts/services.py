"""Writes of users, roles, tokens, the audit log and record ownership; one transaction each."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import OperationalError, transaction

from kith.accounts import selectors
from kith.accounts.models import ApiToken, Profile, Role, ServerSecret
from kith.accounts.throttle import release, reserve
from kith.core import clock
from kith.core.dberrors import locked, short_wait
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.ids import new_id
from kith.core.services import audit, record_change
from kith.core.viewer import Viewer
from kith.records.models import Record
from kith.records.normalize import normalize_email
from kith.records.selectors import resolve
from kith.records.services import add_record
from kith.relationships.selectors import other_end_types
from kith.relationships.services import relate

MIN_PASSWORD = 10
TEAM_MAX = 60
LOGIN_FAILURES_PER_EMAIL = 5
LOGIN_FAILURES_PER_IP = 30
LOGIN_WINDOW = 15 * 60


class SignInThrottled(Exception):
    """Too many failed sign-ins for this email or address; try again later."""


def check_credentials(*, email: str, password: str, ip: str = "") -> User | None:
    """The active user with this email and password, or None; throttles guessing.

    Each attempt first takes one of the allowed failures for this email *from this
    address* and for this address overall (one atomic upsert each, shared by every server
    process); a success gives its attempt back and clears this email's failures from this
    address. Past either limit it raises
    :class:`SignInThrottled` without checking the password. Guesses from one address never
    lock a user out of another address, and behind a proxy the address is the client's
    (``KITH_TRUSTED_PROXIES``). Every outcome goes to the audit log.
    """
    key = email.strip().lower()[:254]
    by_pair, by_ip = f"login:{key}|{ip}", f"login-ip:{ip}"
    pair_ok = reserve(by_pair, limit=LOGIN_FAILURES_PER_EMAIL, seconds=LOGIN_WINDOW)
    ip_ok = reserve(by_ip, limit=LOGIN_FAILURES_PER_IP, seconds=LOGIN_WINDOW)
    if not (pair_ok and ip_ok):
        audit("login.throttled", actor=key, target=key, ip=ip)
        raise SignInThrottled(key)
    user = authenticate(username=key, password=password)
    if user is None or not isinstance(user, User):
        audit("login.failed", actor=key, target=key, ip=ip)
        return None
    release(by_pair, seconds=LOGIN_WINDOW, everything=True)  # typos before are forgiven
    release(by_ip, seconds=LOGIN_WINDOW)
    audit("login", actor=user.username, target=user.username, ip=ip)
    return user


def note_sign_out(*, username: str, ip: str = "") -> None:
    """Record in the audit log that ``username`` signed out (web or API alike)."""
    audit("logout", actor=username, target=username, ip=ip)


def _role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in Role.values:
        raise ValidationError(
            f"role: {role!r} is not one of {', '.join(Role.values)}", field="role"
        )
    return value


def _team(team: str | None) -> str:
    value = " ".join((team or "").split()).lower()
    if len(value) > TEAM_MAX:
        raise ValidationError(f"team: longer than {TEAM_MAX} characters", field="team")
    return value


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(
            f"password: must be at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > 1000:
        raise ValidationError("password: longer than 1000 characters", field="password")
    return password


def new_password() -> str:
    """A one-time password to print once."""
    return secrets.token_urlsafe(15)


@transaction.atomic
def add_user(
    *, email: str, role: str, team: str | None = None, password: str | None = None
) -> tuple[User, str | None]:
    """Create a user; returns it and the generated password when none was given."""
    key = normalize_email(email)
    role_value = _role(role)
    team_value = _team(team)
    if User.objects.filter(username=key).exists():
        raise Conflict(f"email: user {key!r} already exists", field="email")
    generated = None
    if password is None:
        password = generated = new_password()
    _check_password(password)
    user = User.objects.create_user(username=key, email=key, password=password)
    Profile.objects.create(user=user, role=role_value, team=team_value)
    audit("user.added", target=key, detail={"role": role_value, "team": team_value})
    return user, generated


@transaction.atomic
def set_password(
    *, email: str, password: str, keep_session: str | None = None, revoke_tokens: bool = False
) -> User:
    """Replace a user's password (argon2-hashed); their other sessions end (all but
    ``keep_session``, the one that changed it), and their tokens too if asked."""
    user = selectors.get_user(email)
    user.set_password(_check_password(password))
    user.save(update_fields=["password"])
    ended = _end_sessions(user, keep=keep_session)
    revoked = _revoke_tokens(user) if revoke_tokens else 0
    audit(
        "user.password_changed",
        target=user.username,
        detail={"sessions_ended": ended, "tokens_revoked": revoked},
    )
    return user


def _session_keys() -> list[str]:
    """The keys sessions may be signed with: the server's own first (the CLI runs with
    another ``SECRET_KEY`` than ``kith serve``, which takes the shared server secret)."""
    keys = [os.environ.get("KITH_SECRET_KEY") or server_secret(), str(settings.SECRET_KEY)]
    return list(dict.fromkeys(keys))


def _end_sessions(user: User, *, keep: str | None = None) -> int:
    """Delete every live session of ``user`` but ``keep``, whichever process signed it."""
    keys, ended = _session_keys(), []
    for session in Session.objects.filter(expire_date__gt=clock.now()).iterator():
        if session.session_key == keep:
            continue
        for key in keys:
            try:
                data = signing.loads(
                    session.session_data,
                    key=key,
                    salt="django.contrib.sessions.SessionStore",
                    serializer=signing.JSONSerializer,
                )
            except signing.BadSignature:
                continue
            if str(data.get("_auth_user_id")) == str(user.pk):
                ended.append(session.session_key)
            break
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def _revoke_tokens(user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


@transaction.atomic
def disable_user(*, email: str) -> User:
    """Stop a user from signing in: their sessions end and their tokens are revoked, so
    enabling them again revives neither."""
    user = selectors.get_user(email)
    if not user.is_active:
        raise Conflict(f"email: {user.username} is already disabled", field="email")
    _keep_an_admin(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    detail = {"sessions_ended": _end_sessions(user), "tokens_revoked": _revoke_tokens(user)}
    audit("user.disabled", target=user.username, detail=detail)
    return user


def _keep_an_admin(user: User) -> None:
    if selectors.role_of(user) != Role.ADMIN:
        return
    others = Profile.objects.filter(role=Role.ADMIN, user__is_active=True).exclude(user=user)
    if not others.exists():
        raise Conflict("email: cannot remove the last active admin", field="email")


@transaction.atomic
def change_user(
    *, email: str, role: str | None = None, team: str | None = None, active: bool | None = None
) -> User:
    """Change a user's role, team or active flag (a permission change, audited)."""
    user = selectors.get_user(email)
    profile, _ = Profile.objects.get_or_create(user=user)
    changes: dict[str, Any] = {}
    if role is not None and _role(role) != profile.role:
        if profile.role == Role.ADMIN:
            _keep_an_admin(user)
        changes["role"] = [profile.role, _role(role)]
        profile.role = _role(role)
    if team is not None and _team(team) != profile.team:
        changes["team"] = [profile.team, _team(team)]
        profile.team = _team(team)
    if active is not None and active != user.is_active:
        if not active:
            _keep_an_admin(user)
        changes["active"] = [user.is_active, active]
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:  # as disable_user: nothing of theirs works when re-enabled
            changes["sessions_ended"] = _end_sessions(user)
            changes["tokens_revoked"] = _revoke_tokens(user)
    if changes:
        profile.save(update_fields=["role", "team"])
        audit("user.changed", target=user.username, detail=changes)
    user._kith_profile_cache = profile  # type: ignore[attr-defined]
    return user


@transaction.atomic
def create_token(
    *, email: str, expires_days: int | None = 90, name: str = ""
) -> tuple[ApiToken, str]:
    """Issue a personal API token; the secret is returned once and only its hash kept."""
    user = selectors.get_user(email)
    if not user.is_active:
        raise ValidationError(f"email: {user.username} is disabled", field="email")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ValidationError("expires: must be between 1 and 3650 days", field="expires")
    secret = "kith_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        id=new_id("tok"),
        user=user,
        digest=selectors.digest(secret),
        name=(name or "")[:100],
        expires_at=clock.now() + dt.timedelta(days=expires_days) if expires_days else None,
    )
    audit("token.created", target=user.username, detail={"token": token.id})
    return token, secret


@transaction.atomic
def revoke_token(*, token_id: str, by: User | None = None) -> ApiToken:
    """Revoke a token now; ``by`` (when given and not an admin) must own it."""
    token = ApiToken.objects.select_related("user").filter(pk=(token_id or "").strip()).first()
    if token is None or (by is not None and not selectors.is_admin(by) and token.user_id != by.pk):
        raise NotFound(f"id: no token {token_id!r}", field="id")
    if token.revoked_at is not None:
        raise Conflict(f"id: token {token.id} is already revoked", field="id")
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    audit("token.revoked", target=token.user.username, detail={"token": token.id})
    return token


def note_token_use(token: ApiToken, *, ip: str = "") -> None:
    """Record that a token was used: at most once a minute per token (audit + last use)."""
    now = clock.now()
    if token.last_used_at is not None and now - token.last_used_at < dt.timedelta(minutes=1):
        return
    try:
        with short_wait(), transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            audit("token.used", actor=token.user.username, target=token.id, ip=ip)
    except OperationalError as exc:
        if not locked(exc):
            raise
        return  # an import holds SQLite's write lock: noted on a later use, not waited for
    token.last_used_at = now


@transaction.atomic
def ensure_first_admin(*, email: str = "admin@kith.local") -> tuple[User, str] | None:
    """Create the first admin when there are no users; returns it and a one-time password."""
    if User.objects.exists():
        return None
    user, password = add_user(email=email, role=Role.ADMIN)
    assert password is not None
    return user, password


@transaction.atomic
def reset_demo_admin(*, email: str, remembered: str | None = None) -> tuple[str, str]:
    """Create ``email`` as an active admin, or give it a new password; returns the sign-in.

    ``remembered``: the password printed at the last start; while it still signs this
    active admin in, it is kept (a restart of the demo signs nobody out)."""
    key = normalize_email(email)
    user = User.objects.filter(username=key).first()
    if (
        user is not None
        and remembered
        and user.is_active
        and selectors.is_admin(user)
        and user.check_password(remembered)
    ):
        return key, remembered
    if user is None:
        user, password = add_user(email=key, role=Role.ADMIN)
        assert password is not None
        return user.username, password
    password = new_password()
    set_password(email=key, password=password)
    change_user(email=key, role=Role.ADMIN, active=True)
    return key, password


def server_secret() -> str:
    """The signing key every server process shares, created on first use."""
    row = ServerSecret.objects.filter(pk=1).first()
    if row is None:
        with transaction.atomic():
            ServerSecret.objects.get_or_create(pk=1, defaults={"value": secrets.token_urlsafe(50)})
        row = ServerSecret.objects.get(pk=1)
    return row.value


# -- ownership and privacy of records ---------------------------------------------------------


@transaction.atomic
def add_owned_record(*, user: User, private: bool = False, **kwargs: Any) -> Record:
    """Create a record (see ``add_record``) owned by ``user``, optionally private."""
    record = add_record(by=selectors.viewer_of(user), **kwargs)
    Record.objects.filter(pk=record.pk).update(owner=user, private=private)
    record.owner_id, record.private = user.pk, private
    if private:
        record_change(
            entity_id=record.id,
            entity_kind="record",
            action="update",
            field="private",
            old=False,
            new=True,
        )
    return record


@transaction.atomic
def set_private(*, record: Record, private: bool, user: User) -> Record:
    """Make a record private to its owner (taking ownership if it had none) or shared.

    Refused while records that others see are merged into it: that would hide them (the
    rule ``kith.dedupe.services`` applies to merges).
    """
    if record.private == private:
        return record
    owner_id = record.owner_id or user.pk
    if private:
        absorbed = (
            Record.objects.filter(merged_into=record.id)
            .exclude(private=True, owner_id=owner_id)
            .order_by("id")
            .first()
        )
        if absorbed is not None:
            raise Conflict(
                f"private: {absorbed.name} ({absorbed.id}) was merged into {record.name} "
                f"({record.id}) and others see it; making {record.id} private would hide it "
                "(undo that merge first)",
                field="private",
            )
    Record.objects.filter(pk=record.pk).update(private=private, owner_id=owner_id)
    record_change(
        entity_id=record.id,
        entity_kind="record",
        action="update",
        field="private",
        old=record.private,
        new=private,
    )
    record.private, record.owner_id = private, owner_id
    return record


@transaction.atomic
def set_owner(*, records: list[Record], owner: User | None, by: Viewer) -> int:
    """Make ``owner`` (or nobody) the owner of each of ``records``; how many changed.

    A private record stays private and goes to its new owner, so only an admin may give a
    private record away (it would vanish from the sight of the one who did); a private
    record cannot be left without an owner.
    """
    changed = 0
    new_id = owner.pk if owner is not None else None
    for record in records:
        if record.owner_id == new_id:
            continue
        if record.private and not by.sees_everything:
            raise Conflict(
                f"owner: {record.name} ({record.id}) is private; only an admin can give it away",
                field="owner",
            )
        if record.private and owner is None:
            raise ValidationError(
                f"owner: {record.name} ({record.id}) is private and needs an owner", field="owner"
            )
        Record.objects.filter(pk=record.pk).update(owner_id=new_id)
        old = record.owner.get_username() if record.owner_id and record.owner else None
        record_change(
            entity_id=record.id,
            entity_kind="record",
            action="update",
            field="owner",
            old=old,
            new=owner.get_username() if owner is not None else None,
        )
        record.owner_id = new_id
        changed += 1
    return changed


@dataclasses.dataclass(frozen=True)
class Link:
    """A relationship a new record starts with: ``new TYPE other`` (``new_first``) or
    ``other TYPE new``; ``field`` names the form control an error is about."""

    type: str
    other: str
    role: str = ""
    new_first: bool = True
    field: str = "other"


@transaction.atomic
def create_record(
    *,
    user: User,
    type_key: str,
    name: str,
    private: bool = False,
    fields: dict[str, Any] | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    domains: list[str] | None = None,
    links: list[Link] | None = None,
    create_missing: bool = False,
) -> tuple[Record, list[Record]]:
    """Create a record owned by ``user`` with its first relationships (a person at two
    organisations), all or nothing; returns it and the records made on the way.

    A link's other end is found as ``user`` may see it; with ``create_missing`` one that
    is not found is created by that name when the relationship type says what it is
    (``works_at``: an organisation), else the error names the link's field.
    """
    viewer = selectors.viewer_of(user)
    record = add_owned_record(
        user=user,
        private=private,
        type_key=type_key,
        name=name,
        fields=fields or {},
        emails=emails or [],
        phones=phones or [],
        domains=domains or [],
    )
    made: list[Record] = []
    for link in links or []:
        try:
            other = resolve(viewer, link.other, field=link.field)
        except NotFound:
            kinds = other_end_types(link.type, record.type_id) if link.new_first else None
            if not create_missing or not kinds or len(kinds) != 1:
                raise
            other = add_owned_record(user=user, type_key=kinds[0], name=link.other)
            made.append(other)
        a, b = (record, other) if link.new_first else (other, record)
        relate(
            a=a.id,
            type_name=link.type,
            b=b.id,
            role=link.role,
            source="web",
            a_field="type",
            b_field=link.field,
        )
    return record, made
