"""Deals and stage moves through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.errors import ValidationError
from kith.core.events import _handlers, subscribe
from kith.core.models import Change
from kith.core.viewer import SYSTEM
from kith.pipelines import selectors, services
from kith.pipelines.models import Position, StageChange
from kith.records.models import Record
from kith.relationships.models import Relationship


def test_a_deal_is_a_record_tied_to_its_account_and_people(world: dict[str, Any]) -> None:
    deal = services.add_deal(
        viewer=SYSTEM,
        account="Acme",
        name="Acme renewal",
        amount=12000,
        currency="usd",
        close="2026-09-30",
        owner="mia@our.test",
        contacts=[("lee@acme.test", "decision maker")],
        source="referral",
        at="2026-06-01",
    )
    assert deal.type_id == "deal" and deal.id.startswith("del_")
    assert Relationship.objects.filter(
        from_record=deal, to_record=world["acme"], type_id="deal_for"
    ).exists()
    rel = Relationship.objects.get(type_id="on_deal", to_record=deal)
    assert rel.from_record_id == world["lee"].id and rel.role == "decision_maker"
    view = selectors.deal_view(SYSTEM, deal.id)
    assert view["stage"] == "lead" and view["amount"] == 12000.0 and view["currency"] == "USD"
    assert view["account"] == {"id": world["acme"].id, "name": "Acme"}
    assert view["owner"]["name"] == "Mia Chen"
    assert view["people"] == [{"id": world["lee"].id, "name": "Lee Park", "role": "decision_maker"}]
    assert view["weighted"] == 1200.0
    assert Record.objects.get(pk=deal.pk).fields["status"] == "open"


def test_every_move_is_stored_published_and_in_history(world: dict[str, Any]) -> None:
    seen: list[dict[str, Any]] = []

    def on_move(**payload: Any) -> None:
        seen.append(payload)

    subscribe("stage.moved", on_move)
    try:
        deal = services.add_deal(
            viewer=SYSTEM, account="Acme", name="D1", amount=5, at="2026-06-01"
        )
        services.move(viewer=SYSTEM, ref=deal.id, stage="proposal", at="2026-06-05", note="fast")
        services.move(viewer=SYSTEM, ref=deal.id, stage="qualified", at="2026-06-07")
        services.lose(viewer=SYSTEM, ref=deal.id, reason="price", at="2026-06-10")
    finally:
        _handlers["stage.moved"].remove(on_move)
    moves = list(StageChange.objects.filter(record=deal).order_by("at"))
    assert [(m.from_stage.key if m.from_stage else None, m.to_stage.key) for m in moves] == [
        (None, "lead"),
        ("lead", "proposal"),
        ("proposal", "qualified"),
        ("qualified", "lost"),
    ]
    assert moves[1].note == "fast" and moves[3].reason == "price"
    assert [p["to_stage"] for p in seen] == ["lead", "proposal", "qualified", "lost"]
    assert Position.objects.get(record=deal).stage.key == "lost"
    rec = Record.objects.get(pk=deal.pk)
    assert rec.fields["status"] == "lost" and rec.fields["lost_reason"] == "price"
    assert rec.fields["closed_on"] == "2026-06-10"
    assert Change.objects.filter(entity_id=deal.id, action="stage").count() == 4


def test_lost_reason_required_and_checked(world: dict[str, Any]) -> None:
    deal = services.add_deal(viewer=SYSTEM, account="Acme", name="D1", amount=5)
    with pytest.raises(ValidationError, match="reason: sales needs a lost reason"):
        services.lose(viewer=SYSTEM, ref=deal.id)
    with pytest.raises(ValidationError, match="reason: 'weather' is not one of competitor, price"):
        services.lose(viewer=SYSTEM, ref=deal.id, reason="weather")
    # nothing changed: the deal is where it was, with one stage change
    assert Position.objects.get(record=deal).stage.key == "lead"
    assert StageChange.objects.filter(record=deal).count() == 1


def test_bad_moves_change_nothing(world: dict[str, Any]) -> None:
    deal = services.add_deal(viewer=SYSTEM, account="Acme", name="D1", amount=5, at="2026-06-10")
    with pytest.raises(ValidationError, match="stage: 'nowhere' is not a stage of sales"):
        services.move(viewer=SYSTEM, ref=deal.id, stage="nowhere")
    with pytest.raises(ValidationError, match="stage: D1 is at lead already"):
        services.move(viewer=SYSTEM, ref=deal.id, stage="lead")
    with pytest.raises(ValidationError, match=r"at: .* is before the last move"):
        services.move(viewer=SYSTEM, ref=deal.id, stage="won", at="2026-06-01")
    with pytest.raises(ValidationError, match="in the future"):
        services.move(viewer=SYSTEM, ref=deal.id, stage="won", at="2027-01-01")
    with pytest.raises(ValidationError, match="amount: -3 is outside"):
        services.add_deal(viewer=SYSTEM, account="Acme", name="D2", amount=-3)
    with pytest.raises(ValidationError, match="contact: role 'boss' is not one of"):
        services.add_deal(
            viewer=SYSTEM, account="Acme", name="D3", amount=3, contacts=[("Lee Park", "boss")]
        )
    assert StageChange.objects.filter(record=deal).count() == 1
    assert Record.objects.filter(type_id="deal").count() == 1


def test_pipeline_definition_is_checked(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="won: a pipeline needs at least one won stage"):
        services.add_pipeline(
            type_key="person", key="life", stages=[("lead", 0.1, "open"), ("gone", 0, "lost")]
        )
    with pytest.raises(ValidationError, match=r"probability 1\.5 is outside"):
        services.add_pipeline(type_key="person", key="life", stages=[("lead", 1.5, "open")])
    with pytest.raises(ValidationError, match="key: a pipeline 'sales' exists already"):
        services.add_pipeline(type_key="deal", key="sales", stages=[("a", 0, "open")])


def test_a_lead_lifecycle_for_people_is_a_pipeline_too(world: dict[str, Any]) -> None:
    services.add_pipeline(
        type_key="person",
        key="lifecycle",
        stages=[
            ("subscriber", 0.01, "open"),
            ("mql", 0.05, "open"),
            ("customer", 1, "won"),
            ("churned", 0, "lost"),
        ],
    )
    services.enter_record(viewer=SYSTEM, ref="Lee Park", pipeline="lifecycle", at="2026-06-01")
    services.move(viewer=SYSTEM, ref="Lee Park", stage="customer", at="2026-06-02")
    rows = selectors.positions(SYSTEM, pipeline="lifecycle", type_key="person")["rows"]
    assert [(r["name"], r["stage"]) for r in rows] == [("Lee Park", "customer")]
    with pytest.raises(ValidationError, match="pipeline: sales is for deal, not person records"):
        services.enter(record=world["lee"], pipeline=world["pipe"])


def test_deals_as_of_a_day(world: dict[str, Any]) -> None:
    d1 = services.add_deal(
        viewer=SYSTEM, account="Acme", name="D1", amount=10, at="2026-06-01", owner="Tom Ray"
    )
    services.add_deal(viewer=SYSTEM, account="Acme", name="D2", amount=20, at="2026-06-03")
    services.move(viewer=SYSTEM, ref=d1.id, stage="proposal", at="2026-06-05")
    now = selectors.positions(SYSTEM)
    assert {(r["name"], r["stage"]) for r in now["rows"]} == {("D1", "proposal"), ("D2", "lead")}
    then = selectors.positions(SYSTEM, as_of="2026-06-02")
    assert [(r["name"], r["stage"]) for r in then["rows"]] == [("D1", "lead")]
    assert selectors.positions(SYSTEM, stage="proposal")["total"] == 1
    assert [r["name"] for r in selectors.positions(SYSTEM, owner="tom@our.test")["rows"]] == ["D1"]
