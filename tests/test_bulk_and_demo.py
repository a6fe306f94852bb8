"""The bulk path and the demo generator."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kith.bulk.services import load
from kith.core.errors import ValidationError
from kith.demo.generator import Spec, generate
from kith.demo.services import load_demo
from kith.interactions.models import Interaction, Participant
from kith.records.models import Record
from kith.relationships.models import Relationship

SMALL = Spec(
    people=200, orgs=20, team=10, relationships=600, interactions=1500, end=dt.date(2026, 11, 1)
)


def _snapshot(spec: Spec) -> tuple[object, ...]:
    data = generate(spec)
    return (list(data.records), list(data.contacts), list(data.relationships),
            list(data.interactions))  # fmt: skip


def test_demo_data_is_deterministic_per_seed_and_end_date() -> None:
    assert _snapshot(SMALL) == _snapshot(SMALL)
    assert _snapshot(SMALL) != _snapshot(dataclasses.replace(SMALL, seed=8))


def test_each_kind_of_row_streams_again_the_same_and_the_team_comes_first() -> None:
    data = generate(SMALL)
    records = list(data.records)
    assert records == list(data.records) and len(records) == 1 + 20 + 200
    assert len(list(data.relationships)) == 600
    assert sum(1 for _ in data.interactions) == 1500
    people = [r[0] for r in records if r[1] == "person"]
    assert data.team == people[:10]
    orgs = [r[0] for r in records if r[1] == "organization"]
    assert (data.home_id, data.anchor_org) == (orgs[0], orgs[1])
    attached = generate(dataclasses.replace(SMALL, home_id="org_home"))
    their_orgs = [r[0] for r in attached.records if r[1] == "organization"]
    assert attached.home_id == "org_home" and attached.anchor_org == their_orgs[0]
    assert "org_home" not in their_orgs and len(their_orgs) == 20


def test_demo_meets_the_shape_the_issue_asks_for() -> None:
    result = load_demo(spec=Spec(end=dt.date(2026, 11, 1)))
    assert Record.objects.filter(type_id="organization").count() >= 150
    assert Record.objects.filter(type_id="person").count() >= 1500
    assert result["team"] >= 10
    assert Interaction.objects.count() >= 20_000
    span = Interaction.objects.order_by("at").values_list("at", flat=True)
    assert (span.last() - span.first()).days >= 700  # type: ignore[operator]
    types = set(Relationship.objects.values_list("type_id", flat=True))
    assert {"works_at", "reports_to", "knows", "referred", "customer_of"} <= types
    assert Relationship.objects.filter(type_id="works_at", until__isnull=False).exists()
    multi = (
        Relationship.objects.filter(
            until__isnull=True, type_id__in=["works_at", "board_member_of", "advisor_to"]
        )
        .values("from_record")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        .filter(n__gt=1)
    )
    assert multi.exists()


def test_bulk_load_with_a_dangling_reference_writes_nothing() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match="per_missing"):
        load(
            records=[("per_a", "person", "A", {})],
            interactions=[(("int_a", "call", at, "", "", None, None), [("per_missing", "to")], [])],
        )
    assert Record.objects.count() == 0 and Participant.objects.count() == 0


def test_many_people_few_relationships_still_employs_everyone_and_nobody_refers_themself() -> None:
    spec = dataclasses.replace(SMALL, seed=7, people=400, orgs=80, relationships=100)
    data = generate(spec)
    employed = {r[2] for r in data.relationships if r[1] == "works_at"}
    people = {r[0] for r in data.records if r[0].startswith("per_")}
    assert len(people) == 400 and people <= employed  # --relationships bounds the rest only
    assert all(r[2] != r[3] for r in data.relationships)
    for seed in range(30):  # seeds where someone once picked themself to refer
        made = generate(dataclasses.replace(SMALL, seed=seed, people=300, relationships=900))
        assert all(r[2] != r[3] for r in made.relationships)
