"""Paths, mutual connections, maps, org charts and connectors go only through, and name
only, records the viewer may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from kith.core import clock
from kith.core.errors import NotFound
from kith.core.viewer import SYSTEM, Viewer
from kith.network.selectors import connectors, ego_map, mutual, orgchart, path
from kith.records.models import Record
from kith.testing import log, make_home, make_org, make_person, relate


@pytest.fixture
def world() -> dict[str, Any]:
    """Mia (our team) meets Jane, Jane (private to owner) reports to Bob and knows Zed."""
    users = get_user_model().objects
    owner = users.create_user(username="owner@our.test")
    other = users.create_user(username="other@our.test")
    home = make_home()
    mia = make_person("Mia Team", org=home)
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="VP")
    bob = make_person("Bob Boss", org=acme, role="CEO")
    zed = make_person("Zed Target")
    relate(jane, "reports_to", bob)
    relate(jane, "knows", zed, since="2020-01-01")
    log("meeting", mia, jane, at=(clock.today() - dt.timedelta(days=3)).isoformat())
    Record.objects.filter(pk=jane.pk).update(private=True, owner=owner)
    return {"owner": Viewer(user_id=owner.pk), "other": Viewer(user_id=other.pk), "jane": jane}


def _reads(viewer: Viewer) -> dict[str, Any]:
    return {
        "path": path(viewer, "Zed Target"),
        "path_from": path(viewer, "Acme", from_="Zed Target"),
        "mutual": mutual(viewer, "Mia Team", "Bob Boss"),
        "map_zed": ego_map(viewer, "Zed Target", depth=2),
        "map_acme": ego_map(viewer, "Acme", depth=2),
        "orgchart": orgchart(viewer, "Acme"),
        "connectors": connectors(viewer),
        "connectors_acme": connectors(viewer, org="Acme"),
    }


def test_the_network_of_a_viewer_holds_nothing_hidden_from_them(world: dict[str, Any]) -> None:
    full, seen = _reads(SYSTEM), _reads(world["other"])
    jane = world["jane"].id
    for key, data in full.items():
        if key != "connectors_acme":
            assert "Jane Doe" in str(data), key
    for key, data in seen.items():
        assert "Jane Doe" not in str(data) and jane not in str(data), key
    assert seen["path"]["paths"] == [] and seen["path_from"]["paths"] == []
    assert seen["mutual"]["mutual"] == []
    assert {n["name"] for n in seen["map_zed"]["nodes"]} == {"Zed Target"}
    assert seen["map_zed"]["groups"] == {} and seen["map_zed"]["edges"] == []
    assert (full["orgchart"]["people"], seen["orgchart"]["people"]) == (2, 1)
    assert [t["name"] for t in seen["orgchart"]["tree"]] == ["Bob Boss"]
    assert seen["orgchart"]["tree"][0]["reports"] == []
    assert _reads(world["owner"]) == full  # the owner sees their own records
    with pytest.raises(NotFound, match="no record matches 'Jane Doe'"):
        ego_map(world["other"], "Jane Doe")
