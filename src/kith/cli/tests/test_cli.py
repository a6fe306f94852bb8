"""The CLI end to end, in-process: every command, its --json form, and its errors."""

from __future__ import annotations

import json

import pytest

from kith.core.models import Change
from kith.interactions.models import Interaction
from kith.records.models import Record
from kith.relationships.models import Relationship


def _json(result: tuple[int, str, str]) -> object:
    code, out, err = result
    assert code == 0, err
    return json.loads(out)


def test_a_working_day_through_the_cli(cli) -> None:  # type: ignore[no-untyped-def]
    home = _json(cli("init", "--home", "Our Co", "--domain", "our.test", "--json"))
    assert home["home"]["name"] == "Our Co" and home["domains"] == ["our.test"]
    _json(cli("org", "add", "Acme", "--domain", "acme.test", "--json"))
    jane = _json(
        cli(
            "person",
            "add",
            "Jane Doe",
            "--email",
            "jane@acme.test",
            "--title",
            "CTO",
            "--org",
            "Acme",
            "--role",
            "CTO",
            "--since",
            "2024-01-01",
            "--json",
        )
    )
    me = _json(
        cli("person", "add", "Me Myself", "--email", "me@our.test", "--org", "Our Co", "--json")
    )
    rel = _json(
        cli("relate", "Jane Doe", "knows", "me@our.test", "--since", "2025-01-01", "--json")
    )
    assert rel["type"] == "knows"
    logged = _json(
        cli(
            "log",
            "call",
            "--with",
            "jane@acme.test",
            "--with",
            "me@our.test:organiser",
            "--at",
            "2026-02-01T10:00Z",
            "--subject",
            "Intro",
            "--sentiment",
            "positive",
            "--external-id",
            "call-1",
            "--json",
        )
    )
    assert logged["created"] is True
    again = _json(
        cli("log", "call", "--with", "jane@acme.test", "--external-id", "call-1", "--json")
    )
    assert again["created"] is False and again["id"] == logged["id"]
    timeline = _json(cli("timeline", "Acme", "--json"))
    assert [t["subject"] for t in timeline] == ["Intro"]
    assert timeline[0]["via"]["id"] == jane["id"]
    relations = _json(cli("relations", "Acme", "--json"))
    assert [(r["label"], r["other"]["name"], r["role"]) for r in relations] == [
        ("employs", "Jane Doe", "CTO")
    ]
    shown = _json(cli("show", jane["id"], "--json"))
    assert shown["fields"] == {"title": "CTO"}
    assert shown["relationship_counts"] == {"knows": 1, "works_at": 1}
    assert [i["subject"] for i in shown["recent"]] == ["Intro"]
    team = _json(cli("team", "--json"))
    assert [t["id"] for t in team] == [me["id"]]
    edited = _json(cli("edit", "Jane Doe", "--set", "title=CEO", "--json"))
    assert edited["fields"]["title"] == "CEO" and edited["version"] == 2
    history = _json(cli("history", "Jane Doe", "--json"))
    assert ("update", "fields.title", "CTO", "CEO") in [
        (h["action"], h["field"], h["old"], h["new"]) for h in history
    ]
    ended = _json(cli("unrelate", rel["id"], "--on", "2026-03-01", "--json"))
    assert ended["until"] == "2026-03-01"
    past = _json(cli("relations", "Jane Doe", "--as-of", "2025-06-01", "--type", "knows", "--json"))
    assert [r["other"]["name"] for r in past] == ["Me Myself"]
    assert (
        _json(cli("relations", "Jane Doe", "--type", "knows", "--as-of", "2026-06-01", "--json"))
        == []
    )
    _json(cli("delete", "Jane Doe", "--json"))
    assert [r["name"] for r in _json(cli("list", "--type", "person", "--json"))] == ["Me Myself"]
    _json(cli("restore", jane["id"], "--json"))
    names = [r["name"] for r in _json(cli("list", "--search", "jane", "--json"))]
    assert names == ["Jane Doe"]


