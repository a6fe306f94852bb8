"""Duplicates and merges are found and listed among the records the viewer may see only."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from kith.core.viewer import SYSTEM, Viewer
from kith.dedupe.selectors import find_duplicates, list_merges
from kith.dedupe.services import merge_records
from kith.records.models import Record
from kith.testing import load_contact, make_org, make_person


def test_a_hidden_record_is_never_half_of_a_pair_nor_counted() -> None:
    users = get_user_model().objects
    owner = Viewer(user_id=users.create_user(username="owner@our.test").pk)
    other = Viewer(user_id=users.create_user(username="other@our.test").pk)
    hush = make_org("Hush Ltd")
    jane = make_person("Jane Doe", email="jane@acme.test", org=hush)
    twin = make_person("Jane Doe", org=hush)
    load_contact(twin, "email", "jane@acme.test")
    make_person("Jon Public")
    for record in (twin, hush):
        Record.objects.filter(pk=record.pk).update(private=True, owner_id=owner.user_id)
    full = find_duplicates(SYSTEM, min_score=0)
    assert {twin.id, jane.id} <= {
        i for p in full["pairs"] for i in (p["keep"]["id"], p["other"]["id"])
    }
    assert any("at Hush Ltd" in r for p in full["pairs"] for r in p["reasons"])
    seen = find_duplicates(other, min_score=0)
    assert twin.id not in str(seen) and "Hush" not in str(seen)
    assert (seen["records"], seen["candidates"], seen["total"]) == (2, 0, 0)
    assert find_duplicates(owner, min_score=0)["pairs"] == full["pairs"]
    merge_records(keep=jane.id, other=twin.id)
    assert [m["other"]["id"] for m in list_merges(SYSTEM)] == [twin.id]
    assert list_merges(other) == [] and list_merges(other, record_id=jane.id) == []
    assert len(list_merges(owner)) == 1
