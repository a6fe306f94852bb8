"""Health bands over time: recompute every record's band and publish each change.

Health is a pure function of the data and a day, computed when read; nothing stored it,
so nothing could say "this account went from good to fair". ``track_bands`` recomputes
the bands of every scored record (the system's view, as of today), keeps the last band of
each in ``BandState`` and publishes ``health.band_changed`` (``record_id``, ``type_key``,
``old``, ``new``, ``score``) for each record whose band moved. A record seen for the first
time sets its baseline without an event. The rules' periodic scan runs it while a rule
listens to band changes (health moves with time as well as with writes).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from kith.core.events import publish
from kith.core.viewer import SYSTEM
from kith.intelligence.attention import SCORED_TYPES, health_scores, today
from kith.intelligence.conf import band, model_config
from kith.intelligence.models import BandState


@transaction.atomic
def track_bands(*, day: dt.date | None = None) -> dict[str, int]:
    """Store each scored record's band; publish ``health.band_changed`` for every move."""
    cfg = model_config()
    on = day or today()
    out = {"changed": 0, "new": 0}
    for type_key in SCORED_TYPES:
        scores = health_scores(SYSTEM, type_key)
        known = {
            s.record_id: s
            for s in BandState.objects.filter(type_key=type_key).only("record_id", "band")
        }
        fresh, moved = [], []
        for rid, score in scores.items():
            now_band = band(cfg, score)
            state = known.get(rid)
            if state is None:
                fresh.append(
                    BandState(
                        record_id=rid, type_key=type_key, band=now_band, score=score, since=on
                    )
                )
            elif state.band != now_band:
                moved.append((rid, state.band, now_band, score))
        BandState.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
        for rid, old, new, score in moved:
            BandState.objects.filter(pk=rid).update(band=new, score=score, since=on)
            publish(
                "health.band_changed",
                record_id=rid,
                type_key=type_key,
                old=old,
                new=new,
                score=round(score, 1),
            )
        out["changed"] += len(moved)
        out["new"] += len(fresh)
    return out
