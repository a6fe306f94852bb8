"""Reads for exporting a list or a saved view: CSV, vCard or XLSX, streamed in batches.

What is exported is exactly what the list shows the viewer (every page): the same
filters, the same visibility in the query (``selectors.selected``). Each record comes
with its contact points, first current employer, fields and tags.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from openpyxl import Workbook

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.imports.cells import safe_cell
from kith.imports.selectors import LIST_SEP, export_views
from kith.imports.vcard import write_card
from kith.lists.selectors import selected
from kith.records.selectors import field_defs, get_type, tags_of

EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "vcard": ("text/vcard; charset=utf-8", "vcf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
BATCH = 1_000


def _views(
    viewer: Viewer, type_key: str, params: dict[str, list[str]], ids: list[str] | None
) -> Iterator[dict[str, Any]]:
    """Each listed record's export view with its tags, read a batch at a time."""
    qs = selected(viewer, type_key, params, ids=ids)
    batch: list[dict[str, Any]] = []
    for view in export_views(viewer, type_key, within=qs):
        batch.append(view)
        if len(batch) == BATCH:
            yield from _tagged(batch)
            batch = []
    yield from _tagged(batch)


def _tagged(batch: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    tags = tags_of(v["id"] for v in batch)
    for view in batch:
        yield {**view, "tags": tags.get(view["id"], [])}


def _header(names: list[str]) -> list[str]:
    return [
        "Name",
        "E-mail",
        "Phone",
        "Domain",
        "URL",
        "Organization",
        "Job Title",
        "Tags",
        *[f"field:{f}" for f in names],
    ]


def _row(view: dict[str, Any], names: list[str]) -> list[str]:
    fields = view["fields"]
    cells = [
        view["name"],
        LIST_SEP.join(view["emails"]),
        LIST_SEP.join(view["phones"]),
        LIST_SEP.join(view["domains"]),
        LIST_SEP.join(view["urls"]),
        view["org"],
        view["title"],
        LIST_SEP.join(view["tags"]),
        *["" if fields.get(f) is None else _cell(fields[f]) for f in names],
    ]
    return [safe_cell(c) for c in cells]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def export_chunks(
    viewer: Viewer,
    type_key: str,
    params: dict[str, list[str]],
    *,
    fmt: str,
    ids: list[str] | None = None,
) -> Iterator[str]:
    """The CSV or vCard export of a list as text chunks (constant memory: a web response
    streams them). The list state is checked before the first chunk, so a bad parameter
    is an error, not a broken download."""
    rtype = get_type(type_key)
    views = _views(viewer, rtype.key, params, ids)
    first = next(views, None)  # runs the checks of the list state now
    return _chunks(first, views, fmt, [d.name for d in field_defs(rtype.key)])


def _chunks(
    first: dict[str, Any] | None, views: Iterator[dict[str, Any]], fmt: str, names: list[str]
) -> Iterator[str]:
    if fmt == "vcard":
        if first is not None:
            yield write_card(first)
        for view in views:
            yield write_card(view)
        return
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(_header(names))
    if first is not None:
        writer.writerow(_row(first, names))
    for n, view in enumerate(views):
        writer.writerow(_row(view, names))
        if n % 200 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def export_xlsx(
    viewer: Viewer,
    type_key: str,
    params: dict[str, list[str]],
    *,
    ids: list[str] | None = None,
) -> tuple[IO[bytes], int]:
    """The XLSX export of a list in a temporary file (rewound) and how many records.

    The workbook is written row by row (openpyxl's write-only mode), so memory stays
    small however long the list; the file is deleted when closed.
    """
    rtype = get_type(type_key)
    names = [d.name for d in field_defs(rtype.key)]
    views = _views(viewer, rtype.key, params, ids)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=rtype.label[:31] or rtype.key)
    sheet.append(_header(names))
    n = 0
    for view in views:
        sheet.append(_row(view, names))
        n += 1
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the response, which closes it)
    book.save(out)
    out.seek(0)
    return out, n


def export_response(
    viewer: Viewer,
    type_key: str,
    params: dict[str, list[str]],
    *,
    fmt: str,
    ids: list[str] | None = None,
) -> HttpResponseBase:
    """The download of a list's export for the web and the API: CSV and vCard streamed as
    they are read, XLSX from its temporary file; a bad format or list state is refused
    before anything is sent."""
    fmt = fmt.strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(
            f"format: {fmt[:20]!r} is not one of {', '.join(EXPORT_FORMATS)}", field="format"
        )
    media, suffix = EXPORT_FORMATS[fmt]
    name = f"{get_type(type_key).key}-{clock.today().isoformat()}.{suffix}"
    if fmt == "xlsx":
        out, _ = export_xlsx(viewer, type_key, params, ids=ids)
        return FileResponse(out, content_type=media, as_attachment=True, filename=name)
    resp = StreamingHttpResponse(
        export_chunks(viewer, type_key, params, fmt=fmt, ids=ids), content_type=media
    )
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
