"""Golden brief: the demo workspace's brief of its anchor account for a fixed window matches
the stored file (ids replaced by what they name, since the demo's plan and tasks get fresh
ids each load). ``KITH_GOLDEN_UPDATE=1`` rewrites the file after a deliberate change."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from kith.briefs.render import as_text
from kith.briefs.selectors import brief
from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction
from kith.records.models import Record
from kith.relationships.models import Relationship
from kith.tasks.models import Task

GOLDEN = Path(__file__).parent / "golden" / "demo_anchor_brief.txt"
ID = re.compile(r"\b(?:[a-z]{2,4})_[0-9a-z]{12}\b")


def _named(text: str) -> str:
    ids = set(ID.findall(text))
    names: dict[str, str] = dict(Record.objects.filter(pk__in=ids).values_list("id", "name"))
    for i, kind, at in Interaction.objects.filter(pk__in=ids).values_list("id", "kind", "at"):
        names[i] = f"{kind}@{at:%Y-%m-%dT%H:%M}"
    names.update(
        {
            t: f"task:{title}"
            for t, title in Task.objects.filter(pk__in=ids).values_list("id", "title")
        }
    )
    for r in Relationship.objects.filter(pk__in=ids).select_related("from_record", "to_record"):
        names[r.id] = f"rel:{r.from_record.name}>{r.type_id}>{r.to_record.name}"
    return ID.sub(lambda m: f"<{names.get(m.group(0), m.group(0).split('_')[0])}>", text)


def test_the_demo_brief_matches_the_stored_file(cli: Any) -> None:
    with clock.travel("2026-11-30T09:00Z"):
        code, out, err = cli(
            "demo", "--people", "200", "--orgs", "20", "--interactions", "3000",
            "--relationships", "600", "--json",
        )  # fmt: skip
        assert code == 0, err
        anchor = json.loads(out)["anchor_org"]
        b = brief(SYSTEM, anchor, since="2026-11-01", as_of="2026-11-30")
        again = brief(SYSTEM, anchor, since="2026-11-01", as_of="2026-11-30")
    assert b == again
    got = _named(as_text(b))
    if os.environ.get("KITH_GOLDEN_UPDATE") == "1" or not GOLDEN.exists():
        GOLDEN.write_text(got, encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8")
