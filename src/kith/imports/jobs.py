"""Import jobs and the one audited import every interface runs (CLI, API, web).

Uploads are kept in ImportJob rows so any server process can preview, run or show them.
The runner is a plain function (``run_import_job``) that the web page queues as a worker
job (``launch_import_job``), so an import survives a restart of the server. The import
itself is one transaction (all-or-nothing), so a run cut short writes nothing and the
worker runs it again; while it runs its progress is published outside that transaction:
a heartbeat thread writes it to the job row (PostgreSQL) or, on SQLite, whose one writer
is the import, to a small file in the temporary directory. A job whose heartbeat stops
(the process died) and that no worker will retry shows as stopped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import threading
import time
from typing import IO, Any

from django.db import DatabaseError, OperationalError, connection, connections, transaction

from kith.accounts.selectors import viewer_of
from kith.core import clock, jobs
from kith.core.context import acting_as
from kith.core.errors import Conflict, KithError, ValidationError
from kith.core.ids import new_id
from kith.core.services import audit
from kith.core.viewer import Viewer
from kith.imports.detect import FORMATS, normalize_format
from kith.imports.models import ImportJob
from kith.imports.reading import estimate_total
from kith.imports.scratch import scratch
from kith.imports.selectors import (
    export,
    import_beat_path,
    import_job_file,
    import_status,
    preview_file,
)
from kith.imports.services import ImportFailed, Progress, import_file

IMPORT_MAX_BYTES = 50 * 1024 * 1024
IMPORT_BEAT_SECONDS = 1.0
IMPORT_JOB_TIMEOUT = 3 * 3600.0  # the worker records a web import still running after this
IMPORT_NAME_MAX = 100
log = logging.getLogger("kith.imports")

# -- the audited import -------------------------------------------------------------------


def audit_import(
    *,
    filename: str,
    fmt: str,
    status: str,
    report: dict[str, Any],
    via: str,
    dry_run: bool = False,
    actor: str | None = None,
    ip: str | None = None,
) -> None:
    """Write the audit entry of one import, the same whichever interface ran it."""
    audit(
        "import",
        actor=actor,
        target=filename,
        ip=ip,
        detail={
            "format": fmt,
            "status": status,
            "dry_run": dry_run,
            "via": via,
            "counts": dict(report.get("counts") or {}),
            "bad": int(report.get("bad_count") or 0),
        },
    )


def export_audited(
    *,
    viewer: Viewer,
    out: IO[str],
    fmt: str,
    via: str,
    type_key: str | None = None,
    actor: str | None = None,
    ip: str | None = None,
) -> int:
    """Write the export of what ``viewer`` may see to ``out`` and audit it; how many records."""
    count = export(viewer, out, fmt=fmt, type_key=type_key)
    audit(
        "export",
        actor=actor,
        target=fmt,
        ip=ip,
        detail={"records": count, "type": type_key, "via": via},
    )
    return count


def import_audited(
    *,
    viewer: Viewer,
    path: str,
    via: str,
    filename: str | None = None,
    fmt: str | None = None,
    mapping: list[str] | None = None,
    dry_run: bool = False,
    skip_bad: bool = False,
    reject: str | None = None,
    bodies: bool = False,
    progress: Progress | None = None,
    actor: str | None = None,
    ip: str | None = None,
    exclude_domains: list[str] | None = None,
    exclude_addresses: list[str] | None = None,
) -> dict[str, Any]:
    """Import a file (``kith.imports.services.import_file``) and audit it, done or failed."""
    name = filename or os.path.basename(path.rstrip("/")) or "upload"
    try:
        report = import_file(
            viewer=viewer,
            path=path,
            fmt=fmt,
            mapping=mapping,
            dry_run=dry_run,
            skip_bad=skip_bad,
            reject=reject,
            bodies=bodies,
            progress=progress,
            exclude_domains=exclude_domains,
            exclude_addresses=exclude_addresses,
        )
    except ImportFailed as exc:
        detail = {**exc.report}
        audit_import(filename=name, fmt=str(detail.get("format") or fmt or ""), status="failed",
                     report=detail, via=via, dry_run=dry_run, actor=actor, ip=ip)  # fmt: skip
        raise
    except Exception:
        with contextlib.suppress(DatabaseError), transaction.atomic():  # busy: no entry either
            audit_import(filename=name, fmt=fmt or "", status="failed", report={}, via=via,
                         dry_run=dry_run, actor=actor, ip=ip)  # fmt: skip
        raise
    audit_import(filename=name, fmt=str(report.get("format") or ""), status="done",
                 report=report, via=via, dry_run=dry_run, actor=actor, ip=ip)  # fmt: skip
    return report


# -- the lifecycle of a job ---------------------------------------------------------------


def _clean_filename(name: str) -> str:
    """A safe base name for an uploaded file, its extension kept (detection uses it)."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[\x00-\x1f\x7f/]+", "", base).strip(" .") or "upload"
    if len(base) > IMPORT_NAME_MAX:
        stem, ext = os.path.splitext(base)
        base = stem[: IMPORT_NAME_MAX - len(ext[:12])] + ext[:12]
    return base


