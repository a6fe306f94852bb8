"""The bulk path: load many records, relationships and interactions in one transaction.

Rows are plain tuples (see the ``*Row`` aliases) streamed in batches through
``executemany``, so memory stays flat and the cost stays close to raw inserts. Foreign
keys are checked by the database at commit: a bad reference rolls everything back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction

from kith.bulk.rows import ContactRow, InteractionBundle, RecordRow, RelationshipRow
from kith.core import clock
from kith.core.bulk import insert_sql, time_adapter
from kith.core.context import current_actor
from kith.core.errors import ValidationError
from kith.core.events import publish
from kith.interactions.models import InteractionLink, Participant
from kith.interactions.services import insert_interactions
from kith.records.batch import insert_contacts, insert_records
from kith.records.models import ContactPoint, Record
from kith.relationships.models import Relationship
from kith.relationships.services import insert_relationships

Progress = Callable[[str, int], None]
T = TypeVar("T")

BATCH = 20_000
__all__ = ["BATCH", "Progress", "insert_sql", "load", "time_adapter"]


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


@transaction.atomic
def load(
    *,
    records: Iterable[RecordRow] = (),
    contacts: Iterable[ContactRow] = (),
    relationships: Iterable[RelationshipRow] = (),
    interactions: Iterable[InteractionBundle] = (),
    source: str = "bulk",
    progress: Progress | None = None,
    batch: int = BATCH,
) -> dict[str, int]:
    """Insert the given rows in one transaction; returns how many of each were written.

    Each table is written by its owning app's insert (``records.batch``,
    ``relationships.services.insert_relationships``, ``interactions.services``).
    """
    tick = progress or (lambda table, n: None)
    when = time_adapter()
    now_db = when(clock.now())
    actor = current_actor()
    counts = dict.fromkeys(
        ("records", "contacts", "relationships", "interactions", "participants", "links"), 0
    )
    for record_chunk in _chunks(records, batch):
        n = insert_records(record_chunk, at=now_db, actor=actor, source=source)
        counts["records"] += n
        tick("records", n)
    for contact_chunk in _chunks(contacts, batch):
        n = insert_contacts(contact_chunk)
        counts["contacts"] += n
        tick("contacts", n)
    for rel_chunk in _chunks(relationships, batch):
        n = insert_relationships(rel_chunk, at=now_db, actor=actor, source=source, history=False)
        counts["relationships"] += n
        tick("relationships", n)
    for bundle_chunk in _chunks(interactions, batch):
        i_rows: list[tuple[Any, ...]] = []
        p_rows: list[tuple[str, str, str, Any]] = []
        l_rows: list[tuple[str, str, Any]] = []
        for (iid, kind, at, subject, direction, sentiment, score), people, links in bundle_chunk:
            at_db = when(at)
            i_rows.append(
                (iid, kind, at_db, None, subject, "", direction, sentiment, score, "", None, "",
                 source, "{}", now_db)
            )  # fmt: skip
            p_rows.extend((iid, rid, role, at_db) for rid, role in people)
            l_rows.extend((iid, rid, at_db) for rid in links)
        insert_interactions(i_rows, p_rows, l_rows)
        counts["interactions"] += len(i_rows)
        counts["participants"] += len(p_rows)
        counts["links"] += len(l_rows)
        tick("interactions", len(i_rows))
    _check_references(connection, counts)
    publish("bulk.loaded", counts=counts)
    return counts


def _check_references(conn: Any, counts: dict[str, int]) -> None:
    """Fail (rolling everything back) if any row points at a record that does not exist."""
    tables = [
        model._meta.db_table
        for model, key in (
            (Record, "records"),
            (ContactPoint, "contacts"),
            (Relationship, "relationships"),
            (Participant, "participants"),
            (InteractionLink, "links"),
        )
        if counts[key]
    ]
    try:
        conn.check_constraints(table_names=tables)
    except IntegrityError as exc:
        raise ValidationError(f"bulk load refers to something that does not exist: {exc}") from None
