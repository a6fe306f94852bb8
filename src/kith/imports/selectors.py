"""Reads of imports: export (records as CSV, vCard or JSON), import jobs, the check of a file.

Export streams every record of a type (or all) in batches. Import jobs are read for a
``Viewer``: users see their own jobs, admins everyone's. The check validates a file the
way an import would and writes nothing.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import csv
import datetime
import json
import os
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any

from django.db import OperationalError
from django.db.models import Prefetch, Q, QuerySet

from kith.core.errors import KithError, NotFound, ValidationError
from kith.core.selectors import job_state
from kith.core.viewer import Viewer
from kith.imports import detect as detecting
from kith.imports.cells import safe_cell
from kith.imports.items import BadRow
from kith.imports.models import ImportJob
from kith.imports.preview import preview
from kith.imports.reading import MAX_LISTED, parse_map, unit_chunks
from kith.imports.scratch import scratch
from kith.imports.tabular import encoding_note
from kith.imports.validate import FieldSpecs, validate
from kith.imports.vcard import write_card
from kith.records.models import ContactPoint, FieldDef, Record
from kith.records.selectors import get_type, visible_q
from kith.relationships.models import Relationship

BATCH = 1_000
EXPORT_FORMATS = ("csv", "vcard", "json")
LIST_SEP = " ::: "  # several values in one cell, as Google's export writes them


def export_views(
    viewer: Viewer, type_key: str | None = None, *, within: QuerySet[Record] | None = None
) -> Iterator[dict[str, Any]]:
    """Each live record ``viewer`` may see as a dict: fields, contact points, first open
    works_at org (one they may see) and role; only those of ``within`` when given (a list).

    Organisations come first, so an importer meets each company before its people.
    """
    qs = Record.objects.filter(visible_q(viewer), deleted_at__isnull=True, merged_into__isnull=True)
    if within is not None:
        qs = qs.filter(pk__in=within.order_by().values("pk"))
    if type_key:
        qs = qs.filter(type_id=get_type(type_key).key)
    for tkey in sorted(
        set(qs.values_list("type_id", flat=True)), key=lambda t: t != "organization"
    ):
        last = ""
        while True:
            batch = list(
                qs.filter(type_id=tkey)
                .filter(Q(pk__gt=last))
                .order_by("pk")
                .prefetch_related(
                    Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
                )[:BATCH]
            )
            if not batch:
                break
            last = batch[-1].pk
            works: dict[str, tuple[str, str]] = {}
            rels = (
                Relationship.objects.filter(
                    visible_q(viewer, "to_record__"),
                    from_record_id__in=[r.pk for r in batch],
                    type_id="works_at",
                    until__isnull=True,
                    to_record__deleted_at__isnull=True,
                )
                .order_by("created_at", "id")
                .values_list("from_record_id", "to_record__name", "role")
            )
            for pid, org, role in rels:
                works.setdefault(pid, (org, role))
            for r in batch:
                contacts: dict[str, list[str]] = {"email": [], "phone": [], "domain": [], "url": []}
                for c in r.contacts.all():
                    contacts[c.kind].append(c.value)
                org, role = works.get(r.pk, ("", ""))
                yield {
                    "id": r.pk,
                    "type": r.type_id,
                    "name": r.name,
                    "emails": contacts["email"],
                    "phones": contacts["phone"],
                    "domains": contacts["domain"],
                    "urls": contacts["url"],
                    "org": org,
                    "title": role,
                    "fields": dict(r.fields),
                }


def _field_names(type_key: str | None) -> list[str]:
    qs = FieldDef.objects.all()
    if type_key:
        qs = qs.filter(record_type_id=get_type(type_key).key)
    return sorted(set(qs.values_list("name", flat=True)))


def export(viewer: Viewer, out: IO[str], *, fmt: str, type_key: str | None = None) -> int:
    """Write the export of what ``viewer`` may see to ``out``; returns how many records."""
    fmt = fmt.strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(
            f"--format: {fmt!r} is not an export format ({', '.join(EXPORT_FORMATS)})",
            field="format",
        )
    n = 0
    if fmt == "csv":
        names = _field_names(type_key)
        writer = csv.writer(out)
        writer.writerow(
            [
                "Type",
                "Name",
                "E-mail",
                "Phone",
                "Domain",
                "URL",
                "Organization",
                "Job Title",
                *[f"field:{f}" for f in names],
            ]
        )
        for v in export_views(viewer, type_key):
            writer.writerow([safe_cell(c) for c in [
                v["type"], v["name"], LIST_SEP.join(v["emails"]), LIST_SEP.join(v["phones"]),
                LIST_SEP.join(v["domains"]), LIST_SEP.join(v["urls"]), v["org"], v["title"],
                *["" if v["fields"].get(f) is None else _cell(v["fields"][f]) for f in names],
            ]])  # fmt: skip
            n += 1
    elif fmt == "vcard":
        for v in export_views(viewer, type_key):
            out.write(write_card(v))
            n += 1
    else:
        out.write('{"format": "kith", "version": 1, "records": [\n')
        for v in export_views(viewer, type_key):
            out.write((",\n" if n else "") + json.dumps(v, ensure_ascii=False, default=str))
            n += 1
        out.write("\n]}\n")
    return n


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- checking a file without importing it -------------------------------------------------


def check_file(
    *, path: str, fmt: str | None = None, mapping: list[str] | None = None, bodies: bool = False
) -> dict[str, Any]:
    """Read and validate every unit of a file as an import would; writes nothing.

    The report has the import's shape (units, imported, bad_count, bad, warnings) and the
    same bad rows; ``counts`` says what the file holds (``person_in_file``, ...), not
    what it would match, which depends on records the reader may not see.
    """
    name = detecting.check_path(path)
    fmt = detecting.normalize_format(fmt) if fmt else detecting.detect(path)
    report: dict[str, Any] = {"file": name, "format": fmt, "dry_run": True, "checked": True}
    try:
        specs = FieldSpecs()
        chunks = unit_chunks(fmt, path, name, specs, parse_map(mapping or [], specs), bodies,
                              report)  # fmt: skip
        counts: collections.Counter[str] = collections.Counter()
        bad: list[BadRow] = []
        warnings: list[str] = []
        units = bad_count = 0
        orgs: set[str] = set()
        with contextlib.closing(chunks):
            for chunk in chunks:
                for unit in chunk:
                    units += 1
                    notes = unit.notes + (unit.record.notes() if unit.record else [])
                    warnings.extend(f"{unit.where}: {note}" for note in notes)
                    if unit.error is None and unit.record is not None:
                        result = validate(unit.record, specs, unit.where)
                        if isinstance(result, BadRow):
                            unit.error = result
                        elif result is None:
                            counts["skipped_empty"] += 1
                            warnings.append(f"{unit.where}: nothing identifies it; skipped")
                            continue
                        else:
                            counts[f"{result.type_key}_in_file"] += 1
                            if result.org:
                                orgs.add(result.org.casefold())
                    if unit.error is not None:
                        bad_count += 1
                        if len(bad) < MAX_LISTED:
                            bad.append(unit.error)
                        continue
                    if unit.interactions:
                        counts["interactions_in_file"] += len(unit.interactions)
    except KithError as exc:
        msg = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        raise ValidationError(msg, field=exc.field) from None
    except (OSError, UnicodeError, ValueError, LookupError, RuntimeError) as exc:
        raise ValidationError(
            f"{name}: could not be read ({type(exc).__name__}: {exc})", field="file"
        ) from None
    if units == 0:
        raise ValidationError(
            f"{name}: nothing to import (no rows, cards, events or messages found)", field="file"
        )
    if orgs:
        counts["organizations_named"] = len(orgs)
    report.pop("header", None)
    report.update(
        units=units,
        imported=units - bad_count,
        bad_count=bad_count,
        bad=[b.as_dict() for b in bad],
        counts=dict(sorted(counts.items())),
        warnings=encoding_note(report) + warnings[:MAX_LISTED],
    )
    return report


# -- import jobs --------------------------------------------------------------------------

IMPORT_STALE_SECONDS = 30  # a running job whose heartbeat is older than this has stopped
IMPORT_CHECK_MAX_BYTES = 512 * 1024  # files checked row by row on the preview page
IMPORT_JOBS_SHOWN = 20
REJECT_TYPES = {
    "vcard": (".vcf", "text/vcard"),
    "ics": (".ics", "text/calendar"),
    "json": (".json", "application/json"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "mbox": (".mbox", "application/mbox"),
    "eml": (".mbox", "application/mbox"),
}
_COUNT_LABELS = {
    "person_created": "people created",
    "person_matched": "people matched (already here)",
    "organization_created": "organisations created",
    "organization_matched": "organisations matched (already here)",
    "records_updated": "records updated",
    "relationships_created": "relationships created",
    "interactions_created": "interactions created",
    "interactions_already_there": "interactions already here",
    "interactions_skipped": "interactions skipped",
    "interactions_cancelled": "interactions cancelled",
    "interactions_cancelled_skipped": "cancelled events skipped",
    "skipped_empty": "rows skipped (nothing identifies them)",
    "person_in_file": "people",
    "organization_in_file": "organisations",
    "interactions_in_file": "interactions",
    "organizations_named": "organisations named (matched or created on import)",
}


def import_beat_path(job_id: str) -> str:
    """Where a running job's heartbeat is written when the database cannot take it (SQLite)."""
    return os.path.join(tempfile.gettempdir(), f"kith-import-{job_id}.json")