def _busy() -> Conflict:
    """The clear error for a write refused because another import holds the database."""
    return Conflict(
        "file: the database is busy with another import; try again when it has finished",
        field="file",
    )


def create_import_job(*, viewer: Viewer, filename: str, content: bytes, fmt: str = "") -> ImportJob:
    """Keep an uploaded file as a new import job, once its format is known and readable."""
    if viewer.user_id is None:
        raise ValidationError("user: an import job belongs to a signed-in user", field="user")
    name = _clean_filename(filename)
    if not content:
        raise ValidationError(f"file: {name} is empty", field="file")
    if len(content) > IMPORT_MAX_BYTES:
        size = len(content) / (1024 * 1024)
        raise ValidationError(
            f"file: {name} is {size:,.1f} MB; the most Kith takes in one upload is "
            f"{IMPORT_MAX_BYTES // (1024 * 1024)} MB (split the file)",
            field="file",
        )
    chosen = normalize_format(fmt) if fmt else ""
    job = ImportJob(
        id=new_id("imp"), user_id=viewer.user_id, filename=name, content=content, fmt=chosen
    )
    with import_job_file(job) as path:
        found = preview_file(path, chosen or None)["format"]
    if found not in FORMATS or found == "maildir":
        raise ValidationError(
            f"file: {name} is a {found} file; Kith reads csv, xlsx, vcard, ics, mbox, eml "
            "and json (unpack an archive first)",
            field="file",
        )
    job.fmt = found
    try:
        job.save(force_insert=True)
    except OperationalError:
        raise _busy() from None
    return job


def set_import_options(
    *, job: ImportJob, fmt: str, columns: dict[int, str], skip_bad: bool, bodies: bool
) -> ImportJob:
    """Save the user's choices for a job still in preview: format, column targets, flags.

    ``columns`` maps a column's index to a ``--map`` value; only the columns that differ
    from what Kith detects become ``Column=field`` items.
    """
    if job.status not in (ImportJob.Status.PREVIEW,):
        raise Conflict(f"job: this import is {job.status}; its options are fixed", field="job")
    new_fmt = normalize_format(fmt) if fmt else job.fmt
    with import_job_file(job) as path:
        base = preview_file(path, new_fmt)
    items: list[str] = []
    if base["tabular"]:
        allowed = {value for value, _ in base["choices"]}
        for col in base["columns"]:
            want = columns.get(col["index"])
            if want is None or want in ("", "__detected__") or want == col["detected"]:
                continue
            if want not in allowed:
                raise ValidationError(
                    f"map-{col['index']}: {want[:40]!r} is not something a column can feed",
                    field=f"map-{col['index']}",
                )
            if not col["header"].strip():
                raise ValidationError(
                    f"map-{col['index']}: a column without a header cannot be mapped",
                    field=f"map-{col['index']}",
                )
            items.append(f"{col['header']}={want}")
        with import_job_file(job) as path:
            preview_file(path, new_fmt, items)  # a bad mapping fails here, clearly
    job.fmt = new_fmt
    job.options = {**job.options, "mapping": items, "skip_bad": skip_bad, "bodies": bodies}
    try:
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
            fmt=job.fmt, options=job.options
        )
    except OperationalError:
        raise _busy() from None
    return job


def start_import_job(*, job: ImportJob, ip: str = "") -> ImportJob:
    """Mark a job as running (once: a second start is refused); the caller runs it."""
    status = import_status(job)
    if status not in ("preview", "stopped"):
        raise Conflict(f"job: this import is already {status}", field="job")
    with import_job_file(job) as path:
        total = estimate_total(path, job.fmt)
    now = clock.now()
    report = {"started_at": now.isoformat()}
    options = {**job.options, "ip": ip[:64]}
    try:
        claimed = ImportJob.objects.filter(
            pk=job.pk, status=job.status, updated_at=job.updated_at
        ).update(
            status=ImportJob.Status.RUNNING,
            done=0,
            total=total,
            report=report,
            rejects="",
            options=options,
            updated_at=now,
        )
    except OperationalError:
        raise _busy() from None
    if not claimed:
        raise Conflict("job: this import was started already", field="job")
    job.status, job.done, job.total, job.report = ImportJob.Status.RUNNING, 0, total, report
    job.options, job.updated_at = options, now
    return job


def reopen_import_job(*, job: ImportJob) -> ImportJob:
    """Back to the preview after a failed or stopped run (nothing was written by it)."""
    status = import_status(job)
    if status not in ("failed", "stopped"):
        raise Conflict(f"job: this import is {status}; only a failed one can be retried")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.PREVIEW, done=0, report={}, rejects="", updated_at=clock.now()
    )
    job.status = ImportJob.Status.PREVIEW
    return job


def discard_import_job(*, job: ImportJob) -> None:
    """Forget a job and its file (a running one is left to finish)."""
    if import_status(job) == "running":
        raise Conflict("job: this import is running; wait for it to finish", field="job")
    job.delete()


