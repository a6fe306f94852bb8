"""A small account with a plan's cast: our team, their people, a history of contact."""

from __future__ import annotations

from typing import Any

import pytest

from kith.testing import log, make_home, make_org, make_person


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    home = make_home()
    mia = make_person("Mia Chen", email="mia@our.test", org=home)
    tom = make_person("Tom Ray", email="tom@our.test", org=home)
    acme = make_org("Acme")
    lee = make_person("Lee Park", email="lee@acme.test", org=acme, role="CFO")
    ann = make_person("Ann Bell", email="ann@acme.test", org=acme, role="Head of Ops")
    bob = make_person("Bob Stone", org=acme, role="Engineer")
    # Mia met Lee 94 days before 2026-06-15 and never since; Tom and Ann talk often
    log("meeting", mia, lee, at="2026-03-13T10:00Z")
    for day in ("2026-05-01", "2026-05-15", "2026-06-01", "2026-06-10"):
        log("call", tom, ann, at=f"{day}T10:00Z")
    return {"home": home, "mia": mia, "tom": tom, "acme": acme, "lee": lee, "ann": ann, "bob": bob}
