"""CLI for notifications: ``kith notifications --user EMAIL [--unread] [--json]``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

UserOpt = Annotated[
    str, typer.Option("--user", help="Whose notifications (their email).", show_default=False)
]


def cmd_notifications(
    user: UserOpt,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread ones.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    read_all: Annotated[bool, typer.Option("--read-all", help="Then mark them all read.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List a user's notifications, newest first (and mark them read with --read-all)."""
    open_workspace()
    from kith.accounts.selectors import get_user, viewer_of
    from kith.notifications.selectors import notifications_page, unread_count
    from kith.notifications.services import mark_all_read

    viewer = viewer_of(get_user(user, field="user"))
    items, _ = notifications_page(viewer, unread=unread, limit=limit)
    data = {"items": items, "unread": unread_count(viewer)}
    if read_all:
        data["marked_read"] = mark_all_read(viewer=viewer)

    def render(d: dict[str, Any]) -> None:
        say(f"{d['unread']} unread")
        if d["items"]:
            table(
                None,
                ["id", "when", "kind", "title", "read", "email"],
                [
                    [n["id"], n["created_at"][:16].replace("T", " "), n["kind"], n["title"],
                     "yes" if n["read"] else "", n["email"]]
                    for n in d["items"]
                ],
            )  # fmt: skip
        if "marked_read" in d:
            say(f"marked {d['marked_read']} read")

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("notifications")(cmd_notifications)
