"""The CLI and the API give the same answers; privacy in every read (a private deal or
person is counted nowhere for someone it is hidden from)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import set_private
from kith.core.viewer import SYSTEM
from kith.metrics.selectors import measure
from kith.pipelines import selectors, services
from kith.pipelines.funnel import funnel
from kith.records.models import Record
from kith.server.tests.conftest import make_caller


def test_cli_and_api_answer_alike(world: dict[str, Any], cli: Any) -> None:
    member = make_caller("member@our.test", "member")
    code, out, err = cli(
        "deal",
        "add",
        "Acme",
        "Renewal",
        "--amount",
        "900",
        "--contact",
        "Lee Park:champion",
        "--owner",
        "mia@our.test",
        "--source",
        "web",
        "--at",
        "2026-06-01",
        "--json",
    )
    assert code == 0, err
    deal = json.loads(out)
    status, body = member.call(
        "POST", "/deals", {"account": "Acme", "name": "Upsell", "amount": 100, "source": "event"}
    )
    assert status == 201, body
    status, body = member.call("POST", f"/deals/{body['id']}/moves", {"stage": "proposal"})
    assert status == 201 and body["stage"] == "proposal"
    code, out, _ = cli("deal", "move", deal["id"], "qualified", "--at", "2026-06-02", "--json")
    assert code == 0 and json.loads(out)["to"] == "qualified"
    status, api_deals = member.call("GET", "/deals")
    code, out, _ = cli("deals", "--json")
    cli_deals = json.loads(out)
    assert status == 200 and code == 0 and api_deals == cli_deals
    status, api_funnel = member.call("GET", "/funnel", **{"from": "2026-05-01", "by": "source"})
    code, out, _ = cli("funnel", "--from", "2026-05-01", "--by", "source", "--json")
    assert status == 200 and api_funnel == json.loads(out)
    assert [g["key"] for g in api_funnel["groups"]] == ["event", "web"]
    status, one = member.call("GET", f"/deals/{deal['id']}")
    code, out, _ = cli("deal", "show", deal["id"], "--json")
    assert status == 200 and one == json.loads(out)
    assert one["people"] == [{"id": world["lee"].id, "name": "Lee Park", "role": "champion"}]


def test_bad_input_is_one_line_and_changes_nothing(world: dict[str, Any], cli: Any) -> None:
    code, _, err = cli("deal", "add", "Acme", "X", "--amount", "5", "--contact", "Lee Park:boss")
    assert (
        code == 1
        and err.startswith("error: contact: role 'boss' is not one of")
        and "Traceback" not in err
    )
    code, _, err = cli(
        "pipeline", "add", "deal", "p2", "--stage", "a:lots", "--won", "w", "--lost", "l"
    )
    assert (
        code == 1
        and err.strip() == "error: --stage: 'a:lots' is not KEY:PROBABILITY (a per cent, 0..100)"
    )
    code, _, err = cli("funnel", "--from", "2026-06-10", "--to", "2026-06-01")
    assert code == 1 and "from: 2026-06-10 is after --to 2026-06-01" in err
    member = make_caller("member@our.test", "member")
    status, body = member.call(
        "POST", "/deals", {"account": "Acme", "name": "Y", "amount": 5, "stage": "nope"}
    )
    assert status == 422 and body["field"] == "stage"
    assert not Record.objects.filter(type_id="deal").exists()


def test_a_private_deal_is_counted_nowhere(world: dict[str, Any], cli: Any) -> None:
    owner = make_caller("owner@our.test", "member")
    other = make_caller("other@our.test", "member")
    services.add_deal(viewer=SYSTEM, account="Acme", name="Shared", amount=10, at="2026-06-01")
    secret = services.add_deal(viewer=SYSTEM, account="Acme", name="Secret", amount=1000, at="2026-06-01",
                               contacts=[("Lee Park", "champion")])  # fmt: skip
    services.win(viewer=SYSTEM, ref=secret.id, at="2026-06-02")
    set_private(record=secret, private=True, user=get_user("owner@our.test"))
    hidden_person = Record.objects.get(pk=world["lee"].pk)
    set_private(record=hidden_person, private=True, user=get_user("owner@our.test"))
    them = viewer_of(get_user("other@our.test"))
    me = viewer_of(get_user("owner@our.test"))
    # lists, boards, one deal
    assert [r["name"] for r in selectors.positions(them)["rows"]] == ["Shared"]
    assert selectors.positions(them)["total"] == 1 and selectors.positions(me)["total"] == 2
    assert all(c["count"] <= 1 for c in selectors.board(them)["columns"])
    assert sum(c["amount"] for c in selectors.board(them)["columns"]) == 10
    status, _ = other.call("GET", f"/deals/{secret.id}")
    assert status == 404
    status, body = owner.call("GET", f"/deals/{secret.id}")
    assert status == 200 and body["people"][0]["name"] == "Lee Park"
    # the shared deal's people do not name the private person
    services.add_deal(
        viewer=SYSTEM,
        account="Acme",
        name="With Lee",
        amount=1,
        contacts=[(world["lee"].id, "user")],
    )
    status, body = other.call("GET", "/deals")
    assert "Secret" not in json.dumps(body) and "Lee Park" not in json.dumps(body)
    # the funnel and the metrics
    f = funnel(them, start="2026-05-01")
    assert f["cohort"]["created"] == 2 and f["cohort"]["won"] == 0
    assert funnel(me, start="2026-05-01")["cohort"]["won"] == 1
    assert funnel(them, start="2026-05-01", value=True)["cohort"]["created"] == 11.0
    status, body = other.call("GET", "/funnel", **{"from": "2026-05-01"})
    assert body["rows"][0]["entries"] == 2
    won = measure(them, "deals.won", world["acme"], as_of=dt.date(2026, 6, 15))
    assert won.value == 0.0 and secret.id not in won.evidence
    assert measure(me, "deals.won", world["acme"], as_of=dt.date(2026, 6, 15)).value == 1000.0
    assert measure(them, "deals.open", world["home"], as_of=dt.date(2026, 6, 15)).n == 2
    assert selectors.account_deals(them, world["acme"]) and all(
        d["name"] != "Secret" for d in selectors.account_deals(them, world["acme"])
    )


def test_funnel_by_owner_is_for_the_owner_and_their_lead(world: dict[str, Any], cli: Any) -> None:
    make_caller("mia@our.test", "member")
    make_caller("tom@our.test", "member")
    make_caller("admin@our.test", "admin")
    services.add_deal(
        viewer=SYSTEM, account="Acme", name="Mia's", amount=1, owner="mia@our.test", at="2026-06-01"
    )
    services.add_deal(
        viewer=SYSTEM, account="Acme", name="Tom's", amount=1, owner="tom@our.test", at="2026-06-01"
    )
    # Tom reports to Mia: Mia sees both, Tom only his own, an admin neither
    mia = funnel(viewer_of(get_user("mia@our.test")), by="owner", start="2026-05-01")
    assert [g["name"] for g in mia["groups"]] == sorted(
        ["Mia Chen", "Tom Ray"],
        key=lambda n: {"Mia Chen": world["mia"].id, "Tom Ray": world["tom"].id}[n],
    )
    tom = funnel(viewer_of(get_user("tom@our.test")), by="owner", start="2026-05-01")
    assert [g["name"] for g in tom["groups"]] == ["Tom Ray"] and tom["rows"][0]["entries"] == 1
    assert (
        funnel(viewer_of(get_user("admin@our.test")), by="owner", start="2026-05-01")["groups"]
        == []
    )
    code, _, err = cli("funnel", "--by", "owner")
    assert code == 1 and "say who is asking (--user EMAIL)" in err
    code, out, _ = cli(
        "funnel", "--by", "owner", "--user", "tom@our.test", "--from", "2026-05-01", "--json"
    )
    assert code == 0 and [g["name"] for g in json.loads(out)["groups"]] == ["Tom Ray"]
