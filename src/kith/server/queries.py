"""What is left of the API's own reads while they move into the apps (see issue 10).

Lists, pages and history are the apps' selectors now; these three follow the privacy work.
"""

from __future__ import annotations

from typing import Any

from kith.accounts.selectors import hidden_ids, viewer_of
from kith.records.models import Record
from kith.records.selectors import resolve


def visible_record(user: Any, ref: str, *, field: str = "ref", deleted: bool = False) -> Record:
    """Resolve ``ref`` among the records ``user`` may see (a hidden one is not found)."""
    return resolve(viewer_of(user), ref, include_deleted=deleted, field=field)


def redact_relations(user: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop relationships whose other end is a private record ``user`` may not see."""
    hidden = hidden_ids(user, [r["from"]["id"] for r in rows] + [r["to"]["id"] for r in rows])
    return [r for r in rows if r["from"]["id"] not in hidden and r["to"]["id"] not in hidden]


def redact_interactions(user: Any, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Remove participants and links ``user`` may not see from interaction views."""
    ids = [p["id"] for v in views for p in v["participants"]]
    ids += [link["id"] for v in views for link in v["links"]]
    ids += [v["via"]["id"] for v in views if v.get("via")]
    hidden = hidden_ids(user, ids)
    if not hidden:
        return views
    out = []
    for v in views:
        parts = [p for p in v["participants"] if p["id"] not in hidden]
        links = [link for link in v["links"] if link["id"] not in hidden]
        if not parts and not links:
            continue
        view = {**v, "participants": parts, "links": links}
        if v.get("via") and v["via"]["id"] in hidden:
            view["via"] = None
        out.append(view)
    return out
