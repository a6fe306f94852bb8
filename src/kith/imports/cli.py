"""CLI: ``kith import FILE`` and ``kith export``."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, console, error, open_workspace, print_json, say

FORMATS_HELP = (
    "csv, xlsx, vcard, ics, mbox, maildir, eml, json, or a CSV preset: google, outlook, "
    "linkedin, hubspot, salesforce (default: detected)"
)


def _render(report: dict[str, Any], failed: bool = False) -> None:
    counts = report.get("counts", {})
    source = (
        f"{report['file']} ({report['format']}"
        f"{', ' + report['preset'] if report.get('preset') else ''})"
    )
    if failed:  # all-or-nothing: the good rows were not written either
        say(f"nothing imported from {source}: {report.get('units', 0)} read")
    else:
        verb = "would import" if report.get("dry_run") else "imported"
        say(f"{verb} {report.get('imported', 0)} of {report.get('units', 0)} from {source}")
        for key, value in counts.items():
            say(f"  {key.replace('_', ' ')}: {value}")
    if report.get("ignored_columns"):
        say(f"  columns not imported: {', '.join(report['ignored_columns'])}")
    for bad in report.get("bad", []):
        where = bad["where"] + (f", column {bad['column']!r}" if bad["column"] else "")
        value = f", value {bad['value'][:60]!r}" if bad["value"] else ""
        say(f"  bad: {where}{value}: {bad['reason']}")
    if report.get("bad_count", 0) > len(report.get("bad", [])):
        say(f"  ... {report['bad_count'] - len(report['bad'])} more bad")
    for warning in report.get("warnings", [])[:20]:
        say(f"  warning: {warning}")
    if report.get("reject_file"):
        say(f"  bad ones written to {report['reject_file']}")
    if made := report.get("would_create"):
        say(
            f"  would create {made['organizations_count']} organisations, "
            f"{made['people_count']} people (leave some out with --exclude-domain D, "
            "--exclude-address A):"
        )
        for org in made["organizations"]:
            say(f"    organisation {org['name']} ({org['domain']}): {org['people']} people")
        for who in made["people"]:
            at = f" at {who['organization']}" if who["organization"] else ""
            say(f"    person {who['name']} <{who['email']}>{at}")
        if made["people_count"] > len(made["people"]):
            say(f"    ... {made['people_count'] - len(made['people'])} more people")


def _progress_bar(enabled: bool, total: int | None) -> tuple[AbstractContextManager[Any], Any]:
    if not enabled:
        return nullcontext(), None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}/s"),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    )
    task = bar.add_task("import", total=total, rate="-")

    def tick(n: int) -> None:
        bar.advance(task, n)
        t = bar.tasks[0]
        if t.speed:
            bar.update(task, rate=f"{t.speed:,.0f}")

    return bar, tick


def cmd_import(
    file: Annotated[str, typer.Argument(help="File (or Maildir folder) to import.")],
    fmt: Annotated[str | None, typer.Option("--format", help=FORMATS_HELP)] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help='Column mapping "Column=field" (repeatable; custom fields ok).'),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; write nothing.")] = False,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows; bad ones go to a reject file.")
    ] = False,
    reject: Annotated[
        str | None, typer.Option("--reject", help="Reject file (with --skip-bad).")
    ] = None,
    bodies: Annotated[bool, typer.Option("--bodies", help="Keep email bodies.")] = False,
    exclude_domain: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude-domain",
            help="Mail: make no new person or organisation of this domain or its "
            "subdomains (repeatable).",
        ),
    ] = None,
    exclude_address: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude-address", help="Mail: make no new person of this address (repeatable)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import contacts, a calendar or a mailbox; all-or-nothing unless --skip-bad."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.imports.detect import check_path, detect, normalize_format
    from kith.imports.jobs import import_audited
    from kith.imports.reading import estimate_total
    from kith.imports.services import ImportFailed

    check_path(file)
    show = not as_json and sys.stdout.isatty()
    total = None
    if show:
        fmt_key = normalize_format(fmt) if fmt else detect(file)
        total = estimate_total(file, fmt_key)
    bar, tick = _progress_bar(show, total)
    try:
        with bar:
            report = import_audited(
                viewer=SYSTEM,
                path=file,
                via="cli",
                fmt=fmt,
                mapping=mapping or [],
                dry_run=dry_run,
                skip_bad=skip_bad,
                reject=reject,
                bodies=bodies,
                progress=tick,
                exclude_domains=exclude_domain or [],
                exclude_addresses=exclude_address or [],
            )
    except ImportFailed as exc:
        if as_json:
            print_json({"error": exc.message, **exc.report})
        else:
            _render(exc.report, failed=True)
        error(exc.message)
        raise typer.Exit(1) from None
    if as_json:
        print_json(report)
    else:
        _render(report)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def cmd_export(
    fmt: Annotated[str, typer.Option("--format", help="csv, vcard or json.")] = "csv",
    type_key: Annotated[
        str | None, typer.Option("--type", help="Only records of this type (default all).")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export records as CSV, vCard or JSON that `kith import` reads back."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.imports.jobs import export_audited

    if output:
        n = _export_to_file(output, fmt, type_key)
        if as_json:
            print_json({"output": output, "format": fmt, "records": n})
        else:
            console(stderr=True).print(f"exported {n} records to {_escape(output)}")
    else:
        export_audited(viewer=SYSTEM, out=sys.stdout, fmt=fmt, type_key=type_key, via="cli")


def _export_to_file(output: str, fmt: str, type_key: str | None) -> int:
    """Write the export to a temporary file beside ``output``, then move it into place."""
    import os
    from pathlib import Path

    from kith.core.errors import ValidationError
    from kith.core.viewer import SYSTEM
    from kith.imports.jobs import export_audited

    target = Path(output).expanduser()
    if target.is_dir():
        raise ValidationError(f"--output: {output!r} is a folder; give a file name", field="output")
    if not target.parent.is_dir():
        raise ValidationError(f"--output: folder '{target.parent}' does not exist", field="output")
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            n = export_audited(viewer=SYSTEM, out=fh, fmt=fmt, type_key=type_key, via="cli")
        os.replace(tmp, target)
    except OSError as exc:
        raise ValidationError(
            f"--output: cannot write {output!r} ({exc.strerror or exc})", field="output"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)  # a failed export leaves no half-written file
    return n


def register(app: typer.Typer) -> None:
    app.command("import")(cmd_import)
    app.command("export")(cmd_export)
