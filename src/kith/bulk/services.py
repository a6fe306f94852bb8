"""The bulk path: load many records, relationships and interactions in one transaction.

Rows are plain tuples (see the ``*Row`` aliases) streamed in batches through
``executemany``, so memory stays flat and the cost stays close to raw inserts. Foreign
keys are checked by the database at commit: a bad reference rolls everything back.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction

from kith.bulk.rows import ContactRow, InteractionBundle, RecordRow, RelationshipRow
from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import ValidationError
from kith.core.events import publish
from kith.core.models import Change
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.records.models import ContactPoint, Record, RecordType
from kith.records.normalize import name_key
from kith.relationships.models import Relationship, RelationshipType

Progress = Callable[[str, int], None]
T = TypeVar("T")

BATCH = 20_000


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def insert_sql(model: Any, columns: Sequence[str]) -> str:
    """An INSERT of ``columns`` into ``model``'s table with one placeholder per column."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks})"


RECORD_COLUMNS = (
    "id",
    "type_key",
    "name",
    "name_key",
    "fields",
    "version",
    "created_at",
    "updated_at",
)
CONTACT_COLUMNS = ("record_id", "kind", "value", "normalized", "label", "primary")
RELATIONSHIP_COLUMNS = (
    "id",
    "type_key",
    "from_record_id",
    "to_record_id",
    "role",
    "since",
    "until",
    "note",
    "source",
    "created_at",
)
INTERACTION_COLUMNS = (
    "id",
    "kind",
    "at",
    "subject",
    "body",
    "direction",
    "sentiment",
    "score",
    "outcome",
    "thread_id",
    "source",
    "meta",
    "created_at",
)
PARTICIPANT_COLUMNS = ("interaction_id", "record_id", "role", "at")
LINK_COLUMNS = ("interaction_id", "record_id", "at")
CHANGE_COLUMNS = ("entity_id", "entity_kind", "action", "field", "actor", "at", "note")


def time_adapter() -> Callable[[dt.datetime], Any]:
    """How this database takes aware datetimes in raw SQL (SQLite: naive UTC text)."""
    if connection.vendor == "sqlite":
        # what Django's SQLite backend stores: naive UTC, ISO with a space
        def to_sqlite(value: dt.datetime) -> str:
            if value.tzinfo is None:
                raise ValidationError(f"at: {value!r} has no time zone", field="at")
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

        return to_sqlite

    def to_aware(value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValidationError(f"at: {value!r} has no time zone", field="at")
        return value

    return to_aware


def _date(value: dt.date | None) -> Any:
    return connection.ops.adapt_datefield_value(value)


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
    """Insert the given rows in one transaction; returns how many of each were written."""
    tick = progress or (lambda table, n: None)
    now = clock.now()
    when = time_adapter()
    now_db = when(now)
    actor = current_actor()
    counts = dict.fromkeys(
        ("records", "contacts", "relationships", "interactions", "participants", "links"), 0
    )
    known_types = set(RecordType.objects.values_list("key", flat=True))
    rel_types = set(RelationshipType.objects.values_list("key", flat=True))
    with connection.cursor() as cur:
        record_sql = insert_sql(Record, RECORD_COLUMNS)
        change_sql = insert_sql(Change, CHANGE_COLUMNS)
        for record_chunk in _chunks(records, batch):
            rows = []
            for rid, type_key, name, fields in record_chunk:
                if type_key not in known_types:
                    raise ValidationError(
                        f"type: unknown record type {type_key!r} for {rid}", field="type"
                    )
                rows.append(
                    (rid, type_key, name, name_key(name), json.dumps(fields), 1, now_db, now_db)
                )
            cur.executemany(record_sql, rows)
            cur.executemany(
                change_sql, [(r[0], "record", "create", "", actor, now_db, source) for r in rows]
            )
            counts["records"] += len(rows)
            tick("records", len(rows))
        contact_sql = insert_sql(ContactPoint, CONTACT_COLUMNS)
        for contact_chunk in _chunks(contacts, batch):
            cur.executemany(
                contact_sql,
                [
                    (rid, kind, value, norm, "", primary)
                    for rid, kind, value, norm, primary in contact_chunk
                ],
            )
            counts["contacts"] += len(contact_chunk)
            tick("contacts", len(contact_chunk))
        rel_sql = insert_sql(Relationship, RELATIONSHIP_COLUMNS)
        for rel_chunk in _chunks(relationships, batch):
            rows_r = []
            for rid, type_key, src, dst, role, since, until in rel_chunk:
                if type_key not in rel_types:
                    raise ValidationError(
                        f"type: unknown relationship type {type_key!r}", field="type"
                    )
                rows_r.append(
                    (rid, type_key, src, dst, role, _date(since), _date(until), "", source, now_db)
                )
            cur.executemany(rel_sql, rows_r)
            counts["relationships"] += len(rows_r)
            tick("relationships", len(rows_r))
        int_sql = insert_sql(Interaction, INTERACTION_COLUMNS)
        part_sql = insert_sql(Participant, PARTICIPANT_COLUMNS)
        link_sql = insert_sql(InteractionLink, LINK_COLUMNS)
        for bundle_chunk in _chunks(interactions, batch):
            i_rows: list[tuple[Any, ...]] = []
            p_rows: list[tuple[Any, ...]] = []
            l_rows: list[tuple[Any, ...]] = []
            for (
                iid,
                kind,
                at,
                subject,
                direction,
                sentiment,
                score,
            ), people, links in bundle_chunk:
                at_db = when(at)
                i_rows.append(
                    (
                        iid,
                        kind,
                        at_db,
                        subject,
                        "",
                        direction,
                        sentiment,
                        score,
                        "",
                        "",
                        source,
                        "{}",
                        now_db,
                    )
                )
                p_rows.extend((iid, rid, role, at_db) for rid, role in people)
                l_rows.extend((iid, rid, at_db) for rid in links)
            cur.executemany(int_sql, i_rows)
            cur.executemany(part_sql, p_rows)
            if l_rows:
                cur.executemany(link_sql, l_rows)
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
