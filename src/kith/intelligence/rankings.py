"""Reads for the full "best" and "at risk" pages: the CLI's rankings filtered, sorted, paged and
exported as CSV, from what the viewer may see (the rankings themselves apply visibility)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.imports.cells import safe_cell
from kith.intelligence.selectors import at_risk, best

MAX_ROWS = 2_000  # a ranking page reads at most the top 2,000 of a ranking
PAGE_SIZES = (25, 50, 100)
BANDS = ("strong", "good", "fair", "weak", "cold")
KINDS = {"": None, "all": None, "person": "person", "organization": "organization"}
KINDS |= {"people": "person", "org": "organization", "organisation": "organization"}
RANKINGS: dict[str, Callable[..., list[dict[str, Any]]]] = {"best": best, "at-risk": at_risk}
SORTS: dict[str, dict[str, Callable[[dict[str, Any]], Any]]] = {
    "best": {
        "rank": lambda r: r["_rank"],
        "name": lambda r: (r["name"].casefold(), r["id"]),
        "health": lambda r: (r["score"], r["id"]),
        "value": lambda r: (r["value"], r["id"]),
    },
    "at-risk": {
        "rank": lambda r: r["_rank"],
        "name": lambda r: (r["name"].casefold(), r["id"]),
        "health": lambda r: (r["score"], r["id"]),
        "change": lambda r: (r["change"], r["id"]),
        "newest": lambda r: (r["newest_event"], r["id"]),
    },
}


def _check(which: str, kind: str, band: str, sort: str) -> tuple[str | None, str, bool]:
    if which not in RANKINGS:
        raise ValidationError(f"ranking: {which!r} is not best or at-risk", field="ranking")
    if kind not in KINDS:
        raise ValidationError(f"type: {kind[:30]!r} is not person or organization", field="type")
    if band and band not in BANDS:
        raise ValidationError(f"band: {band[:30]!r} is not one of {', '.join(BANDS)}", field="band")
    key, desc = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if key not in SORTS[which]:
        raise ValidationError(
            f"sort: {sort[:30]!r} is not one of {', '.join(SORTS[which])} (- for descending)",
            field="sort",
        )
    return KINDS[kind], key, desc


def ranking_rows(
    viewer: Viewer,
    which: str,
    *,
    kind: str = "",
    band: str = "",
    q: str = "",
    sort: str = "rank",
    as_of: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Every row of the ranking (up to ``MAX_ROWS``) that matches the filters, sorted; each
    row keeps its place in the ranking as ``rank``."""
    type_key, key, desc = _check(which, kind, band, sort)
    text = q.strip().casefold()[:200]
    rows = RANKINGS[which](viewer, as_of=as_of, limit=MAX_ROWS, kind=type_key)
    out = []
    for n, row in enumerate(rows, 1):
        if band and row["band"] != band:
            continue
        if text and text not in row["name"].casefold():
            continue
        out.append({**row, "_rank": n, "rank": n})
    out.sort(key=SORTS[which][key], reverse=desc)
    for row in out:
        del row["_rank"]
    return out


def ranking_page(
    viewer: Viewer,
    which: str,
    *,
    page: int = 1,
    size: int = 50,
    **filters: Any,
) -> dict[str, Any]:
    """One page of :func:`ranking_rows`: rows, total, page, pages, size."""
    if size not in PAGE_SIZES:
        raise ValidationError(
            f"size: {size} is not one of {', '.join(map(str, PAGE_SIZES))}", field="size"
        )
    rows = ranking_rows(viewer, which, **filters)
    pages = max(1, -(-len(rows) // size))
    if not 1 <= page <= pages:
        raise ValidationError(f"page: {page} is outside 1..{pages}", field="page")
    start = (page - 1) * size
    return {
        "rows": rows[start : start + size],
        "total": len(rows),
        "page": page,
        "pages": pages,
        "size": size,
        "capped": len(rows) >= MAX_ROWS,
    }


CSV_COLUMNS = {
    "best": ["rank", "name", "type", "id", "health", "band", "value", "reasons"],
    "at-risk": [
        "rank",
        "name",
        "type",
        "id",
        "health",
        "band",
        "change",
        "newest_event",
        "reasons",
    ],
}


def ranking_csv(viewer: Viewer, which: str, **filters: Any) -> Iterator[str]:
    """The filtered, sorted ranking as CSV lines (header first), cells safe for spreadsheets."""
    rows = ranking_rows(viewer, which, **filters)
    cols = CSV_COLUMNS[which]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(cols)
    for row in rows:
        values = {**row, "health": row["score"], "reasons": "; ".join(row["reasons"])}
        writer.writerow([safe_cell(str(values.get(c, ""))) for c in cols])
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
