"""CLI for live capture: ``kith mail connect|sync|list|disconnect|block|unblock|key`` and
``kith calendar subscribe|sync|list|remove``."""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, console, emit, error, open_workspace, print_json, say, table

mail_app = typer.Typer(help="Capture mail from IMAP mailboxes.", no_args_is_help=True)
calendar_app = typer.Typer(help="Capture meetings from calendars.", no_args_is_help=True)

UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Whose it is (a user's email); default: the workspace's."),
]


def _owner(user: str | None) -> Any:
    from kith.accounts.selectors import get_user

    return get_user(user, field="user") if user else None


def _viewer(user: str | None) -> Any:
    from kith.accounts.selectors import viewer_of
    from kith.core.viewer import SYSTEM

    return viewer_of(_owner(user)) if user else SYSTEM


def _secret(password_stdin: bool, token_file: Path | None) -> tuple[str, str]:
    from kith.core.errors import ValidationError

    if password_stdin and token_file:
        raise ValidationError("give --password-stdin or --oauth2-token-file, not both")
    if token_file is not None:
        try:
            return token_file.read_text().strip(), "xoauth2"
        except OSError as exc:
            raise ValidationError(
                f"oauth2-token-file: cannot read {str(token_file)!r} ({exc.strerror})",
                field="oauth2-token-file",
            ) from None
    if not password_stdin:
        raise ValidationError(
            "password: give it with --password-stdin (or --oauth2-token-file)", field="password"
        )
    return sys.stdin.readline().rstrip("\r\n"), "password"


def _bar(enabled: bool) -> tuple[AbstractContextManager[Any], Any]:
    if not enabled:
        return nullcontext(), None
    from rich.progress import Progress, SpinnerColumn, TextColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("syncing {task.completed:,} messages {task.fields[rate]}/s"),
        console=console(stderr=True),
        transient=True,
    )
    task = bar.add_task("sync", total=None, rate="-")

    def tick(n: int) -> None:
        bar.advance(task, n)
        t = bar.tasks[0]
        if t.speed:
            bar.update(task, rate=f"{t.speed:,.0f}")

    return bar, tick


def mail_key(as_json: JsonOpt = False) -> None:
    """Print a new key for KITH_CAPTURE_KEY (credentials are encrypted with it)."""
    from kith.capture.secrets import new_key

    emit({"key": new_key()}, as_json, lambda d: say(d["key"]))


