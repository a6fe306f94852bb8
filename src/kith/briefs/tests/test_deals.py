"""Deals in "what changed" and in the brief: opened, moved, won and lost in the window with
amount and reason; open deals (stage, amount, expected close) as open items, a passed close
date as a risk; a private deal named and counted nowhere for anyone it is hidden from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user
from kith.accounts.services import set_private
from kith.briefs.render import as_html, as_markdown, as_text
from kith.briefs.selectors import brief, changes_since
from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.pipelines import services as deals

WINDOW = {"since": "2026-11-01", "as_of": "2026-11-07"}


def _section(b: dict[str, Any], key: str) -> list[str]:
    (s,) = [s for s in b["sections"] if s["key"] == key]
    return [line["text"] for line in s["lines"]]


@pytest.fixture
def sales(acme: dict[str, Any]) -> dict[str, Any]:
    org = acme["org"]
    with clock.travel("2026-11-09T09:00Z"):
        renewal = deals.add_deal(
            viewer=SYSTEM, account=org.id, name="Acme renewal", amount=12000,
            currency="EUR", close="2026-11-05", at="2026-10-01T09:00Z",
        )  # fmt: skip
        deals.move(viewer=SYSTEM, ref=renewal.id, stage="proposal", at="2026-11-02T10:00Z")
        expansion = deals.add_deal(
            viewer=SYSTEM, account=org.id, name="Acme expansion", amount=5000.5,
            currency="EUR", close="2026-12-20", at="2026-11-03T09:00Z",
        )  # fmt: skip
        pilot = deals.add_deal(
            viewer=SYSTEM, account=org.id, name="Acme pilot", amount=800,
            currency="EUR", at="2026-09-01T09:00Z",
        )  # fmt: skip
        deals.lose(viewer=SYSTEM, ref=pilot.id, reason="price", at="2026-11-04T09:00Z")
        pilot2 = deals.add_deal(
            viewer=SYSTEM, account=org.id, name="Acme support", amount=300,
            currency="EUR", at="2026-09-01T09:00Z",
        )  # fmt: skip
        deals.win(viewer=SYSTEM, ref=pilot2.id, at="2026-11-06T09:00Z")
        later = deals.add_deal(
            viewer=SYSTEM, account=org.id, name="Acme later", amount=1,
            currency="EUR", at="2026-11-08T00:00Z",
        )  # fmt: skip
        merger = deals.add_deal(
            viewer=SYSTEM, account=org.id, name="Project Merger", amount=9_999_999,
            currency="EUR", close="2026-11-02", at="2026-11-03T09:00Z",
        )  # fmt: skip
        deals.move(viewer=SYSTEM, ref=merger.id, stage="negotiation", reason="board says yes",
                   at="2026-11-05T09:00Z")  # fmt: skip
    set_private(record=merger, private=True, user=get_user("owner@our.test"))
    return {**acme, "renewal": renewal, "expansion": expansion, "pilot": pilot,
            "support": pilot2, "later": later, "merger": merger}  # fmt: skip


def test_deal_moves_are_what_changed(sales: dict[str, Any]) -> None:
    got = changes_since(sales["other"], "Acme", kinds=["deals"], **WINDOW)["items"]
    said = [(i["kind"], i["text"], i["evidence"]) for i in got]
    assert said == [
        (
            "deal_moved",
            "deal Acme renewal moved from Lead to Proposal",
            [sales["renewal"].id],
        ),
        ("deal_opened", "new deal: Acme expansion (5,000.50 EUR) at Lead", [sales["expansion"].id]),
        ("deal_lost", "lost: Acme pilot (800 EUR): price", [sales["pilot"].id]),
        ("deal_won", "won: Acme support (300 EUR)", [sales["support"].id]),
    ]
    lost = got[2]["data"]
    assert lost["reason"] == "price" and lost["from"] == "lead" and lost["to"] == "lost"
    assert isinstance(lost["move"], int) and lost["amount"] == 800
    # a deal opened at the first moment after the window is in the next one, not this one
    nxt = changes_since(sales["other"], "Acme", kinds=["deals"], since="2026-11-08",
                        as_of="2026-11-08")["items"]  # fmt: skip
    assert [i["text"] for i in nxt] == ["new deal: Acme later (1 EUR) at Lead"]


def test_open_deals_and_passed_close_dates_in_the_brief(sales: dict[str, Any]) -> None:
    b = brief(sales["other"], "Acme", **WINDOW)
    open_items = _section(b, "open")
    assert "deal: Acme renewal at Proposal, 12,000 EUR, expected close 2026-11-05" in open_items
    assert "deal: Acme expansion at Lead, 5,000.50 EUR, expected close 2026-12-20" in open_items
    assert not [t for t in open_items if "pilot" in t or "support" in t or "later" in t]
    risks = _section(b, "risks")
    assert "deal past its expected close: Acme renewal (2026-11-05, still at Proposal)" in risks
    assert "lost: Acme pilot (800 EUR): price" in risks
    assert not [t for t in risks if "expansion" in t]
    assert "won: Acme support (300 EUR)" in _section(b, "changes")
    (sg,) = [s for s in b["suggestions"] if "Acme renewal" in s["text"]]
    assert sg["label"] == "suggestion" and sg["evidence"] == [sales["renewal"].id]
    # as of a day before the move, the renewal stood at Lead and its close had not passed
    early = brief(sales["other"], "Acme", since="2026-10-01", as_of="2026-11-01")
    assert "deal: Acme renewal at Lead, 12,000 EUR, expected close 2026-11-05" in _section(
        early, "open"
    )
    assert not [t for t in _section(early, "open") if "expansion" in t]


def test_a_private_deal_is_named_and_counted_nowhere(sales: dict[str, Any], cli: Any) -> None:
    leaks = ("Project Merger", sales["merger"].id, "9,999,999", "board says yes")
    b = brief(sales["other"], "Acme", **WINDOW)
    c = changes_since(sales["other"], "Acme", **WINDOW)
    span = ("--since", WINDOW["since"], "--as-of", WINDOW["as_of"], "--user", "other@our.test")
    code, by_cli, err = cli("changes", "Acme", "--kind", "deals", *span, "--json")
    assert code == 0, err
    assert len(json.loads(by_cli)["items"]) == 4  # the renewal, expansion, pilot and support
    code, brief_cli, err = cli("brief", "Acme", *span)
    assert code == 0 and "deal: Acme renewal at Proposal" in brief_cli, err
    shown_all = (json.dumps(b), json.dumps(c), as_text(b), as_markdown(b), as_html(b))
    for shown in (*shown_all, by_cli, brief_cli):
        for leak in leaks:
            assert leak not in shown, leak
    deal_lines = [t for t in _section(b, "open") if t.startswith("deal:")]
    assert len(deal_lines) == 2
    # the owner sees their own private deal: opened, moved, open and past its close
    mine = brief(sales["owner"], "Acme", **WINDOW)
    assert len([t for t in _section(mine, "open") if t.startswith("deal:")]) == 3
    assert "deal past its expected close: Project Merger (2026-11-02, still at Negotiation)" in (
        _section(mine, "risks")
    )
    kinds = [i["kind"] for i in changes_since(sales["owner"], "Acme", kinds=["deals"],
                                              **WINDOW)["items"]]  # fmt: skip
    assert kinds.count("deal_opened") == 2 and kinds.count("deal_moved") == 2
