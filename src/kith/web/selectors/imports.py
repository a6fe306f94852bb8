"""Reads of import jobs: preview, status, progress, report and reject file."""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import tempfile
import time
from typing import Any

from django.db import OperationalError

from kith.accounts.selectors import is_admin, viewer_of
from kith.core.errors import KithError, NotFound
from kith.imports.preview import preview
from kith.imports.services import import_file
from kith.records.models import Record
from kith.records.selectors import visible_q
from kith.web.models import ImportJob

IMPORT_STALE_SECONDS = 30  # a running job whose heartbeat is older than this has stopped
IMPORT_CHECK_MAX_BYTES = 512 * 1024  # files checked row by row (a dry run) on the preview page
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
}


def import_beat_path(job_id: str) -> str:
    """Where a running job's heartbeat is written when the database cannot take it (SQLite)."""
    return os.path.join(tempfile.gettempdir(), f"kith-import-{job_id}.json")


def import_job_file(job: Any) -> Any:
    """A context manager: the job's file written to a temporary folder, as a path."""

    @contextlib.contextmanager
    def written() -> Any:
        with tempfile.TemporaryDirectory(prefix="kith-import-") as tmp:
            path = os.path.join(tmp, job.filename or "upload")
            with open(path, "wb") as fh:
                fh.write(bytes(job.content))
            yield path

    return written()


def preview_file(path: str, fmt: str | None, mapping: list[str] | None = None) -> dict[str, Any]:
    """Format, preset, column mapping and sample rows of a file (kith.imports.preview)."""
    return preview(path=path, fmt=fmt or None, mapping=mapping)


def _job_query(user: Any) -> Any:
    qs = ImportJob.objects.defer("content", "rejects").select_related("user")
    return qs if is_admin(user) else qs.filter(user=user)


def get_import_job(user: Any, job_id: str) -> Any:
    """The job (its file loaded only when used), if ``user`` started it or is an admin."""
    job = _job_query(user).filter(pk=(job_id or "")[:32]).first()
    if job is None:
        raise NotFound(f"job: no import {job_id[:40]!r}", field="job")
    return job


def _beat(job: Any) -> tuple[int, int | None, float]:
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


def import_status(job: Any) -> str:
    """preview, running, done, failed, or stopped (running, but its heartbeat stopped)."""
    if job.status != "running":
        return str(job.status)
    _, _, at = _beat(job)
    return "stopped" if time.time() - at > IMPORT_STALE_SECONDS else "running"


def import_jobs(user: Any, *, limit: int = IMPORT_JOBS_SHOWN) -> list[dict[str, Any]]:
    """The user's newest imports (an admin's: everyone's), with status and a line of result."""
    rows = []
    for job in _job_query(user).order_by("-created_at", "-id")[:limit]:
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


def import_progress(job: Any) -> dict[str, Any]:
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


def import_preview(job: Any) -> dict[str, Any]:
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


def import_check(job: Any) -> dict[str, Any]:
    """A dry run of the job with its options: what would be created or matched, bad rows."""
    if len(job.content) > IMPORT_CHECK_MAX_BYTES:
        return {"skipped": True}
    try:
        with import_job_file(job) as path, tempfile.TemporaryDirectory() as tmp:
            report = import_file(
                viewer=viewer_of(job.user),
                path=path,
                fmt=job.fmt,
                mapping=list(job.options.get("mapping") or []),
                dry_run=True,
                skip_bad=True,
                bodies=bool(job.options.get("bodies")),
                reject=os.path.join(tmp, "rejects"),
            )
    except KithError as exc:
        return {"error": exc.message}
    except OperationalError:
        return {"error": "The database is busy with another import; check again when it ends."}
    return {**report, "count_rows": count_rows(report.get("counts") or {})}


def count_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Import counts as (label, number), creations first."""
    order = sorted(counts, key=lambda k: (not k.endswith("_created"), k))
    return [(_COUNT_LABELS.get(k, k.replace("_", " ")), counts[k]) for k in order if counts[k]]


def import_report(user: Any, job: Any) -> dict[str, Any]:
    """The result of a finished (or failed) job: counts, rejected rows, records to open."""
    report = dict(job.report)
    ids = report.get("created_ids") or []
    created = []
    if ids:
        created = list(
            Record.objects.filter(visible_q(viewer_of(user)), pk__in=ids, deleted_at__isnull=True)
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


def import_rejects(job: Any) -> tuple[str, bytes, str]:
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
