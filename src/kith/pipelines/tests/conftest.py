"""An account with our team and their people, and a sales pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from kith.pipelines.services import add_pipeline
from kith.testing import make_home, make_org, make_person, relate

STAGES = [
    ("lead", 0.1, "open"),
    ("qualified", 0.3, "open"),
    ("proposal", 0.6, "open"),
    ("won", 1.0, "won"),
    ("lost", 0.0, "lost"),
]


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    home = make_home()
    mia = make_person("Mia Chen", email="mia@our.test", org=home)
    tom = make_person("Tom Ray", email="tom@our.test", org=home)
    relate(tom, "reports_to", mia)
    acme = make_org("Acme")
    lee = make_person("Lee Park", email="lee@acme.test", org=acme, role="CFO")
    pipe = add_pipeline(
        type_key="deal",
        key="sales",
        stages=STAGES,
        reasons=["price", "competitor"],
        lost_reason_required=True,
    )
    return {"home": home, "mia": mia, "tom": tom, "acme": acme, "lee": lee, "pipe": pipe}
