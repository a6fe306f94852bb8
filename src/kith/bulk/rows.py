"""The row shapes the bulk loader takes (no Django imports, so generators can use them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

# (id, type_key, name, fields)
RecordRow = tuple[str, str, str, dict[str, Any]]
# (record_id, kind, value, normalized, primary)
ContactRow = tuple[str, str, str, str, bool]
# (id, type_key, from_id, to_id, role, since, until)
RelationshipRow = tuple[str, str, str, str, str, dt.date | None, dt.date | None]
# (id, kind, at, subject, direction, sentiment, score), [(record_id, role)], [record_id]
InteractionBundle = tuple[
    tuple[str, str, dt.datetime, str, str, float | None, float | None],
    Sequence[tuple[str, str]],
    Sequence[str],
]
