"""CLI: ``kith duplicates``, ``kith merge KEEP OTHER``, ``kith unmerge REF``, ``kith merges``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, console, emit, open_workspace, say, table


def cmd_duplicates(
    type_key: Annotated[
        str | None, typer.Option("--type", help="Only records of this type.")
    ] = None,
    min_score: Annotated[int, typer.Option("--min-score", help="Least score shown (0-100).")] = 50,
    limit: Annotated[int, typer.Option("--limit", help="Most pairs shown.")] = 100,
    after: Annotated[
        str | None, typer.Option("--after", help="Cursor of the next page (from 'next').")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List likely duplicate pairs with a score and the reasons."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.dedupe.selectors import find_duplicates

    if as_json or not sys.stdout.isatty():
        result = find_duplicates(
            SYSTEM, type_key=type_key, min_score=min_score, limit=limit, after=after
        )
    else:
        with console().status("looking for duplicates ..."):
            result = find_duplicates(
                SYSTEM, type_key=type_key, min_score=min_score, limit=limit, after=after
            )

    def render(r: dict[str, Any]) -> None:
        if not r["pairs"]:
            say(f"no likely duplicates among {r['records']} records (score >= {min_score})")
            return
        table(
            None,
            ["score", "keep", "other", "reasons"],
            [
                (
                    p["score"],
                    f"{p['keep']['name']} ({p['keep']['id']})",
                    f"{p['other']['name']} ({p['other']['id']})",
                    "; ".join(p["reasons"]),
                )
                for p in r["pairs"]
            ],
        )
        shown = len(r["pairs"])
        more = f" of {r['total']}" if r["total"] > shown else ""
        say(f"{shown}{more} pairs; merge one with: kith merge KEEP OTHER")
        if r["skipped_count"]:
            say(f"{r['skipped_count']} shared values were too common to count as evidence")
        if r.get("next"):
            say(f"next page: --after {r['next']}")

    emit(result, as_json, render)


def cmd_merge(
    keep: Annotated[str, typer.Argument(help="The record that stays (id, email or name).")],
    other: Annotated[str, typer.Argument(help="The duplicate merged into KEEP.")],
    as_json: JsonOpt = False,
) -> None:
    """Merge OTHER into KEEP: everything moves to KEEP, OTHER is retired (undo: kith unmerge)."""
    open_workspace()
    from kith.dedupe.services import merge_records

    result = merge_records(keep=keep, other=other)

    def render(r: dict[str, Any]) -> None:
        say(
            f"merged {r['other']['name']} ({r['other']['id']}) into "
            f"{r['keep']['name']} ({r['keep']['id']}); merge {r['id']}"
        )
        for what, n in r["moved"].items():
            say(f"  {what}: {n}")
        for key, value in r["fields_added"].items():
            say(f"  field {key} taken from the duplicate: {value}")
        for c in r["conflicts"]:
            say(
                f"  {c['field']}: kept {c['keep']!r}, the duplicate had {c['other']!r} (in history)"
            )
        say(f"undo with: kith unmerge {r['id']}")

    emit(result, as_json, render)


def cmd_unmerge(
    ref: Annotated[str, typer.Argument(help="Merge id, or the record that was merged away.")],
    as_json: JsonOpt = False,
) -> None:
    """Undo a merge: both records come back as they were."""
    open_workspace()
    from kith.dedupe.services import unmerge

    result = unmerge(ref=ref)

    def render(r: dict[str, Any]) -> None:
        say(
            f"unmerged {r['other']['name']} ({r['other']['id']}) from "
            f"{r['keep']['name']} ({r['keep']['id']}); merge {r['merge']} undone"
        )
        if not r["exact"]:
            say(f"  {r['keep']['id']} was edited after the merge; those edits were kept")
        if r["fields_left_on_keep"]:
            say(f"  fields changed since and left on it: {', '.join(r['fields_left_on_keep'])}")

    emit(result, as_json, render)


def cmd_merges(
    ref: Annotated[str | None, typer.Argument(help="Only merges of this record.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most merges shown.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List merges, newest first."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.dedupe.selectors import list_merges
    from kith.records.selectors import resolve

    record_id = resolve(SYSTEM, ref, include_deleted=True).id if ref else None
    rows = list_merges(SYSTEM, record_id=record_id, limit=limit)
    emit(
        rows,
        as_json,
        lambda rs: table(
            None,
            ["merge", "at", "kept", "merged away", "undone"],
            [
                (
                    r["id"],
                    r["at"][:19],
                    f"{r['keep']['name']} ({r['keep']['id']})",
                    f"{r['other']['name']} ({r['other']['id']})",
                    (r["undone_at"] or "")[:19],
                )
                for r in rs
            ],
        ),
    )


def cmd_rebuild_duplicates(as_json: JsonOpt = False) -> None:
    """Rebuild the kept duplicate pairs whole (they are kept as records change; the worker
    rebuilds them daily)."""
    open_workspace()
    from kith.dedupe.services import rebuild_duplicates

    result = rebuild_duplicates()
    emit(
        result,
        as_json,
        lambda r: say(
            f"{r['pairs']} pairs kept from {r['keys']} keys of {r['records']} records; "
            f"{r['capped']} blocks capped"
        ),
    )


def cmd_not_duplicate(
    a: Annotated[str, typer.Argument(help="One record (id, unique email or exact name).")],
    b: Annotated[str, typer.Argument(help="The other record.")],
    as_json: JsonOpt = False,
) -> None:
    """Say two records are not duplicates: kith duplicates never proposes the pair again."""
    open_workspace()
    from kith.dedupe.services import dismiss_pair

    done = dismiss_pair(a=a, b=b)
    emit(
        done,
        as_json,
        lambda d: say(
            f"not duplicates: {d['a']['name']} ({d['a']['id']}) and "
            f"{d['b']['name']} ({d['b']['id']})"
        ),
    )


def register(app: typer.Typer) -> None:
    app.command("duplicates")(cmd_duplicates)
    app.command("not-duplicate")(cmd_not_duplicate)
    app.command("rebuild-duplicates")(cmd_rebuild_duplicates)
    app.command("merge")(cmd_merge)
    app.command("unmerge")(cmd_unmerge)
    app.command("merges")(cmd_merges)
