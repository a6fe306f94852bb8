"""Records found by the subjects of their interactions (a source of the records search).

Registered with ``kith.records.search.register_source`` in ``InteractionsConfig.ready``:
every word typed must start a word of the subject ("renew q3" finds "Q3 renewal call").
The index: FTS5 ``records_subject_fts`` (SQLite) or a full-text GIN index (PostgreSQL),
created by the records app's search migration. Live interactions only; the records
search keeps the ids the viewer may see, in its query.
"""

from __future__ import annotations

import re

from django.db import connection

from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.records.search import fts_phrase

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_I = Interaction._meta.db_table
_P = Participant._meta.db_table
_L = InteractionLink._meta.db_table
SUBJECTS_READ = 200  # the newest matching interactions looked at


def subject_records(text: str, limit: int) -> list[str]:
    """Ids of records in the newest live interactions whose subject has every word of
    ``text`` (as a word prefix), most recent first, at most ``limit``."""
    words = _WORDS.findall(text.casefold())[:8]
    if not words or not any(len(w) >= 2 for w in words):
        return []
    if connection.vendor == "sqlite":
        match = " AND ".join(f"{fts_phrase(w)}*" for w in words)
        hits = (
            f"SELECT i.id, i.at FROM {_I} i WHERE i.rowid IN (SELECT rowid FROM "
            "records_subject_fts WHERE records_subject_fts MATCH %s ORDER BY rowid DESC "
            "LIMIT %s) AND i.deleted_at IS NULL"
        )
    else:
        match = " & ".join(f"{w}:*" for w in words)
        hits = (
            f"SELECT i.id, i.at FROM {_I} i WHERE to_tsvector('simple', i.subject) "
            "@@ to_tsquery('simple', %s) AND i.deleted_at IS NULL LIMIT %s"
        )
    sql = (
        f"SELECT t.record_id FROM (SELECT p.record_id, h.at FROM ({hits}) h "
        f"JOIN {_P} p ON p.interaction_id = h.id UNION ALL SELECT l.record_id, h2.at "
        f"FROM ({hits}) h2 JOIN {_L} l ON l.interaction_id = h2.id) t "
        "GROUP BY t.record_id ORDER BY MAX(t.at) DESC, t.record_id LIMIT %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [match, SUBJECTS_READ, match, SUBJECTS_READ, limit])
        return [row[0] for row in cur.fetchall()]
