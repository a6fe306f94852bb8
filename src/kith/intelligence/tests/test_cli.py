"""The intelligence commands end to end, text and JSON."""

from __future__ import annotations

import json

from kith.testing import log, make_home, make_org, make_person


def _setup() -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="decision maker", since="2024-01-01")
    for day in ("2026-06-01", "2026-06-15", "2026-06-29"):
        log("meeting", mia, jane, at=f"{day}T10:00:00+00:00")


def test_strength_and_health_json(cli):
    _setup()
    code, out, _ = cli("strength", "Mia Team", "Jane Doe", "--as-of", "2026-07-01", "--json")
    assert code == 0
    view = json.loads(out)
    assert view["member"]["name"] == "Mia Team" and view["score"] > 0
    code, out, _ = cli("health", "Acme", "--as-of", "2026-07-01", "--trend", "--json")
    assert code == 0
    view = json.loads(out)
    assert view["record"]["name"] == "Acme" and len(view["trend"]) == 12
    code, out, _ = cli("health", "Acme", "--as-of", "2026-07-01")
    assert code == 0 and "Acme on 2026-07-01" in out


def test_best_and_at_risk(cli):
    _setup()
    code, out, _ = cli("best", "--as-of", "2026-07-01", "--json")
    assert code == 0 and {r["name"] for r in json.loads(out)} >= {"Acme", "Jane Doe"}
    code, out, _ = cli("at-risk", "--as-of", "2026-12-01", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows and rows[0]["change"] < 0 and rows[0]["reasons"]
    code, out, _ = cli("at-risk", "--as-of", "2026-12-01")
    assert code == 0 and "at risk" in out


def test_bad_input(cli):
    _setup()
    code, _, err = cli("health", "Nobody Here")
    assert code == 1 and "error:" in err
    code, _, err = cli("health", "Acme", "--as-of", "yesterday-ish")
    assert code == 1 and "--as-of" in err
    code, _, err = cli("best", "--type", "planet")
    assert code == 1 and "--type" in err
