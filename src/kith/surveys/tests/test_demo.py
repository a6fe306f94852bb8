"""kith demo gives quarterly NPS series: the anchor rising, one account falling, one flat."""

from __future__ import annotations

import datetime as dt
import json

from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction
from kith.surveys.voice import voice
from kith.tasks.models import Task


def test_demo_has_rising_falling_and_flat_accounts(cli, time_travel) -> None:
    code, out, _ = cli("demo", "--people", "300", "--orgs", "20", "--relationships", "600",
                       "--interactions", "1500", "--json")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    shapes = result["surveys"]["accounts"]
    assert sorted(shapes.values()) == ["falling", "flat", "rising"]
    for name, shape in shapes.items():
        data = voice(SYSTEM, ref=name, every="quarter", count=6)
        assert data["trend"]["enough"], data["sentence"]
        expected = {"rising": "rising", "falling": "falling", "flat": "flat"}[shape]
        assert data["trend"]["direction"] == expected, data["sentence"]
    # only the last 30 days' detractors opened a follow-up task, not the older history
    loops = Task.objects.filter(source="survey")
    ats = Interaction.objects.filter(pk__in=loops.values("source_ref")).values_list("at", flat=True)
    assert loops.exists() and all(at >= clock.now() - dt.timedelta(days=30) for at in ats)
    old = Interaction.objects.filter(kind="survey", score__lt=7,
                                     at__lt=clock.now() - dt.timedelta(days=30))  # fmt: skip
    assert old.exists() and loops.count() == len(ats)