@contextlib.contextmanager
def import_job_file(job: ImportJob) -> Iterator[str]:
    """The job's file written to a scratch folder, as a path (a context manager)."""
    with scratch("import-") as tmp:
        path = os.path.join(tmp, job.filename or "upload")
        with open(path, "wb") as fh:
            fh.write(bytes(job.content))
        yield path


def preview_file(path: str, fmt: str | None, mapping: list[str] | None = None) -> dict[str, Any]:
    """Format, preset, column mapping and sample rows of a file (kith.imports.preview)."""

    return preview(path=path, fmt=fmt or None, mapping=mapping)


def _job_query(viewer: Viewer) -> QuerySet[ImportJob]:
    qs = ImportJob.objects.defer("content", "rejects").select_related("user")
    if viewer.sees_everything:
        return qs
    return qs.filter(user_id=viewer.user_id) if viewer.user_id is not None else qs.none()


def get_import_job(viewer: Viewer, job_id: str) -> ImportJob:
    """The job (its file loaded only when used), if the viewer started it or is an admin."""
    job = _job_query(viewer).filter(pk=(job_id or "")[:32]).first()
    if job is None:
        raise NotFound(f"job: no import {job_id[:40]!r}", field="job")
    return job


def _beat(job: ImportJob) -> tuple[int, int | None, float]:
    """(done, total, time of the last heartbeat) of a job, from the database or the file."""
    done, total, at = job.done, job.total, job.updated_at.timestamp()
    try:
        with open(import_beat_path(job.pk), encoding="utf-8") as fh:
            beat = json.load(fh)
        if float(beat["at"]) > at:
            done, total, at = int(beat["done"]), beat.get("total"), float(beat["at"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return done, total, at


def import_status(job: ImportJob) -> str:
    """preview, running, done, failed, or stopped (running, but its heartbeat stopped)."""
    if job.status != "running":
        return str(job.status)
    queued = job.options.get("queue_job")
    if queued and job_state(str(queued)) == "READY":
        return "running"  # waiting for the worker (or for its retry): it will run
    _, _, at = _beat(job)
    return "stopped" if time.time() - at > IMPORT_STALE_SECONDS else "running"


def import_jobs(viewer: Viewer, *, limit: int = IMPORT_JOBS_SHOWN) -> list[dict[str, Any]]:
    """The viewer's newest imports (an admin's: everyone's), with status and a line of result."""
    rows = []
    for job in _job_query(viewer).order_by("-created_at", "-id")[:limit]:
        counts = job.report.get("counts") or {}
        created = sum(v for k, v in counts.items() if k.endswith("_created"))
        rows.append(
            {
                "id": job.pk,
                "filename": job.filename,
                "format": job.fmt,
                "status": import_status(job),
                "user": job.user.get_username(),
                "created_at": job.created_at,
                "created": created,
                "bad": job.report.get("bad_count", 0),
            }
        )
    return rows


def import_progress(job: ImportJob) -> dict[str, Any]:
    """How far a running job is: done, total, percent, rate per second, seconds left."""
    status = import_status(job)
    done, total, _ = _beat(job)
    started = job.report.get("started_at")
    elapsed = 0.0
    if started:
        elapsed = max(time.time() - datetime.datetime.fromisoformat(started).timestamp(), 0.0)
    rate = done / elapsed if done and elapsed >= 0.5 else None
    left = None
    if rate and total and total > done:
        left = round((total - done) / rate)
    percent = min(round(done * 100 / total), 100) if total else None
    return {
        "status": status,
        "done": done,
        "total": total,
        "percent": percent,
        "rate": round(rate) if rate else None,
        "elapsed": round(elapsed),
        "left": left,
    }


def import_preview(job: ImportJob) -> dict[str, Any]:
    """What the job's file holds and how its columns map, with the user's choices."""
    with import_job_file(job) as path:
        base = preview_file(path, job.fmt)
        mapping = list(job.options.get("mapping") or [])
        chosen = preview_file(path, job.fmt, mapping) if mapping else base
    for col, now in zip(base["columns"], chosen["columns"], strict=True):
        col["key"], col["label"] = now["key"], now["label"]
        col["changed"] = now["key"] != col["detected"]
    known = {value for value, _ in base["choices"]}
    base.update(
        mapping=mapping,
        skip_bad=bool(job.options.get("skip_bad")),
        bodies=bool(job.options.get("bodies")),
        size=len(job.content),
        checkable=len(job.content) <= IMPORT_CHECK_MAX_BYTES,
        known=known,
    )
    return base


def import_check(job: ImportJob) -> dict[str, Any]:
    """The check of a job's file with its options: what it holds, its bad rows; no writes."""
    if len(job.content) > IMPORT_CHECK_MAX_BYTES:
        return {"skipped": True}
    try:
        with import_job_file(job) as path:
            report = check_file(
                path=path,
                fmt=job.fmt,
                mapping=list(job.options.get("mapping") or []),
                bodies=bool(job.options.get("bodies")),
            )
    except KithError as exc:
        return {"error": exc.message}
    except OperationalError:
        return {"error": "The database is busy with another import; check again when it ends."}
    return {**report, "count_rows": count_rows(report.get("counts") or {})}


def count_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Import counts as (label, number), creations first."""
    order = sorted(counts, key=lambda k: (not k.endswith(("_created", "_in_file")), k))
    return [(_COUNT_LABELS.get(k, k.replace("_", " ")), counts[k]) for k in order if counts[k]]


def import_report(viewer: Viewer, job: ImportJob) -> dict[str, Any]:
    """The result of a finished (or failed) job: counts, rejected rows, records to open."""
    report = dict(job.report)
    ids = report.get("created_ids") or []
    created = []
    if ids:
        created = list(
            Record.objects.filter(visible_q(viewer), pk__in=ids, deleted_at__isnull=True)
            .order_by("type_id", "name_key", "id")
            .values("id", "name", "type_id")[:50]
        )
    return {
        **report,
        "status": import_status(job),
        "count_rows": count_rows(report.get("counts") or {}),
        "created_records": created,
        "has_rejects": bool(report.get("has_rejects")),
        "bad": report.get("bad") or [],
        "bad_count": report.get("bad_count", 0),
        "warnings": report.get("warnings") or [],
    }


def import_rejects(job: ImportJob) -> tuple[str, bytes, str]:
    """The rejected rows of a job as a file to fix and import again: name, bytes, type."""
    if not job.rejects:
        raise NotFound("job: this import rejected no rows", field="job")
    ext, ctype = REJECT_TYPES.get(job.fmt, (".csv", "text/csv"))
    stem = os.path.splitext(job.filename)[0] or "import"
    data = (
        base64.b64decode(job.rejects)
        if job.report.get("rejects_base64")
        else job.rejects.encode("utf-8")
    )
    return f"{stem}.rejects{ext}", data, ctype
