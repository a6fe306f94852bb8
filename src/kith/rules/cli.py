"""CLI for rules: ``kith rule add|list|show|enable|disable|delete|runs|test|scan|drain``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

rule_app = typer.Typer(help="Rules: trigger -> conditions -> actions.", no_args_is_help=True)

RuleRef = Annotated[str, typer.Argument(help="The rule's name or id.")]


@rule_app.command("add")
def rule_add(
    file: Annotated[str, typer.Option("--file", help="The rule, as JSON or YAML.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the rule of the same name.")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help="Validate only; store nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a rule from a file, after validating all of it (trigger, fields, operators, cycles)."""
    open_workspace()
    from kith.core.errors import ValidationError
    from kith.rules.selectors import rule_view
    from kith.rules.services import add_rule, check_rule, parse_document

    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"file: cannot read {file!r} ({exc})", field="file") from None
    doc = parse_document(text, filename=path.name)
    if check:
        checked = check_rule(doc)
        emit(
            {"valid": True, "rule": checked}, as_json, lambda v: say(f"{v['rule']['name']}: valid")
        )
        return
    rule = add_rule(doc=doc, replace=replace)
    emit(rule_view(rule), as_json, lambda v: say(f"rule {v['name']} ({v['id']}) added"))


def _show_rules(rows: list[dict[str, Any]]) -> None:
    if not rows:
        say("no rules yet (kith rule add --file RULE.yaml; docs/RULES.md)")
        return
    table(
        "rules",
        ["name", "id", "enabled", "trigger", "actions", "runs"],
        [
            (
                r["name"],
                r["id"],
                "yes" if r["enabled"] else "no",
                r["trigger"]["on"],
                ", ".join(a["do"] for a in r["actions"]),
                " ".join(f"{k} {v}" for k, v in sorted(r["runs"].items())),
            )
            for r in rows
        ],
    )


@rule_app.command("list")
def rule_list(as_json: JsonOpt = False) -> None:
    """Every rule, with its trigger, actions and runs so far."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.rules.selectors import list_rules

    emit(list_rules(SYSTEM), as_json, _show_rules)


@rule_app.command("show")
def rule_show(ref: RuleRef, as_json: JsonOpt = False) -> None:
    """One rule's document."""
    open_workspace()
    import json

    from kith.core.viewer import SYSTEM
    from kith.rules.selectors import get_rule_view

    emit(get_rule_view(SYSTEM, ref), as_json, lambda v: say(json.dumps(v, indent=2)))


def _toggle(ref: str, enabled: bool, as_json: bool) -> None:
    open_workspace()
    from kith.rules.selectors import rule_view
    from kith.rules.services import set_enabled

    view = rule_view(set_enabled(ref=ref, enabled=enabled))
    word = "enabled" if enabled else "disabled"
    emit(view, as_json, lambda v: say(f"rule {v['name']} {word}"))


@rule_app.command("enable")
def rule_enable(ref: RuleRef, as_json: JsonOpt = False) -> None:
    """Enable a rule (checked again first)."""
    _toggle(ref, True, as_json)


@rule_app.command("disable")
def rule_disable(ref: RuleRef, as_json: JsonOpt = False) -> None:
    """Disable a rule."""
    _toggle(ref, False, as_json)


@rule_app.command("delete")
def rule_delete(ref: RuleRef, as_json: JsonOpt = False) -> None:
    """Delete a rule and its runs."""
    open_workspace()
    from kith.rules.services import delete_rule

    emit({"deleted": delete_rule(ref=ref)}, as_json, lambda v: say(f"deleted {v['deleted']}"))


def _show_runs(rows: list[dict[str, Any]]) -> None:
    if not rows:
        say("no runs")
        return
    table(
        "runs",
        ["run", "started", "record", "trigger", "status", "reason"],
        [
            (
                r["id"],
                r["started_at"][:19],
                r["record_id"] or ("(hidden)" if r["record_hidden"] else ""),
                r["trigger"],
                r["status"],
                r["reason"],
            )
            for r in rows
        ],
    )


@rule_app.command("runs")
def rule_runs(
    ref: RuleRef,
    failed: Annotated[
        bool, typer.Option("--failed", help="Failed and timed-out runs only.")
    ] = False,
    record: Annotated[str | None, typer.Option("--record", help="Runs for one record.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many (newest first).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """A rule's runs, newest first, each with its trace (--json)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.rules.selectors import runs

    emit(runs(SYSTEM, ref, failed=failed, limit=limit, record=record), as_json, _show_runs)


def _days(text: str) -> int:
    from kith.core.errors import ValidationError

    match = re.fullmatch(r"\s*(\d{1,4})\s*d?\s*", text or "")
    if not match:
        raise ValidationError(f"since: {text!r} is not a number of days such as 90d", field="since")
    return int(match.group(1))


def _show_test(v: dict[str, Any]) -> None:
    word = "WOULD fire" if v["would_fire"] else "would NOT fire"
    say(f"{v['rule']} {word} for {v['record']['name']} ({v['record']['id']})")
    for reason in v["why_not"]:
        say(f"  - {reason}")
    if "trigger" in v:
        say(f"trigger: {v['trigger']}")
    table(
        "conditions",
        ["path", "field", "op", "value", "actual", "result"],
        [
            (s["path"], s["field"], s["op"], s.get("value", s.get("to")), s["actual"], s["result"])
            for s in v["conditions"]["steps"]
        ],
    )
    for a in v["actions"]:
        say(f"action {a['action']}: {a}")


def _show_replay(v: dict[str, Any]) -> None:
    say(
        f"{v['rule']}: {v['events']} events since {v['since'][:10]}; would have fired "
        f"{v['would_fire']} times ({v['not_matched_or_limited']} not matched or limited)"
    )
    table(
        "would have done",
        ["at", "record", "actions"],
        [
            (
                f["at"][:19],
                f"{f['record']['name']} ({f['record']['id']})",
                "; ".join(a["do"] for a in f["actions"]),
            )
            for f in v["firings"]
        ],
    )


@rule_app.command("test")
def rule_test(
    ref: RuleRef,
    record: Annotated[
        str | None, typer.Option("--record", help="Why it would or would not fire for this record.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Replay history, e.g. 90d: what it would have done."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Dry-run a rule for one record, or over a period of history; changes nothing."""
    open_workspace()
    from kith.core.errors import ValidationError
    from kith.core.viewer import SYSTEM
    from kith.rules.selectors import replay, test_record

    if (record is None) == (since is None):
        raise ValidationError("record: give one of --record REF or --since 90d", field="record")
    if record is not None:
        emit(test_record(SYSTEM, ref, record), as_json, _show_test)
    else:
        emit(replay(SYSTEM, ref, days=_days(since or "")), as_json, _show_replay)


@rule_app.command("scan")
def rule_scan(as_json: JsonOpt = False) -> None:
    """Scan the time-based rules now and run what they queue (the worker does this itself)."""
    open_workspace()
    from kith.rules.engine import drain
    from kith.rules.scans import scan

    found = scan()
    found["events_run"] = drain()
    emit(found, as_json, lambda v: say(f"queued {v['rules']}, ran {v['events_run']} events"))


def register(app: typer.Typer) -> None:
    app.add_typer(rule_app, name="rule")
