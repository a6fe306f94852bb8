"""Fill an empty workspace with the demo data set."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from kith.bulk.services import Progress, load
from kith.core.errors import Conflict
from kith.demo.generator import Spec, generate
from kith.intelligence.services import rebuild_pairstats
from kith.records.models import Record, WorkspaceSettings
from kith.records.selectors import home_org


def _other_records() -> QuerySet[Record]:
    home = home_org()
    return Record.objects.exclude(pk=home.pk) if home else Record.objects.all()


def has_data() -> bool:
    """Whether the workspace holds any record besides its home organisation."""
    return _other_records().exists()


@transaction.atomic
def load_demo(*, spec: Spec | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Generate and load the demo data set; the workspace must hold no records but its home."""
    spec = spec or Spec()
    home = home_org()
    if has_data():
        raise Conflict(
            "the workspace already has records; load the demo into an empty one "
            "(e.g. kith --db sqlite:///demo.db demo)"
        )
    data = generate(dataclasses.replace(spec, home_id=home.pk if home else None))
    counts = load(
        records=data.records,
        contacts=data.contacts,
        relationships=data.relationships,
        interactions=data.interactions,
        source="demo",
        progress=progress,
    )
    if home is None:
        WorkspaceSettings.objects.update_or_create(pk=1, defaults={"home_org_id": data.home_id})
        # the load's pair-table build ran before there was a home (so no team): build it now

        rebuild_pairstats()
    return {**counts, "home": data.home_id, "team": len(data.team), "anchor_org": data.anchor_org}
