"""Dashboards as data: widgets checked, starters, sharing, values through the catalogue for
the viewer (a private deal counts for nobody it is hidden from), export and re-import."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_user, set_private
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.pipelines import services
from kith.pipelines.dashboards import dashboard_view, dashboards
from kith.pipelines.models import Dashboard
from kith.records.services import add_record, define_type


def test_widgets_are_checked_one_by_one(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=r"widgets\[1\]\.chart: 'pie' is not one of"):
        services.save_dashboard(
            key="d", widgets=[{"metric": "deals.won"}, {"metric": "deals.won", "chart": "pie"}]
        )
    with pytest.raises(NotFound, match=r"widgets\[0\]\.metric: unknown metric 'nope'"):
        services.save_dashboard(key="d", widgets=[{"metric": "nope"}])
    with pytest.raises(ValidationError, match=r"widgets\[0\]\.period: 0 is outside"):
        services.save_dashboard(key="d", widgets=[{"metric": "deals.won", "period": 0}])
    with pytest.raises(
        ValidationError, match="starter: 'hr' is not one of sales, support, marketing"
    ):
        services.save_dashboard(key="d", starter="hr")
    assert not Dashboard.objects.exists()


def test_a_dashboard_computes_for_its_viewer(world: dict[str, Any], time_travel: Any) -> None:
    add_user(email="owner@our.test", role="member", team="sales")
    add_user(email="mate@our.test", role="member", team="sales")
    add_user(email="other@our.test", role="member", team="support")
    a = services.add_deal(
        viewer=SYSTEM, account="Acme", name="A", amount=100, at="2026-05-01", source="web"
    )
    services.win(viewer=SYSTEM, ref=a.id, at="2026-06-01")
    b = services.add_deal(
        viewer=SYSTEM, account="Acme", name="B", amount=900, at="2026-05-01", source="event"
    )
    services.win(viewer=SYSTEM, ref=b.id, at="2026-06-02")
    set_private(record=b, private=True, user=get_user("owner@our.test"))
    services.save_dashboard(key="sales", starter="sales", owner="owner@our.test", shared="team")
    services.save_dashboard(
        key="acme",
        name="Acme",
        widgets=[
            {"metric": "deals.won", "scope": "Acme", "compare": "previous", "chart": "number"},
            {"metric": "deals.won", "group": ["Acme"], "chart": "bar"},
            {"metric": "health", "chart": "number"},  # the home organisation has no health
        ],
    )
    owner = viewer_of(get_user("owner@our.test"))
    mate = viewer_of(get_user("mate@our.test"))
    other = viewer_of(get_user("other@our.test"))
    assert [d["key"] for d in dashboards(mate)] == ["acme", "sales"]
    assert [d["key"] for d in dashboards(other)] == ["acme"]
    with pytest.raises(NotFound):
        dashboard_view(other, "sales")
    mine = dashboard_view(owner, "sales", as_of="2026-06-15")
    theirs = dashboard_view(mate, "sales", as_of="2026-06-15")
    assert mine["widgets"][0]["current"]["value"] == 1000.0
    assert theirs["widgets"][0]["current"]["value"] == 100.0
    assert b.id not in json.dumps(theirs) and "event" not in json.dumps(theirs["widgets"][4])
    assert theirs["widgets"][0]["comparison"] == {
        **theirs["widgets"][0]["comparison"],
        "value": 0.0,
    }
    assert len(theirs["widgets"][2]["series"]) == 6
    acme = dashboard_view(SYSTEM, "acme", as_of="2026-06-15")
    assert acme["widgets"][0]["drill"] == "/deals"
    assert acme["widgets"][1]["groups"][0]["value"] == 1000.0
    assert "error" in acme["widgets"][2] and "current" not in acme["widgets"][2]


def test_export_and_add_again(world: dict[str, Any], cli: Any, tmp_path: Any) -> None:
    code, out, err = cli("dashboard", "add", "mkt", "--starter", "marketing", "--json")
    assert code == 0, err
    code, out, _ = cli("dashboard", "export", "mkt")
    exported = json.loads(out)
    path = tmp_path / "d.json"
    path.write_text(out)
    code, out, err = cli("dashboard", "add", "copy", "--file", str(path), "--json")
    assert code == 0, err
    assert (
        json.loads(out)["widgets"] == exported["widgets"]
        and json.loads(out)["name"] == "Marketing outcomes"
    )
    code, out, _ = cli("dashboard", "show", "copy", "--as-of", "2026-06-15", "--json")
    assert code == 0 and [w["title"] for w in json.loads(out)["widgets"]] == [
        "Where deals come from",
        "NPS",
        "Value events",
    ]
    code, _, err = cli("dashboard", "add", "copy", "--starter", "sales")
    assert code == 1 and err.strip() == "error: key: a dashboard 'copy' exists already"


def test_custom_types_work_without_code(world: dict[str, Any]) -> None:
    define_type(key="vendor", fields=["spend:number"])
    add_record(type_key="vendor", name="Parts Inc", fields={"spend": 1200})
    services.add_pipeline(
        type_key="vendor",
        key="onboarding",
        stages=[("applied", 0.2, "open"), ("approved", 1, "won"), ("rejected", 0, "lost")],
    )
    services.enter_record(viewer=SYSTEM, ref="Parts Inc", pipeline="onboarding", at="2026-06-01")
    services.move(viewer=SYSTEM, ref="Parts Inc", stage="approved", at="2026-06-02")
    services.save_dashboard(
        key="vendors",
        name="Vendors",
        widgets=[
            {"metric": "field.number", "scope": "Parts Inc", "params": {"field": "spend"}},
            {"metric": "funnel", "chart": "funnel", "params": {"pipeline": "onboarding"}},
        ],
    )
    got = dashboard_view(SYSTEM, "vendors", as_of="2026-06-15")
    assert got["widgets"][0]["current"]["value"] == 1200.0
    rows = {r["stage"]: r for r in got["widgets"][1]["funnel"]["rows"]}
    assert rows["applied"]["entries"] == 1 and rows["applied"]["advanced"] == 1
