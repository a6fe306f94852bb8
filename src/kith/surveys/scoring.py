"""Sentiment writes: score what has text and no sentiment, rescore, record provenance.

A value a person set is never overwritten: an interaction whose sentiment differs from
the analyser's last recorded value (or has none recorded) was set by hand. Text in a
language the analyser does not read is marked unscored (``language`` ``other``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import connection, transaction

from kith.core import clock
from kith.core.bulk import time_adapter
from kith.core.events import publish
from kith.interactions.models import Interaction
from kith.interactions.services import set_derived_sentiments
from kith.surveys.models import SentimentMark, SentimentSource
from kith.surveys.sentiment import analyser

TEXT_KINDS = ("email", "message", "note", "ticket", "survey")
CHUNK = 5000
PATCH_AT_MOST = 200  # changes told one by one (interaction.changed); more: one bulk.loaded


def text_of(subject: str, body: str, kind: str) -> str:
    """What is scored: the body (a survey's comment), after the subject of a message."""
    if kind == "survey":
        return body or ""
    return f"{subject}. {body}" if subject and body else (subject or body or "")


def score_new(i: Interaction) -> None:
    """Score one just-logged interaction with text and no sentiment (in its transaction)."""
    if i.sentiment is not None or i.kind not in TEXT_KINDS:
        return
    text = text_of(i.subject, i.body, i.kind)
    if not text.strip():
        return
    a = analyser()
    result = a.score(text)
    if result.value is not None:
        set_derived_sentiments({i.id: (None, result.value)})
        i.sentiment = result.value
    SentimentMark.objects.update_or_create(
        interaction_id=i.id,
        defaults={
            "source": SentimentSource.LEXICON,
            "value": result.value,
            "analyser": a.name,
            "evidence": result.evidence,
            "language": result.language,
            "scored_at": clock.now(),
        },
    )


def mark_imported(ids: Iterable[str], values: Mapping[str, float]) -> None:
    """Record that these interactions' sentiment came with an import."""
    SentimentMark.objects.bulk_create(
        [
            SentimentMark(interaction_id=i, source=SentimentSource.IMPORT, value=values.get(i))
            for i in ids
        ],
        update_conflicts=True,
        unique_fields=["interaction_id"],
        update_fields=["source", "value"],
    )


def rescore(
    *,
    since: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Score every interaction with text whose sentiment is unset or the analyser's own
    (``since``: only those at or after that day); a person's value is left alone.

    Streams in chunks, each its own transaction; returns the counts."""
    a = analyser()
    qs = Interaction.objects.filter(kind__in=TEXT_KINDS, deleted_at=None).order_by("id")
    if since is not None:
        qs = qs.filter(at__gte=dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC))
    counts = {"read": 0, "scored": 0, "unscored": 0, "kept_manual": 0, "changed": 0}
    changed_all: list[str] = []
    last = ""
    when = time_adapter()
    while True:
        rows = list(
            qs.filter(id__gt=last).values_list("id", "kind", "subject", "body", "sentiment")[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1][0]
        lexicon = {
            iid: value
            for iid, source, value in SentimentMark.objects.filter(
                interaction_id__in=[r[0] for r in rows if r[4] is not None]
            ).values_list("interaction_id", "source", "value")
            if source == SentimentSource.LEXICON
        }
        updates: dict[str, tuple[float | None, float]] = {}
        marks: list[tuple[Any, ...]] = []
        now = when(clock.now())
        for iid, kind, subject, body, current in rows:
            counts["read"] += 1
            if current is not None and not (iid in lexicon and lexicon[iid] == current):
                counts["kept_manual"] += 1
                continue
            text = text_of(subject, body, kind)
            if not text.strip():
                continue
            result = a.score(text)
            if result.value is None:
                counts["unscored"] += 1
            else:
                counts["scored"] += 1
                if result.value != current:
                    updates[iid] = (current, result.value)
            marks.append((iid, SentimentSource.LEXICON, result.value, a.name,
                          json.dumps(result.evidence), result.language, now))  # fmt: skip
        with transaction.atomic():
            changed = set(set_derived_sentiments(updates))
            _store_marks([m for m in marks if m[0] not in updates or m[0] in changed])
        counts["changed"] += len(changed)
        if len(changed_all) <= PATCH_AT_MOST:
            changed_all += sorted(changed)
        if progress is not None:
            progress(len(rows))
    _tell(changed_all, counts["changed"])
    return counts


def _store_marks(rows: list[tuple[Any, ...]]) -> None:
    """Upsert provenance rows (one statement per row through executemany, both databases)."""
    if not rows:
        return
    table = connection.ops.quote_name(SentimentMark._meta.db_table)
    evidence = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {table} (interaction_id, source, value, analyser, evidence, language, "
        f"scored_at) VALUES (%s, %s, %s, %s, {evidence}, %s, %s) ON CONFLICT (interaction_id) "
        "DO UPDATE SET source = excluded.source, value = excluded.value, "
        "analyser = excluded.analyser, evidence = excluded.evidence, "
        "language = excluded.language, scored_at = excluded.scored_at"
    )
    with connection.cursor() as cur:
        cur.executemany(sql, rows)


def _tell(ids: list[str], n: int) -> None:
    """Tell scores the sentiments changed: one by one when few, else one bulk event."""
    if n == 0:
        return
    with transaction.atomic():
        if n <= PATCH_AT_MOST:
            rows = Interaction.objects.filter(pk__in=ids).prefetch_related("participants", "links")
            for i in rows:
                records = sorted({p.record_id for p in i.participants.all()}
                                 | {link.record_id for link in i.links.all()})  # fmt: skip
                publish("interaction.changed", interaction_id=i.id, record_ids=records,
                        since=i.at.date().isoformat())  # fmt: skip
        else:
            publish("bulk.loaded", counts={"interactions": n})


def provenance(i: Interaction, mark: SentimentMark | None) -> dict[str, Any]:
    """Where an interaction's sentiment came from, with its evidence."""
    if i.sentiment is None:
        other = mark is not None and mark.language == "other"
        why = "not scored: not in a language the lexicon reads" if other else ""
        return {"value": None, "source": None, "evidence": [], "note": why}
    if mark is None or (mark.source == SentimentSource.LEXICON and mark.value != i.sentiment):
        return {"value": i.sentiment, "source": "manual", "evidence": []}
    return {"value": i.sentiment, "source": mark.source, "evidence": list(mark.evidence or [])}