def mail_connect(
    url: Annotated[str, typer.Argument(help="imaps://USER@HOST[:PORT] or imap://USER@HOST")],
    folder: Annotated[
        list[str] | None, typer.Option("--folder", help="A folder to sync (repeat; INBOX).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    oauth2_token_file: Annotated[
        Path | None, typer.Option("--oauth2-token-file", help="An OAuth2 token (XOAUTH2).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only mail of the last N days (180d).")
    ] = None,
    headers_only: Annotated[
        bool, typer.Option("--headers-only", help="Keep no bodies (metadata only).")
    ] = False,
    skip_personal: Annotated[
        bool, typer.Option("--skip-personal", help="Leave out personal (free-mail) addresses.")
    ] = False,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Log in first.")] = True,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Connect an IMAP mailbox (the secret is stored encrypted with KITH_CAPTURE_KEY)."""
    open_workspace()
    from kith.capture.mail_services import connect_account
    from kith.capture.selectors import mail_accounts

    secret, auth = _secret(password_stdin, oauth2_token_file)
    account = connect_account(
        url=url, secret=secret, owner=_owner(user), folders=folder or [], since=since,
        headers_only=headers_only, auth=auth, skip_personal=skip_personal, check=check,
    )  # fmt: skip
    view = next(a for a in mail_accounts(_viewer(user)) if a["id"] == account.id)
    emit(
        view, as_json, lambda v: say(f"connected {v['id']} {v['url']} ({', '.join(v['folders'])})")
    )


def _render_sync(report: dict[str, Any]) -> None:
    c = report.get("counts", {})
    say(
        f"{report['account']}: {c.get('messages', 0):,} messages read, "
        f"{c.get('interactions_created', 0):,} new interactions, "
        f"{c.get('interactions_already_there', 0):,} already there in {report['seconds']} s"
    )
    for f in report.get("folders", []):
        state = "up to date" if f.get("up_to_date") else f"{f['new']:,} new"
        say(
            f"  {f['folder']}: {state}"
            + (" (UIDVALIDITY changed: read again)" if f["reset"] else "")
        )
    for bad in report.get("bad", []):
        say(f"  skipped {bad}")


def mail_sync(
    account: Annotated[
        str | None, typer.Argument(help="An account id or URL (default all).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then stop.")] = False,
    every: Annotated[int, typer.Option("--every", help="Seconds between passes.")] = 300,
    limit: Annotated[int | None, typer.Option("--limit", help="At most N messages.")] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sync mailboxes now, then again every --every seconds until stopped (one account:
    as soon as its server announces new mail, by IDLE), or --once."""
    open_workspace()
    from kith.capture.imap import MailError
    from kith.capture.mail_services import account_for, sync_account, wait_for_mail
    from kith.capture.models import MailAccount
    from kith.core.errors import ValidationError

    if every < 10 or every > 86_400:
        raise ValidationError(f"every: {every} is not 10-86400 seconds", field="every")
    if limit is not None and limit < 1:
        raise ValidationError(f"limit: {limit} is not a positive number", field="limit")
    viewer = _viewer(user)
    failed = False
    while True:
        if account:
            accounts = [account_for(account, viewer)]
        else:
            qs = MailAccount.objects.order_by("id")
            accounts = list(qs if viewer.sees_everything else qs.filter(owner_id=viewer.user_id))
        reports: list[dict[str, Any]] = []
        for acc in accounts:
            bar, tick = _bar(not as_json and sys.stderr.isatty())
            try:
                with bar:
                    reports.append(sync_account(account=acc, limit=limit, progress=tick))
            except MailError as exc:
                failed = True
                reports.append({"account": acc.id, "url": acc.url, "error": exc.message})
        if as_json:
            print_json({"accounts": reports})
        else:
            for r in reports:
                if "error" in r:
                    say(f"{r['account']}: error: {r['error']}")
                else:
                    _render_sync(r)
        if once:
            break
        if len(accounts) == 1 and not failed:  # new mail wakes it at once (IDLE)
            wait_for_mail(account=accounts[0], timeout=every)
        else:
            time.sleep(every)
    if failed:
        error("some accounts failed to sync (see above; kith mail list shows their status)")


def mail_list(user: UserOpt = None, as_json: JsonOpt = False) -> None:
    """List mail accounts with their sync status."""
    open_workspace()
    from kith.capture.selectors import mail_accounts

    items = mail_accounts(_viewer(user))

    def render(d: dict[str, Any]) -> None:
        if not d["accounts"]:
            say("no mail accounts (kith mail connect imaps://USER@HOST)")
            return
        table(
            None,
            ["id", "url", "folders", "status", "last sync", "messages", "error"],
            [
                [a["id"], a["url"], ", ".join(a["folders"]), a["status"],
                 (a["last_sync_at"] or "")[:16].replace("T", " "),
                 sum(p["messages"] for p in a["positions"]), a["error"]]
                for a in d["accounts"]
            ],
        )  # fmt: skip

    emit({"accounts": items}, as_json, render)


def mail_disconnect(
    account: Annotated[str, typer.Argument(help="An account id or URL.")],
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disconnect a mailbox and forget its secret (what it captured stays)."""
    open_workspace()
    from kith.capture.mail_services import account_for, disconnect_account

    acc = account_for(account, _viewer(user))
    data = {"disconnected": acc.id, "url": acc.url}
    disconnect_account(account=acc)
    emit(data, as_json, lambda d: say(f"disconnected {d['disconnected']} {d['url']}"))


def mail_block(
    value: Annotated[str, typer.Argument(help="An address or a domain never to capture.")],
    as_json: JsonOpt = False,
) -> None:
    """Never capture mail from or to an address or a domain."""
    open_workspace()
    from kith.capture.mail_services import block

    b = block(value=value, by="cli")
    emit(
        {"kind": b.kind, "value": b.value},
        as_json,
        lambda d: say(f"blocked {d['kind']} {d['value']}"),
    )


def mail_unblock(
    value: Annotated[str, typer.Argument(help="A blocked address or domain.")],
    as_json: JsonOpt = False,
) -> None:
    """Capture an address or domain again."""
    open_workspace()
    from kith.capture.mail_services import unblock

    unblock(value=value)
    emit({"unblocked": value}, as_json, lambda d: say(f"unblocked {d['unblocked']}"))


def mail_blocks(as_json: JsonOpt = False) -> None:
    """List blocked addresses and domains."""
    open_workspace()
    from kith.capture.selectors import blocks
    from kith.core.viewer import SYSTEM

    items = blocks(SYSTEM)

    def render(d: dict[str, Any]) -> None:
        table(None, ["kind", "value"], [[b["kind"], b["value"]] for b in d["blocks"]])

    emit({"blocks": items}, as_json, render)


def calendar_subscribe(
    url: Annotated[str, typer.Argument(help="A published ICS feed (https:// or webcal://).")],
    username: Annotated[str, typer.Option("--username", help="For a protected feed.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    window: Annotated[int, typer.Option("--window", help="Days ahead to expand.")] = 90,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe to an ICS feed: its meetings are captured at each sync."""
    open_workspace()
    from kith.capture.calendar_services import subscribe
    from kith.capture.selectors import calendars

    secret = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""
    cal = subscribe(url=url, owner=_owner(user), username=username, secret=secret,
                    window_days=window)  # fmt: skip
    view = next(c for c in calendars(_viewer(user)) if c["id"] == cal.id)
    emit(view, as_json, lambda v: say(f"subscribed {v['id']} {v['url']}"))


def calendar_connect(
    url: Annotated[str, typer.Argument(help="A CalDAV server, principal or calendar URL.")],
    username: Annotated[str, typer.Option("--username", help="The user to sign in as.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    window: Annotated[int, typer.Option("--window", help="Days ahead to expand.")] = 90,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Connect the calendars of a CalDAV account (found by discovery)."""
    open_workspace()
    from kith.capture.calendar_services import connect_caldav
    from kith.capture.selectors import calendars

    secret = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""
    made = connect_caldav(url=url, username=username, secret=secret, owner=_owner(user),
                          window_days=window)  # fmt: skip
    ids = {c.id for c in made}
    views = [c for c in calendars(_viewer(user)) if c["id"] in ids]

    def render(d: dict[str, Any]) -> None:
        for c in d["calendars"]:
            say(f"connected {c['id']} {c['url']}")

    emit({"calendars": views}, as_json, render)


def calendar_sync(
    calendar: Annotated[str | None, typer.Argument(help="A calendar id or URL.")] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then stop.")] = False,
    every: Annotated[int, typer.Option("--every", help="Seconds between passes.")] = 300,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sync calendars now (every --every seconds until stopped, or --once)."""
    open_workspace()
    from kith.capture.calendar_services import calendar_for, sync_calendar
    from kith.capture.imap import MailError
    from kith.capture.models import Calendar

    viewer = _viewer(user)
    failed = False
    while True:
        if calendar:
            cals = [calendar_for(calendar, viewer)]
        else:
            qs = Calendar.objects.order_by("id")
            cals = list(qs if viewer.sees_everything else qs.filter(owner_id=viewer.user_id))
        reports: list[dict[str, Any]] = []
        for cal in cals:
            try:
                reports.append(sync_calendar(calendar=cal))
            except MailError as exc:
                failed = True
                reports.append({"calendar": cal.id, "error": exc.message})

        def render(d: dict[str, Any]) -> None:
            for r in d["calendars"]:
                if "error" in r:
                    say(f"{r['calendar']}: error: {r['error']}")
                elif r["unchanged"]:
                    say(f"{r['calendar']}: unchanged (not modified)")
                else:
                    say(
                        f"{r['calendar']}: " + ", ".join(f"{k} {v}" for k, v in r["counts"].items())
                    )

        emit({"calendars": reports}, as_json, render)
        if once:
            break
        time.sleep(every)
    if failed:
        error("some calendars failed to sync (kith calendar list shows their status)")


def calendar_list(user: UserOpt = None, as_json: JsonOpt = False) -> None:
    """List calendars with their sync status."""
    open_workspace()
    from kith.capture.selectors import calendars

    items = calendars(_viewer(user))
    emit({"calendars": items}, as_json, lambda d: table(
        None, ["id", "kind", "url", "status", "last sync", "events", "error"],
        [[c["id"], c["kind"], c["url"], c["status"], (c["last_sync_at"] or "")[:16], c["events"],
          c["error"]] for c in d["calendars"]],
    ))  # fmt: skip


def calendar_remove(
    calendar: Annotated[str, typer.Argument(help="A calendar id or URL.")],
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop capturing a calendar (its meetings stay)."""
    open_workspace()
    from kith.capture.calendar_services import calendar_for, unsubscribe

    cal = calendar_for(calendar, _viewer(user))
    data = {"removed": cal.id, "url": cal.url}
    unsubscribe(calendar=cal)
    emit(data, as_json, lambda d: say(f"removed {d['removed']} {d['url']}"))


def register(app: typer.Typer) -> None:
    mail_app.command("key")(mail_key)
    mail_app.command("connect")(mail_connect)
    mail_app.command("sync")(mail_sync)
    mail_app.command("list")(mail_list)
    mail_app.command("disconnect")(mail_disconnect)
    mail_app.command("block")(mail_block)
    mail_app.command("unblock")(mail_unblock)
    mail_app.command("blocks")(mail_blocks)
    calendar_app.command("subscribe")(calendar_subscribe)
    calendar_app.command("connect")(calendar_connect)
    calendar_app.command("sync")(calendar_sync)
    calendar_app.command("list")(calendar_list)
    calendar_app.command("remove")(calendar_remove)
    app.add_typer(mail_app, name="mail")
    app.add_typer(calendar_app, name="calendar")
