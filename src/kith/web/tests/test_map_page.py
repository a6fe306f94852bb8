"""The relationship map page, its JSON, the warm-introduction path finder and the org chart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record
from kith.core.viewer import SYSTEM
from kith.plans import services as plan_services
from kith.records.services import delete_record
from kith.testing import log, make_home, make_org, make_person, relate


@pytest.fixture
def world() -> dict[str, Any]:
    """Sam (our team) talks to Jane; Jane works at Acme and knows Bob; Bob knows Zoe."""
    home = make_home()
    sam = make_person("Sam Seller", email="sam@our.test", org=home)
    acme = make_org("Acme")
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CTO", since="2020-01-01")
    boss = make_person("Ann Boss", email="ann@acme.test", org=acme, role="CEO", since="2019-01-01")
    relate(jane, "reports_to", boss, since="2020-01-01")
    bob = make_person("Bob Stone", email="bob@else.test")
    zoe = make_person("Zoe Far", email="zoe@else.test")
    relate(jane, "knows", bob, since="2021-05-01")
    relate(bob, "knows", zoe, since="2021-05-01")
    for day in range(1, 8):
        log("call", sam, jane, at=f"2026-0{1 + day % 8}-1{day}T10:00", direction="out")
        log("email", jane, sam, at=f"2026-0{1 + day % 8}-1{day}T12:00", direction="in")
    return {
        "home": home,
        "sam": sam,
        "acme": acme,
        "jane": jane,
        "boss": boss,
        "bob": bob,
        "zoe": zoe,
    }


def body(resp: Any) -> str:
    return resp.content.decode()


def test_map_page_lists_nodes_as_links(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    resp = member.get(f"/records/{jane.id}/map")
    assert resp.status_code == 200
    html = body(resp)
    assert 'id="map"' in html and "vendor/cytoscape.min.js" in html and "web/map.js" in html
    assert f'data-src="/records/{jane.id}/map.json"' in html
    for name in ("Acme", "Bob Stone", "Ann Boss"):
        assert name in html
    assert f'href="/records/{world["bob"].id}"' in html
    assert "Zoe Far" not in html  # two hops away; depth 1
    assert 'value="knows"' in html and 'value="works_at"' in html  # type checkboxes
    html2 = body(member.get(f"/records/{jane.id}/map?depth=2"))
    assert "Zoe Far" in html2 and "Two hops away" in html2


def test_map_json(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    resp = member.get(f"/records/{jane.id}/map.json?depth=2")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/json")
    data = json.loads(resp.content)
    ids = {n["id"] for n in data["nodes"]}
    assert {jane.id, world["bob"].id, world["zoe"].id, world["acme"].id} <= ids
    assert data["center"]["id"] == jane.id
    assert all(n["url"] == f"/records/{n['id']}" for n in data["nodes"])
    assert any(e["type"] == "knows" for e in data["edges"])
    assert "knows" in data["types"] and data["paths"] == []


def test_filter_by_type_and_date(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    html = body(member.get(f"/records/{jane.id}/map?types=knows"))
    assert "Bob Stone" in html and 'href="/records/' + world["acme"].id + '"' not in html
    data = json.loads(member.get(f"/records/{jane.id}/map.json?types=works_at").content)
    assert {n["name"] for n in data["nodes"]} >= {"Acme"}
    assert "Bob Stone" not in {n["name"] for n in data["nodes"]}
    # as of 2020-06-01 Jane did not know Bob yet
    html = body(member.get(f"/records/{jane.id}/map?as_of=2020-06-01"))
    assert "Acme" in html and "Bob Stone" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=2020-02-30", "is not a date"),
        ("as_of=" + "1" * 100, "is not a date"),
        ("depth=9", "depth: 9 is outside 1..3"),
        ("depth=deep", "is not a whole number"),
    ],
)
def test_bad_map_input(member: Client, world: dict[str, Any], query: str, message: str) -> None:
    jane = world["jane"]
    resp = member.get(f"/records/{jane.id}/map?{query}")
    assert resp.status_code == 400 and message in body(resp)
    assert 'class="field-error"' in body(resp)
    resp = member.get(f"/records/{jane.id}/map.json?{query}")
    assert resp.status_code == 400 and message in json.dumps(json.loads(resp.content))


def test_path_finder_lists_and_returns_paths(member: Client, world: dict[str, Any]) -> None:
    zoe = world["zoe"]
    resp = member.get(f"/records/{world['jane'].id}/map", {"to": "zoe@else.test", "max_hops": "4"})
    assert resp.status_code == 200, body(resp)
    html = body(resp)
    assert "Path 1" in html and "highlighted on the map" in html
    for name in ("Sam Seller", "Jane Doe", "Bob Stone", "Zoe Far"):
        assert name in html
    assert "interacted with" in html and "knows" in html and "strength" in html
    data = json.loads(
        member.get(f"/records/{world['jane'].id}/map.json", {"to": zoe.id, "max_hops": "4"}).content
    )
    route = data["paths"][0]["nodes"]
    assert route[0] == world["sam"].id and route[-1] == zoe.id
    assert {n["id"] for n in data["nodes"]} >= set(route)  # off-map hops are added
    # empty "to" means the map's own record
    html = body(member.get(f"/records/{world['bob'].id}/map", {"to": ""}))
    assert "Path 1" in html and "Bob Stone" in html


def test_no_path_says_so(member: Client, world: dict[str, Any]) -> None:
    far = make_person("Lonely Lu", email="lu@else.test")
    relate(far, "knows", make_person("Other Ola", email="ola@else.test"))
    html = body(member.get(f"/records/{far.id}/map", {"to": far.id, "max_hops": "2"}))
    assert "No warm path of at most 2 hops to Lonely Lu" in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"to": "Nobody Known"}, "to", "no record matches"),
        ({"to": "Sam Seller"}, "to", "is on our own team"),
        ({"to": "Zoe Far", "max_hops": "99"}, "max_hops", "is outside 1..8"),
        ({"to": "Zoe Far", "max_hops": "x"}, "max_hops", "is not a whole number"),
        ({"to": "Zoe Far", "from": "Acme"}, "from", "is not a person"),
    ],
)
def test_bad_path_input(
    member: Client, world: dict[str, Any], params: dict[str, str], field: str, message: str
) -> None:
    resp = member.get(f"/records/{world['jane'].id}/map", params)
    assert resp.status_code == 400
    html = body(resp)
    assert f'id="path-{field}-error"' in html and message in html
    assert f'aria-describedby="path-{field}-error"' in html


def test_paths_and_maps_skip_private_records(make_client: Any, world: dict[str, Any]) -> None:
    owner, other = make_client("member"), make_client("member")
    secret = add_owned_record(
        user=get_user("member1@our.test"), private=True, type_key="person", name="Hidden Hal"
    )
    far = make_person("Only Via Hal", email="ovh@else.test")
    relate(world["bob"], "knows", secret)
    relate(secret, "knows", far)
    assert "Hidden Hal" in body(owner.get(f"/records/{world['bob'].id}/map"))
    assert "Hidden Hal" not in body(other.get(f"/records/{world['bob'].id}/map"))
    html = body(other.get(f"/records/{world['bob'].id}/map", {"to": far.id}))
    assert "Hidden Hal" not in html
    assert "Hidden Hal" in body(owner.get(f"/records/{world['bob'].id}/map", {"to": far.id}))
    resp = other.get(f"/records/{world['bob'].id}/map", {"to": secret.id})
    assert resp.status_code == 400 and "no record matches" in body(resp)


def test_viewer_can_explore(viewer: Client, world: dict[str, Any]) -> None:
    assert viewer.get(f"/records/{world['jane'].id}/map").status_code == 200
    assert viewer.get(f"/records/{world['jane'].id}/map", {"to": "Zoe Far"}).status_code == 200


def test_deleted_or_unknown_record_has_no_map(member: Client, world: dict[str, Any]) -> None:
    delete_record(ref=world["zoe"].id)
    assert member.get(f"/records/{world['zoe'].id}/map").status_code == 404
    assert member.get("/records/per_nope/map").status_code == 404
    resp = member.get("/records/per_nope/map.json")
    assert resp.status_code == 404 and "error" in json.loads(resp.content)


def test_orgchart(member: Client, world: dict[str, Any]) -> None:
    acme = world["acme"]
    html = body(member.get(f"/records/{acme.id}/orgchart"))
    assert "Org chart of" in html and "Ann Boss" in html and "CEO" in html
    # Jane reports to Ann: her item is nested inside Ann's
    ann_at, jane_at = html.index("Ann Boss"), html.index("Jane Doe")
    assert ann_at < jane_at and '<ul class="orgchart">' in html[ann_at:jane_at]
    assert member.get(f"/records/{world['jane'].id}/orgchart").status_code == 400
    resp = member.get(f"/records/{acme.id}/orgchart?as_of=soon")
    assert resp.status_code == 400 and "is not a date" in body(resp)


def test_map_escapes_names(member: Client, world: dict[str, Any]) -> None:
    evil = make_person('"><script>alert(1)</script>', email="evil@else.test")
    relate(evil, "knows", world["jane"])
    html = body(member.get(f"/records/{world['jane'].id}/map", {"to": evil.id}))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    raw = member.get(f"/records/{world['jane'].id}/map.json").content.decode()
    assert "<script>" not in raw  # JSON escapes < so it is safe anywhere


def test_map_queries_do_not_grow(
    member: Client, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    jane = world["jane"]
    url = f"/records/{jane.id}/map?depth=2&to=Zoe+Far"

    def count() -> int:
        member.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert member.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(20):
        relate(jane, "knows", make_person(f"Pal {i}", email=f"pal{i}@x.test"))
    assert count() <= small + 2
    with django_assert_max_num_queries(40):
        member.get(url)
    with django_assert_max_num_queries(40):
        member.get(f"/records/{jane.id}/map.json?depth=2&to=Zoe+Far")


def _plan_world(world: dict[str, Any]) -> Any:
    """An active plan for Acme: Jane (talks with Sam often) the champion, Ann the buyer."""
    plan = plan_services.add_plan(viewer=SYSTEM, account=world["acme"].id, name="Acme growth")
    plan_services.add_stakeholder(
        viewer=SYSTEM, plan=plan.id, person=world["jane"].id, role="champion", stance="supporter"
    )
    plan_services.add_stakeholder(
        viewer=SYSTEM,
        plan=plan.id,
        person=world["boss"].id,
        role="economic buyer",
        stance="detractor",
    )
    return plan


def test_stakeholder_overlay_on_the_map(member: Client, world: dict[str, Any]) -> None:
    plan = _plan_world(world)
    acme, jane, boss = world["acme"], world["jane"], world["boss"]
    # off by default: the control is there, unchecked, and the list is hidden
    html = body(member.get(f"/records/{acme.id}/map"))
    assert 'id="map-stakeholders" name="stakeholders" value="1" >' in html
    assert (
        '<section class="card" id="stakeholder-list" aria-labelledby="stakeholders-h" hidden>'
        in html
    )
    assert f'href="/plans/{plan.id}"' in html
    # on (state in the URL): stakeholders listed as links with role, stance and warmth
    html = body(member.get(f"/records/{acme.id}/map", {"stakeholders": "1"}))
    assert (
        'value="1" checked>' in html
        and 'id="stakeholder-list" aria-labelledby="stakeholders-h" >' in html
    )
    data = json.loads(member.get(f"/records/{acme.id}/map.json").content)
    got = {s["name"]: s for s in data["overlay"]["stakeholders"]}
    assert set(got) == {"Jane Doe", "Ann Boss"}
    assert (got["Jane Doe"]["role"], got["Jane Doe"]["stance"]) == ("champion", "supporter")
    assert (got["Ann Boss"]["role"], got["Ann Boss"]["stance"]) == ("economic_buyer", "detractor")
    assert got["Ann Boss"]["band"] == "cold"  # nobody on our team ever talked to her
    assert got["Jane Doe"]["band"] != "cold" and got["Jane Doe"]["warm_with"] == ["Sam Seller"]
    for name, s in got.items():
        link = f'<a class="band band-{s["band"]}" href="/records/{s["id"]}">{name}</a>'
        assert link in html
        assert f"{s['role_label']}, {s['stance']}, {round(s['health'])} {s['band']}" in html
    assert "economic buyer, detractor" in html
    # the JSON the script fetches carries the overlay whatever the box says
    url = f'data-src="/records/{acme.id}/map.json"'
    assert url in html
    # a person who is a stakeholder shows the overlay of the plan too
    data = json.loads(member.get(f"/records/{jane.id}/map.json").content)
    assert [p["id"] for p in data["overlay"]["plans"]] == [plan.id]
    assert 'id="map-stakeholders"' in body(member.get(f"/records/{boss.id}/map"))


def test_no_plan_no_overlay(member: Client, world: dict[str, Any]) -> None:
    for rec in (world["acme"], world["jane"], world["bob"]):
        html = body(member.get(f"/records/{rec.id}/map", {"stakeholders": "1"}))
        assert 'id="map-stakeholders"' not in html and 'id="stakeholder-list"' not in html
        assert json.loads(member.get(f"/records/{rec.id}/map.json").content)["overlay"] is None
    # a plan that is not active has no overlay either
    plan_services.add_plan(viewer=SYSTEM, account=world["acme"].id, name="Old", status="closed")
    assert 'id="map-stakeholders"' not in body(member.get(f"/records/{world['acme'].id}/map"))


def test_private_stakeholder_is_neither_drawn_nor_counted(
    make_client: Any, world: dict[str, Any]
) -> None:
    owner, other = make_client("member"), make_client("member")
    plan = _plan_world(world)
    me = viewer_of(get_user("member1@our.test"))
    secret = add_owned_record(
        user=get_user("member1@our.test"), private=True, type_key="person", name="Secret Sue"
    )
    plan_services.add_stakeholder(viewer=me, plan=plan.id, person=secret.id, role="decision maker")
    acme = world["acme"].id
    mine = json.loads(owner.get(f"/records/{acme}/map.json").content)["overlay"]
    assert {s["name"] for s in mine["stakeholders"]} == {"Jane Doe", "Ann Boss", "Secret Sue"}
    assert "Secret Sue" in body(owner.get(f"/records/{acme}/map", {"stakeholders": "1"}))
    raw = other.get(f"/records/{acme}/map.json").content.decode()
    theirs = json.loads(raw)["overlay"]
    assert {s["name"] for s in theirs["stakeholders"]} == {"Jane Doe", "Ann Boss"}
    assert "Secret Sue" not in raw and secret.id not in raw
    html = body(other.get(f"/records/{acme}/map", {"stakeholders": "1"}))
    assert "Secret Sue" not in html and secret.id not in html
    # the private person's own map does not exist for the other user
    assert other.get(f"/records/{secret.id}/map").status_code == 404


def test_overlay_queries_do_not_grow(
    member: Client, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    plan = _plan_world(world)
    acme = world["acme"]
    url = f"/records/{acme.id}/map?stakeholders=1"

    def count(path: str) -> int:
        member.get(path)
        with CaptureQueriesContext(connection) as ctx:
            assert member.get(path).status_code == 200
        return len(ctx.captured_queries)

    small, small_json = count(url), count(f"/records/{acme.id}/map.json")
    for i in range(12):
        pal = make_person(f"Pal {i}", email=f"pal{i}@acme.test", org=acme)
        plan_services.add_stakeholder(viewer=SYSTEM, plan=plan.id, person=pal.id, role="user")
    assert count(url) <= small + 2
    assert count(f"/records/{acme.id}/map.json") <= small_json + 2
    with django_assert_max_num_queries(40):
        member.get(url)
    with django_assert_max_num_queries(40):
        member.get(f"/records/{acme.id}/map.json")
