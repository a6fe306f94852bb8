"""Finding likely duplicates: blocking, scores and reasons in plain words."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.core.viewer import SYSTEM
from kith.dedupe.selectors import MAX_BLOCK, find_duplicates, name_block, name_similarity
from kith.records.models import ContactPoint, Record
from kith.records.services import add_person, delete_record
from kith.relationships.models import Relationship
from kith.testing import load_contact, make_org, make_person


def _pair(result: dict[str, Any], a: str, b: str) -> dict[str, Any] | None:
    for p in result["pairs"]:
        if {p["keep"]["id"], p["other"]["id"]} == {a, b}:
            return p
    return None


def test_same_email_phone_and_similar_name_at_org_are_found_with_reasons() -> None:
    acme = make_org("Acme", domains=("acme.test",))
    other_org = make_org("Globex")
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme)
    jane2 = add_person(name="Doe, Jane")
    load_contact(jane2, "email", "JANE@Acme.test")  # an email two records share
    bob = add_person(name="Robert Smith", phones=["+1 202 555 0101"])
    bob2 = add_person(name="Robert Smith Jr", phones=["(202) 555-0101"])
    jon = make_person("Jonathan Miller", org=acme)
    jon2 = make_person("Jonathon Miller", org=acme)
    far = make_person("Jonathan Millar", org=other_org)  # same-ish name, other org
    result = find_duplicates(SYSTEM, min_score=0)

    p = _pair(result, jane.id, jane2.id)
    assert p is not None and p["score"] >= 90
    assert "same email jane@acme.test" in p["reasons"] and "same name" in p["reasons"]
    assert p["keep"]["id"] == jane.id  # the older record is proposed to keep

    p = _pair(result, bob.id, bob2.id)
    assert p is not None and "same phone +12025550101" in p["reasons"]

    p = _pair(result, jon.id, jon2.id)
    assert p is not None and any(r.startswith("similar names (") for r in p["reasons"])
    assert any(r.endswith("at Acme") for r in p["reasons"])
    assert _pair(result, jon.id, far.id) is None  # different organisations, no evidence
    # the strongest evidence comes first
    scores = [p["score"] for p in result["pairs"]]
    assert scores == sorted(scores, reverse=True)


def test_organisations_by_domain_and_name_without_legal_suffix() -> None:
    a = make_org("Acme", domains=("acme.test",))
    b = make_org("ACME Inc.", domains=("www.acme.test",))
    make_org("Acme Robotics")
    result = find_duplicates(SYSTEM, type_key="org", min_score=0)
    p = _pair(result, a.id, b.id)
    assert p is not None
    assert p["reasons"] == ["same domain acme.test", "same name"]
    assert p["score"] >= 90
    assert all(pair["keep"]["type"] == "organization" for pair in result["pairs"])
    assert name_block("acme inc.", "organization") == name_block("the acme", "organization")


def test_filters_min_score_limit_type_and_deleted_records() -> None:
    a = make_person("Ann Lee", email="ann@x.test")
    b = add_person(name="Ann Lee")
    c = add_person(name="Zed Q", emails=["shared@x.test"])
    d = add_person(name="Yolanda Parks")
    load_contact(b, "email", "ann@x.test")
    load_contact(d, "email", "shared@x.test")
    everything = find_duplicates(SYSTEM, min_score=0)
    weak = _pair(everything, c.id, d.id)
    assert weak is not None and weak["score"] < 90
    assert any(r.startswith("but the names differ") for r in weak["reasons"])
    strong = find_duplicates(SYSTEM, min_score=weak["score"] + 1)
    assert _pair(strong, c.id, d.id) is None and _pair(strong, a.id, b.id) is not None
    assert len(find_duplicates(SYSTEM, min_score=0, limit=1)["pairs"]) == 1
    assert find_duplicates(SYSTEM, type_key="organization", min_score=0)["pairs"] == []
    delete_record(ref=b.id)
    assert _pair(find_duplicates(SYSTEM, min_score=0), a.id, b.id) is None


def test_values_shared_by_many_records_are_skipped_not_paired() -> None:
    for i in range(MAX_BLOCK + 1):
        add_person(name=f"Caller {i}", phones=["+1 202 555 0199"])
    result = find_duplicates(SYSTEM, min_score=0)
    assert result["pairs"] == []
    assert result["skipped"] == [f"phone +12025550199 is shared by {MAX_BLOCK + 1} records"]


def test_name_similarity_ignores_order_and_accepts_initials() -> None:
    assert name_similarity("jane doe", "doe jane") == 100
    assert name_similarity("j. doe", "jane doe") >= 85
    assert name_similarity("jane doe", "mark twain") < 50


def test_query_count_does_not_grow_with_the_workspace() -> None:
    def build(n: int, prefix: str) -> None:
        org = Record.objects.create(
            id=f"org_{prefix}", type_id="organization", name=prefix, name_key=prefix
        )
        people = [
            Record(id=f"per_{prefix}{i}", type_id="person", name=f"P {prefix} {i}")
            for i in range(n)
        ]
        for r in people:
            r.name_key = r.name.casefold()
        Record.objects.bulk_create(people)
        ContactPoint.objects.bulk_create(
            ContactPoint(
                record=r,
                kind="email",
                value=f"p{i % (n // 2)}@{prefix}.test",
                normalized=f"p{i % (n // 2)}@{prefix}.test",
            )
            for i, r in enumerate(people)
        )
        Relationship.objects.bulk_create(
            Relationship(id=f"rel_{r.id}", type_id="works_at", from_record=r, to_record=org)
            for r in people
        )

    build(40, "a")
    with CaptureQueriesContext(connection) as small:
        small_result = find_duplicates(SYSTEM, min_score=0)
    build(400, "b")
    with CaptureQueriesContext(connection) as big:
        big_result = find_duplicates(SYSTEM, min_score=0)
    assert big_result["total"] > small_result["total"] >= 20
    assert len(big.captured_queries) <= len(small.captured_queries) + 2


def test_cli_lists_pairs_as_json_and_for_people(cli) -> None:  # type: ignore[no-untyped-def]
    a = make_person("Ann Lee", email="ann@x.test")
    b = add_person(name="Ann Lee")
    load_contact(b, "email", "ann@x.test")
    code, out, _ = cli("duplicates", "--json")
    assert code == 0
    data = json.loads(out)
    assert [(p["keep"]["id"], p["other"]["id"]) for p in data["pairs"]] == [(a.id, b.id)]
    code, out, _ = cli("duplicates")
    assert code == 0 and "same email" in out and "kith merge KEEP OTHER" in out
    code, _, err = cli("duplicates", "--min-score", "101")
    assert code == 1 and "min-score" in err
    code, _, err = cli("duplicates", "--type", "nonsense")
    assert code == 1 and "unknown record type" in err
