"""CLI for users and API tokens: ``kith user ...`` and ``kith token ...``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

user_app = typer.Typer(help="Users of the Kith server.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)

Email = Annotated[str, typer.Argument(help="The user's email address.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def _read_password(from_stdin: bool, *, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=confirm))


@user_app.command("add")
def user_add(
    email: Email,
    role: Annotated[str, typer.Option("--role", help="admin, member or viewer.")] = "member",
    team: Annotated[
        str | None, typer.Option("--team", help="sales, marketing, support ...")
    ] = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a user; without --password-stdin a one-time password is printed once."""
    open_workspace()
    from kith.accounts.selectors import user_view
    from kith.accounts.services import add_user

    password = _read_password(True) if password_stdin else None
    user, generated = add_user(email=email, role=role, team=team, password=password)
    view = {**user_view(user), "password": generated}

    def render(v: dict[str, Any]) -> None:
        say(f"added {v['role']} {v['email']}" + (f" (team {v['team']})" if v["team"] else ""))
        if v["password"]:
            print(f"one-time password: {v['password']}")

    emit(view, as_json, render)


@user_app.command("passwd")
def user_passwd(
    email: Email,
    password_stdin: PasswordStdin = False,
    revoke_tokens: Annotated[
        bool, typer.Option("--revoke-tokens", help="Revoke the user's API tokens too.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set a user's password (prompted, or read from standard input); their sessions end."""
    open_workspace()
    from kith.accounts.selectors import get_user, user_view
    from kith.accounts.services import set_password

    get_user(email)  # an unknown user is an error before any password is asked for
    user = set_password(
        email=email, password=_read_password(password_stdin), revoke_tokens=revoke_tokens
    )
    emit(user_view(user), as_json, lambda v: say(f"password changed for {v['email']}"))


@user_app.command("disable")
def user_disable(email: Email, as_json: JsonOpt = False) -> None:
    """Stop a user from signing in; their sessions end and their tokens stop working."""
    open_workspace()
    from kith.accounts.selectors import user_view
    from kith.accounts.services import disable_user

    user = disable_user(email=email)
    emit(user_view(user), as_json, lambda v: say(f"disabled {v['email']}"))


@user_app.command("enable")
def user_enable(email: Email, as_json: JsonOpt = False) -> None:
    """Let a disabled user sign in again (sessions and tokens ended by disabling stay ended)."""
    open_workspace()
    from kith.accounts.selectors import user_view
    from kith.accounts.services import change_user

    user = change_user(email=email, active=True)
    emit(user_view(user), as_json, lambda v: say(f"enabled {v['email']}"))


@user_app.command("role")
def user_role(
    email: Email,
    role: Annotated[str, typer.Argument(help="admin, member or viewer.")],
    team: Annotated[str | None, typer.Option("--team", help="Change the team too.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a user's role (and team)."""
    open_workspace()
    from kith.accounts.selectors import user_view
    from kith.accounts.services import change_user

    user = change_user(email=email, role=role, team=team)
    emit(user_view(user), as_json, lambda v: say(f"{v['email']} is now {v['role']}"))


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """List users with their roles and teams."""
    open_workspace()
    from kith.accounts.selectors import list_users

    emit(
        list_users(),
        as_json,
        lambda rows: table(
            "users",
            ["email", "role", "team", "active", "last login"],
            [(u["email"], u["role"], u["team"], u["active"], u["last_login"]) for u in rows],
        ),
    )


@token_app.command("create")
def token_create(
    email: Email,
    expires: Annotated[int, typer.Option("--expires", help="Days until it expires.")] = 90,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create an API token for a user; the secret is printed once, only its hash is kept."""
    open_workspace()
    from kith.accounts.selectors import token_view
    from kith.accounts.services import create_token

    token, secret = create_token(email=email, expires_days=expires, name=name)
    view = {**token_view(token), "token": secret}

    def render(v: dict[str, Any]) -> None:
        say(f"token {v['id']} for {v['user']}, expires {v['expires_at']}")
        print(f"secret (shown once): {v['token']}")

    emit(view, as_json, render)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_...).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API token now."""
    open_workspace()
    from kith.accounts.selectors import token_view
    from kith.accounts.services import revoke_token

    token = revoke_token(token_id=token_id)
    emit(token_view(token), as_json, lambda v: say(f"revoked {v['id']} of {v['user']}"))


@token_app.command("list")
def token_list(as_json: JsonOpt = False) -> None:
    """List API tokens (never their secrets)."""
    open_workspace()
    from kith.accounts.selectors import list_tokens

    emit(
        list_tokens(),
        as_json,
        lambda rows: table(
            "tokens",
            ["id", "user", "name", "expires", "revoked", "last used"],
            [
                (t["id"], t["user"], t["name"], t["expires_at"], t["revoked_at"], t["last_used_at"])
                for t in rows
            ],
        ),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
