"""CLI commands for interactions: log and timeline."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table


def _split_role(ref: str) -> tuple[str, str | None]:
    """``jane@acme.com:cc`` -> (``jane@acme.com``, ``cc``) when the suffix is a role."""
    from kith.interactions.models import Role

    head, sep, tail = ref.rpartition(":")
    if sep and head and tail.strip().lower() in {*Role.values, "organizer"}:
        return head, tail.strip().lower()
    return ref, None


def _check_roles(participants: list[tuple[str, str | None]]) -> None:
    """``REF:WORD`` with a WORD that is no role: name the roles, unless REF:WORD is a record."""
    from kith.core.errors import NotFound, ValidationError
    from kith.core.viewer import SYSTEM
    from kith.interactions.models import Role
    from kith.records.selectors import resolve

    for ref, role in participants:
        head, sep, tail = ref.rpartition(":")
        if role is None and sep and head and tail.strip().isalpha():
            try:
                resolve(SYSTEM, ref, field="with")
            except NotFound:
                raise ValidationError(
                    f"with: {tail.strip()!r} in {ref!r} is not a role ({', '.join(Role.values)})",
                    field="with",
                ) from None


def cmd_log(
    kind: Annotated[
        str,
        typer.Argument(
            help="email, call, meeting, message, note, ticket, purchase, survey or your own."
        ),
    ],
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with", help="Participant REF or REF:ROLE (from to cc attendee organiser mentioned)."
        ),
    ] = None,
    link: Annotated[list[str] | None, typer.Option("--link", help="Linked record.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (ISO 8601; default now).")] = None,
    subject: Annotated[str, typer.Option("--subject")] = "",
    body: Annotated[str, typer.Option("--body")] = "",
    direction: Annotated[
        str | None, typer.Option("--direction", help="in, out or internal.")
    ] = None,
    sentiment: Annotated[
        str | None, typer.Option("--sentiment", help="-1..1 or positive/neutral/negative.")
    ] = None,
    score: Annotated[str | None, typer.Option("--score", help="e.g. NPS 0-10.")] = None,
    outcome: Annotated[
        str, typer.Option("--outcome", help="A typed outcome (kith outcome list): demo_booked ...")
    ] = "",
    duration: Annotated[int | None, typer.Option("--duration", help="Minutes.")] = None,
    external_id: Annotated[
        str | None, typer.Option("--external-id", help="Logging the same id again is a no-op.")
    ] = None,
    commit: Annotated[
        list[str] | None,
        typer.Option(
            "--commit",
            help="A commitment made: 'us: send the proposal by 2026-12-10' or 'them: ...' "
            "(repeatable; a task about the participants).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log an interaction."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import get_interaction, interaction_view
    from kith.tasks.services import log_with_commitments
    from kith.tasks.values import parse_commitment

    participants = [_split_role(r) for r in with_ or []]
    _check_roles(participants)
    commitments = [parse_commitment(c, field="commit") for c in commit or []]
    interaction, created, tasks = log_with_commitments(
        viewer=SYSTEM,
        commitments=commitments,
        kind=kind,
        participants=participants,
        links=link or [],
        at=at,
        subject=subject,
        body=body,
        direction=direction,
        sentiment=sentiment,
        score=score,
        outcome=outcome,
        duration=duration * 60 if duration is not None else None,
        external_id=external_id,
        source="cli",
    )
    view = interaction_view(get_interaction(interaction.id))
    view["created"] = created
    if commitments:
        view["commitments"] = [
            {
                "id": t.id,
                "title": t.title,
                "party": t.party,
                "due": t.due.isoformat() if t.due else None,
            }
            for t in tasks
        ]

    def render(v: dict[str, Any]) -> None:
        say(
            f"{'logged' if created else 'already logged'} {v['kind']} {v['id']} at {v['at']} with "
            + ", ".join(f"{p['name']} ({p['role']})" for p in v["participants"])
        )
        for t in v.get("commitments", []):
            due = f" by {t['due']}" if t["due"] else ""
            say(f"  commitment ({t['party']}): {t['title']}{due} [{t['id']}]")

    emit(view, as_json, render)


def cmd_timeline(
    ref: Annotated[str, typer.Argument(help="Record id, unique email or exact name.")],
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    before: Annotated[str | None, typer.Option("--before", help="Older than this time.")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Only these kinds.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A record's interactions, newest first (for an org, its people's too)."""
    open_workspace()
    from kith.core.parse import parse_datetime
    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import timeline
    from kith.records.selectors import resolve

    record = resolve(SYSTEM, ref, include_deleted=True)
    rows = timeline(
        SYSTEM, record, limit=limit, before=parse_datetime(before, field="before"), kinds=kind or []
    )

    def render(rs: list[dict[str, Any]]) -> None:
        if not rs:
            say(f"no interactions on {record.name}'s timeline")
            return
        table(
            f"{record.name}: timeline",
            ["at", "kind", "dir", "subject", "with", "via"],
            [
                (
                    r["at"][:16].replace("T", " "),
                    r["kind"],
                    r["direction"],
                    r["subject"],
                    ", ".join(p["name"] for p in r["participants"]),
                    r.get("via", {}).get("name", ""),
                )
                for r in rs
            ],
        )

    emit(rows, as_json, render)


IdArg = Annotated[str, typer.Argument(help="The interaction's id (int_...).")]


def _said(verb: str, v: dict[str, Any]) -> None:
    about = f": {v['subject']}" if v["subject"] else ""
    say(f"{verb} {v['kind']} {v['id']} at {v['at']}{about}")


def cmd_edit(
    interaction_id: IdArg,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="name=value (kind, at, subject, body, direction, sentiment, score, outcome).",
        ),
    ],
    version: Annotated[
        int | None, typer.Option("--version", help="Fail if it is no longer at this version.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Correct an interaction (history keeps the old values; scores follow)."""
    open_workspace()
    from kith.core.parse import parse_pairs
    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import interaction_record_view
    from kith.interactions.services import edit_interaction

    found = edit_interaction(
        interaction_id=interaction_id,
        values=parse_pairs(set_, option="--set"),
        expected_version=version,
    )
    emit(interaction_record_view(SYSTEM, found), as_json, lambda v: _said("corrected", v))


def cmd_delete(interaction_id: IdArg, as_json: JsonOpt = False) -> None:
    """Delete an interaction (restore brings it back with its participants)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import interaction_record_view
    from kith.interactions.services import delete_interaction

    found = delete_interaction(interaction_id=interaction_id)
    emit(interaction_record_view(SYSTEM, found), as_json, lambda v: _said("deleted", v))


def cmd_restore(interaction_id: IdArg, as_json: JsonOpt = False) -> None:
    """Restore a deleted interaction to every timeline and score."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import interaction_record_view
    from kith.interactions.services import restore_interaction

    found = restore_interaction(interaction_id=interaction_id)
    emit(interaction_record_view(SYSTEM, found), as_json, lambda v: _said("restored", v))


def register(app: typer.Typer) -> None:
    app.command("log")(cmd_log)
    app.command("timeline")(cmd_timeline)
    one = typer.Typer(help="Correct one interaction: edit, delete, restore.", no_args_is_help=True)
    one.command("edit")(cmd_edit)
    one.command("delete")(cmd_delete)
    one.command("restore")(cmd_restore)
    app.add_typer(one, name="interaction")