def test_custom_types_and_reltypes(cli) -> None:  # type: ignore[no-untyped-def]
    created = _json(
        cli(
            "type",
            "add",
            "vendor",
            "--field",
            "tier:choice:gold|silver",
            "--field",
            "spend:number",
            "--json",
        )
    )
    assert [f["name"] for f in created["fields"]] == ["tier", "spend"]
    vendor = _json(
        cli(
            "record",
            "add",
            "vendor",
            "Acme Supplies",
            "--field",
            "tier=gold",
            "--field",
            "spend=100",
            "--json",
        )
    )
    assert vendor["fields"] == {"tier": "gold", "spend": 100}
    rt = _json(
        cli("reltype", "add", "supplies", "--inverse", "supplied_by", "--from", "vendor", "--json")
    )
    assert rt["from_types"] == ["vendor"] and rt["inverse"] == "supplied_by"
    keys = [t["key"] for t in _json(cli("reltype", "list", "--json"))]
    assert {"works_at", "knows", "investor_in", "supplies"} <= set(keys)
    code, out, _ = cli("type", "list")
    assert code == 0 and "tier:choice(gold|silver)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "Nobody"], "ref: no record matches 'Nobody'"),
        (["show", "Sam Lee"], "'Sam Lee' is ambiguous, it matches 2"),
        (["relate", "Sam Lee", "knows", "Acme"], "ambiguous"),
        (
            ["relate", "sam@one.test", "works_at", "sam@two.test"],
            "works_at joins person -> organization",
        ),
        (
            ["relate", "sam@one.test", "works_at", "Acme", "--since", "2024-02-30"],
            "since: '2024-02-30' is not a valid date",
        ),
        (
            [
                "relate",
                "sam@one.test",
                "works_at",
                "Acme",
                "--since",
                "2024-02-01",
                "--until",
                "2024-01-01",
            ],
            "until: 2024-01-01 is before since 2024-02-01",
        ),
        (["edit", "sam@one.test", "--set", "title"], "--set: 'title' is not of the form"),
        (["edit", "sam@one.test", "--set", "birthday=someday"], "birthday: 'someday' is not"),
        (
            ["record", "add", "vendor", "X", "--field", "spend=lots"],
            "spend: 'lots' is not a number",
        ),
        (["relations", "Acme", "--as-of", "last tuesday"], "--as-of: 'last tuesday' is not"),
        (["unrelate", "rel_missing"], "no relationship 'rel_missing'"),
        (["log", "call", "--with", "Nobody"], "with: no record matches 'Nobody'"),
        (["log", "call", "--with", "sam@one.test", "--at", "noon"], "at: 'noon' is not a valid"),
        (["list", "--type", "planet"], "unknown record type 'planet'"),
        (["timeline", "Acme", "--limit", "0"], "limit: must be between 1 and 10000"),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(cli, args, message) -> None:  # type: ignore[no-untyped-def]
    from kith.records.services import add_organization, add_person, define_type

    add_organization(name="Acme")
    add_person(name="Sam Lee", emails=["sam@one.test"])
    add_person(name="Sam Lee", emails=["sam@two.test"])
    define_type(key="vendor", fields=["spend:number"])
    before = (
        Record.objects.count(),
        Relationship.objects.count(),
        Interaction.objects.count(),
        Change.objects.count(),
    )
    code, out, err = cli(*args)
    assert code == 1
    assert message in err
    assert err.startswith("error:") and err.count("\n") == 1  # one line, however long
    assert "Traceback" not in err + out
    after = (
        Record.objects.count(),
        Relationship.objects.count(),
        Interaction.objects.count(),
        Change.objects.count(),
    )
    assert after == before


def test_usage_errors_exit_2_without_traceback(cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = cli("relate", "only-one-arg")
    assert code == 2 and "Traceback" not in err and "Missing argument" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["relate", "only-one-arg"], "error: Missing argument 'TYPE'. (see 'kith relate --help')"),
        (["edit", "Acme"], "error: Missing option '--set'. (see 'kith edit --help')"),
        (["edit", "Acme", "--set", "a=1", "--version", "abc"], "'abc' is not a valid integer"),
        (["show", "Acme", "--bogus"], "error: No such option '--bogus'."),
        (["frobnicate"], "error: No such command 'frobnicate'."),
    ],
)
def test_usage_errors_are_one_line(cli, args, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert message in err and err.startswith("error:") and err.count("\n") == 1


def test_help_and_a_bare_kith_still_show_help(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _err = cli("show", "--help")
    assert code == 0 and "Usage: kith show" in out
    code, _out, err = cli()
    assert code == 2 and "Usage: kith" in err and "Commands" in err


def test_into_a_pipe_tables_are_plain_aligned_lines_and_nothing_is_cut(cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--home", "Our Co", "--domain", "our.test")
    long_name = "Organisation With A Name Far Longer Than Eighty Columns Would Hold In A Box"
    cli("org", "add", long_name, "--domain", "long.test")
    cli("person", "add", "Jane Doe", "--org", long_name, "--role", "CEO [founder]")
    code, out, err = cli("show", long_name)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(long_name + "  [organization org_")  # never wrapped
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["id", "relation"])
    assert lines[header - 1] == "relationships"
    row = lines[header + 1]
    assert "Jane Doe" in row and "CEO [founder]" in row  # markup-looking text as typed
    # the columns line up: each starts where its header starts
    for column in ("relation", "with", "role"):
        at = lines[header].index(column)
        assert row[at - 1] == " " and row[at] != " "
    assert not any(ch in out for ch in "│┃━─")
