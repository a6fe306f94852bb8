"""kith demo keeps in touch with its anchor account: cadences, the scan's tasks and a few by hand."""

from __future__ import annotations

import json
from typing import Any

from kith.tasks.models import Cadence, Task


def test_the_demo_has_cadences_due_and_tasks(cli: Any) -> None:
    code, out, err = cli(
        "demo", "--people", "200", "--orgs", "20", "--interactions", "3000",
        "--relationships", "600", "--json",
    )  # fmt: skip
    assert code == 0, err
    made = json.loads(out)["keep_in_touch"]
    assert made["cadences"] == Cadence.objects.count() >= 2
    # the scan opened one task per overdue cadence, and the due list says the same
    code, out, err = cli("due", "--json")
    assert code == 0, err
    overdue = [d for d in json.loads(out) if d["status"] == "overdue"]
    assert len(overdue) == made["scan"]["overdue"] == made["scan"]["opened"]
    assert Task.objects.filter(source="cadence", status="open").count() == len(overdue)
    code, out, err = cli("tasks", "--json")
    assert code == 0, err
    titles = {t["title"]: t for t in json.loads(out)}
    assert titles["Procurement sign-off on the order form"]["party"] == "theirs"
    assert titles["Call back about the pilot feedback"]["overdue"] is True