# -- running a job ------------------------------------------------------------------------


class _Beat:
    """Progress of a running job, published once a second outside the import's transaction."""

    def __init__(self, job_id: str, total: int | None) -> None:
        self.job_id, self.total, self.done = job_id, total, 0
        self.started = time.time()
        self.to_file = connection.vendor == "sqlite"
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name=f"kith-import-beat-{job_id}", daemon=True
        )

    def add(self, n: int) -> None:
        self.done += n

    def start(self) -> None:
        self._publish()
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        with contextlib.suppress(OSError):
            os.unlink(import_beat_path(self.job_id))

    def _loop(self) -> None:
        try:
            while not self.stop_event.wait(IMPORT_BEAT_SECONDS):
                self._publish()
        finally:
            connections.close_all()  # this thread's own connection

    def _publish(self) -> None:
        if self.to_file:
            path = import_beat_path(self.job_id)
            tmp = f"{path}.{os.getpid()}.tmp"
            try:
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump({"done": self.done, "total": self.total, "at": time.time()}, fh)
                os.replace(tmp, path)
            except OSError:
                pass
            return
        with contextlib.suppress(DatabaseError):  # the next beat tries again
            ImportJob.objects.filter(pk=self.job_id, status=ImportJob.Status.RUNNING).update(
                done=self.done, updated_at=clock.now()
            )


def _read_rejects(job: ImportJob, reject: str, report: dict[str, Any]) -> str:
    """The reject file as text to keep on the job (base64 for binary formats)."""
    if not (report.pop("reject_file", None) and os.path.exists(reject)):
        return ""
    with open(reject, "rb") as fh:
        data = fh.read()
    if job.fmt in ("xlsx", "mbox", "eml"):
        report["rejects_base64"] = True
        return base64.b64encode(data).decode("ascii")
    return data.decode("utf-8")


def run_import_job(job_id: str) -> str:
    """Run a job marked running: import its file, store the report; returns the status."""
    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.RUNNING:
        return job.status if job else "missing"
    options = job.options
    beat = _Beat(job.pk, job.total)
    report: dict[str, Any] = {}
    rejects = ""
    status = ImportJob.Status.FAILED
    actor = job.user.get_username()
    ip = str(options.get("ip") or "")
    beat.start()
    try:
        with (
            acting_as(actor),
            import_job_file(job) as path,
            scratch("rejects-") as tmp,
        ):
            reject = os.path.join(tmp, "rejects")
            report = import_audited(
                viewer=viewer_of(job.user),
                path=path,
                via="web",
                filename=job.filename,
                fmt=job.fmt,
                mapping=list(options.get("mapping") or []),
                skip_bad=bool(options.get("skip_bad")),
                bodies=bool(options.get("bodies")),
                reject=reject,
                progress=beat.add,
                actor=actor,
                ip=ip,
            )
            rejects = _read_rejects(job, reject, report)
            status = ImportJob.Status.DONE
    except ImportFailed as exc:
        report = {**exc.report, "error": exc.message}
    except KithError as exc:
        report = {"error": exc.message}
    except OperationalError:  # SQLite: another import held the database too long
        report = {
            "error": f"{job.filename}: the database was busy with another import; "
            "nothing was imported, try again"
        }
    except Exception:  # the job must end, whatever happened; nothing was written
        log.exception("import %s failed", job_id)
        report = {"error": f"{job.filename}: Kith hit an internal error; nothing was imported"}
    finally:
        beat.stop()
    report.pop("header", None)
    report.pop("reject_file", None)
    report["has_rejects"] = bool(rejects)
    report.update(
        started_at=job.report.get("started_at"),
        finished_at=clock.now().isoformat(),
        seconds=round(time.time() - beat.started, 3),
    )
    done = report.get("units", beat.done)
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        done=done,
        total=max(done, job.total or 0) if status == ImportJob.Status.DONE else job.total,
        report=report,
        rejects=rejects,
        updated_at=clock.now(),
    )
    return str(status)


@jobs.job(timeout=IMPORT_JOB_TIMEOUT, max_attempts=3)
def run_import_task(*, job_id: str, run: str = "") -> str:
    """The worker's job: run an import job (once; a later launch of it supersedes this one).

    The import is one transaction, so a run cut short (the worker killed) wrote nothing and
    the worker's next attempt imports the file from the start; a job already finished is
    not imported again.
    """
    job = ImportJob.objects.filter(pk=job_id).only("options").first()
    if job is None:
        return "missing"
    if run and job.options.get("run") != run:
        return "superseded"
    return run_import_job(job_id)


def launch_import_job(job_id: str) -> str:
    """Queue a started job for the worker (it survives a server restart); returns its id."""
    run = new_id("run")
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            queued = jobs.enqueue(run_import_task, job_id=job_id, run=run)
            options = {**job.options, "run": run, "queue_job": queued}
            ImportJob.objects.filter(pk=job_id).update(options=options)
    except OperationalError:
        raise _busy() from None
    return queued
