"""kith brief: sections, evidence on every line, labelled suggestions, meeting prep, formats,
the CLI, and a private person named in no format."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from kith.briefs.render import as_html, as_markdown, as_pdf, as_text
from kith.briefs.selectors import brief
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM

WINDOW = {"since": "2026-11-01", "as_of": "2026-11-07"}


def _section(b: dict[str, Any], key: str) -> list[str]:
    (s,) = [s for s in b["sections"] if s["key"] == key]
    return [line["text"] for line in s["lines"]]


def test_the_brief_of_an_account(acme: dict[str, Any]) -> None:
    b = brief(SYSTEM, "Acme", **WINDOW)
    assert [s["key"] for s in b["sections"]] == [
        "who",
        "health",
        "changes",
        "open",
        "risks",
        "plan",
    ]
    who = _section(b, "who")
    assert any(t.startswith("Raj Patel, CFO") for t in who)
    assert not any(t.startswith("Jane Doe") for t in who)  # she left on 2026-11-02
    assert re.match(
        r"health \d+ \(\w+\) on 2026-11-07; \d+ on 2026-10-31", _section(b, "health")[0]
    )
    assert "Jane Doe left Acme on 2026-11-02 (CFO)" in _section(b, "changes")
    opened = _section(b, "open")
    assert "task: Send the renewal quote, due 2026-11-03 (overdue)" in opened
    assert any(t.startswith("unanswered email from Raj Patel on 2026-11-04") for t in opened)
    assert "Jane Doe left Acme on 2026-11-02 (CFO)" in _section(b, "risks")
    for s in b["sections"]:
        for line in s["lines"]:
            assert line["evidence"], (s["key"], line["text"])  # every line has evidence
    labels = {sg["label"] for sg in b["suggestions"]}
    assert labels == {"suggestion"}
    texts = [sg["text"] for sg in b["suggestions"]]
    assert "Reply to Raj Patel 'Renewal terms'" in texts
    assert "Close or reschedule 'Send the renewal quote'" in texts
    assert all(sg["evidence"] and sg["why"] for sg in b["suggestions"])


def test_a_plan_gives_who_is_who_and_progress(acme: dict[str, Any]) -> None:
    plans = acme["plans"]
    plan = plans.add_plan(viewer=SYSTEM, account="Acme", name="Acme 2027", start="2026-10-01")
    plans.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Raj Patel", role="economic buyer")
    goal = plans.add_goal(viewer=SYSTEM, plan=plan.id, text="Renew for two years")
    b = brief(SYSTEM, "Acme", **WINDOW)
    who = _section(b, "who")
    assert who[0].startswith("Raj Patel: economic buyer, unknown")
    progress = _section(b, "plan")
    assert progress[0].startswith("Acme 2027 (active): goals:")
    assert f"goal {goal.name}: unknown" in progress
    assert any(t.startswith("plan gap: no ") for t in _section(b, "risks"))


def test_meeting_prep_covers_attendees_and_their_organisations(acme: dict[str, Any]) -> None:
    b = brief(SYSTEM, None, for_meeting=acme["planned"].id, **WINDOW)
    assert b["meeting"]["subject"] == "Renewal review"
    assert [a["name"] for a in b["meeting"]["attendees"]] == ["Kim Ito", "Raj Patel"]
    assert b["meeting"]["organisations"] == [{"id": acme["org"].id, "name": "Acme"}]
    attendees = _section(b, "attendees")
    assert attendees[0].startswith("Kim Ito (Engineer at Acme): health")
    keys = [s["key"] for s in b["sections"]]
    assert keys[:3] == ["meeting", "attendees", "who"]
    assert any(s["title"] == "Acme: What changed" for s in b["sections"])
    with pytest.raises(NotFound, match="for_meeting: no interaction 'int_nope'"):
        brief(SYSTEM, None, for_meeting="int_nope")


def test_formats_carry_the_evidence(acme: dict[str, Any]) -> None:
    b = brief(SYSTEM, "Acme", **WINDOW)
    text = as_text(b)
    assert text.startswith("Brief: Acme\n") and acme["late"].id in text
    assert "suggestion: Reply to Raj Patel" in text
    md = as_markdown(b)
    assert f"[{acme['raj'].id}](/records/{acme['raj'].id})" in md
    assert "**Suggestion:**" in md
    html = as_html(b)
    assert f'<a href="/records/{acme["raj"].id}">' in html
    assert f'<a href="/api/v1/tasks/{acme["late"].id}">' in html
    # CSP-clean: nothing inline
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)
    pdf = as_pdf(b, base="http://kith.test")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 2000


def test_the_same_inputs_give_the_same_brief(acme: dict[str, Any]) -> None:
    a = json.dumps(brief(SYSTEM, "Acme", **WINDOW), sort_keys=True)
    assert a == json.dumps(brief(SYSTEM, "Acme", **WINDOW), sort_keys=True)


def test_bad_input(acme: dict[str, Any], cli: Any) -> None:
    with pytest.raises(ValidationError, match="ref: a record \\(or --for-meeting\\) is required"):
        brief(SYSTEM, None)
    code, _, err = cli("brief", "Acme", "--format", "docx")
    assert code == 1 and "format: 'docx' is not one of text, markdown, html, pdf, json" in err
    code, _, err = cli("brief", "Acme", "--since", "soon")
    assert code == 1 and "since: 'soon' is not 7d" in err


def test_cli_formats(acme: dict[str, Any], cli: Any, tmp_path: Any) -> None:
    code, out, _ = cli("brief", "Acme", "--since", "2026-11-01", "--as-of", "2026-11-07")
    assert code == 0 and out.startswith("Brief: Acme") and "Open items" in out
    code, out, _ = cli("brief", "Acme", "--since", "2026-11-01", "--as-of", "2026-11-07", "--json")
    assert code == 0 and json.loads(out)["record"]["name"] == "Acme"
    target = tmp_path / "acme.pdf"
    code, out, _ = cli(
        "brief",
        "Acme",
        "--since",
        "2026-11-01",
        "--as-of",
        "2026-11-07",
        "--format",
        "pdf",
        "-o",
        str(target),
    )
    assert code == 0 and target.read_bytes().startswith(b"%PDF-")
    code, out, _ = cli("changes", "Acme", "--since", "2026-11-01", "--as-of", "2026-11-07")
    assert code == 0 and "relationship_ended: Jane Doe left Acme on 2026-11-02 (CFO)" in out
    code, out, _ = cli(
        "changes", "Acme", "--since", "2026-11-01", "--as-of", "2026-11-07", "--json"
    )
    assert code == 0 and json.loads(out)["items"]


def test_a_private_person_is_in_no_brief_of_another_user(acme: dict[str, Any]) -> None:
    leaks = (
        "Secret Sam",
        acme["secret"].id,
        acme["hush"].id,
        acme["spy"].id,
        "Chief Spy",
        "Psst",
        "Secret lunch",
        "spy work",
    )
    b = brief(acme["other"], "Acme", **WINDOW)
    m = brief(acme["other"], None, for_meeting=acme["planned"].id, **WINDOW)
    for data in (b, m):
        for shown in (
            json.dumps(data),
            as_text(data),
            as_markdown(data),
            as_html(data),
        ):
            for leak in leaks:
                assert leak not in shown, leak
    pdf = as_pdf(b, base="http://kith.test", compress=False)  # links readable
    assert f"http://kith.test/records/{acme['raj'].id}".encode() in pdf
    assert acme["secret"].id.encode() not in pdf and acme["hush"].id.encode() not in pdf
    # the owner sees their own private person, and the counts include them
    mine = json.dumps(brief(acme["owner"], "Acme", **WINDOW))
    assert "Secret Sam" in mine and acme["spy"].id in mine
