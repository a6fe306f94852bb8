"""The CLI and the API give the metric's same answer; bad input is one clear line."""

from __future__ import annotations

import json
from typing import Any

from kith.core.viewer import SYSTEM
from kith.metrics.selectors import show
from kith.server.tests.conftest import make_caller
from kith.testing import log, make_home, make_org, make_person


def _world() -> None:
    home = make_home()
    mia = make_person("Mia Chen", email="mia@our.test", org=home)
    acme = make_org("Acme")
    lee = make_person("Lee Park", org=acme, role="CFO")
    log("meeting", mia, lee, at="2026-06-01T10:00Z")


def test_cli_and_api_agree(cli: Any, time_travel: Any) -> None:
    _world()
    code, out, _ = cli(
        "metric", "show", "interactions.two_way", "Acme", "--window", "30d", "--json"
    )
    assert code == 0
    got = json.loads(out)
    assert got == show(SYSTEM, "interactions.two_way", "Acme", window="30d")
    assert got["value"] == 1
    code, out, _ = cli("metric", "show", "interactions.two_way", "Acme", "--window", "30d")
    assert code == 0 and "Two-way interactions for Acme: 1 interactions" in out
    code, out, _ = cli("metric", "list", "--json")
    assert code == 0 and "people.engaged" in {m["key"] for m in json.loads(out)}
    caller = make_caller("viewer@our.test", "viewer")
    status, body = caller.call("GET", "/metrics/interactions.two_way/Acme", None, window="30d")
    assert status == 200 and body == got
    status, body = caller.call("GET", "/metrics", None)
    assert status == 200 and len(body) >= 8


def test_bad_input_is_one_line(cli: Any, time_travel: Any) -> None:
    _world()
    code, _, err = cli("metric", "show", "nope", "Acme")
    assert code == 1 and err.strip().startswith("error: metric: unknown metric 'nope'")
    assert "Traceback" not in err
    code, _, err = cli("metric", "show", "health", "Acme", "--as-of", "tomorrowish")
    assert code == 1 and "as_of: 'tomorrowish' is not a valid date" in err
    code, _, err = cli("metric", "show", "health", "Acme", "--window", "x")
    assert code == 1 and "--window: 'x'" in err
    caller = make_caller("viewer@our.test", "viewer")
    status, body = caller.call("GET", "/metrics/health/Acme", None, window="x")
    assert status == 422 and body["field"] == "window"
