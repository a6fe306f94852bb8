"""A schema test: no list endpoint orders our people by a performance metric.

Every parameter of the API that orders or groups a list (sort, order, by, rank) is read
from the OpenAPI document; none may offer a measure of how one of our people performs
(activity, interactions, replies, wins, tasks done, a score or strength). Health, which
lists may sort by, is never computed for our own people (it measures outside ties), so
sorting a list by it cannot rank them either."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.intelligence.selectors import health
from kith.server.api import api
from kith.testing import make_home, make_person

ORDERING = re.compile(r"sort|order|rank|^by$", re.I)
PERFORMANCE = re.compile(
    r"activit|interactions|repl|win|won|tasks?_done|performance|quota|strength|\bscore\b",
    re.I,
)


def test_no_list_endpoint_orders_people_by_a_performance_metric() -> None:
    checked = 0
    for path, ops in api.get_openapi_schema()["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if not ORDERING.search(p["name"]):
                    continue
                checked += 1
                said = f"{p.get('description', '')} {p.get('schema', {})}"
                assert not PERFORMANCE.search(said), f"{method.upper()} {path} {p['name']}: {said}"
    assert checked >= 3  # the records, relationships and interactions lists at least


def test_our_people_have_no_health_to_sort_by(db: Any) -> None:
    home = make_home()
    make_person("Ann Lee", email="ann@our.test", org=home)
    with pytest.raises(ValidationError, match="Ann Lee is on our team"):
        health(SYSTEM, "Ann Lee")
