"""Reads of the history log and of the job queue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_tasks_db.models import DBTaskResult

from kith.core.models import Change


def changes_for(entity_ids: Iterable[str]) -> QuerySet[Change]:
    """Return the history of the given entities, oldest first."""
    return Change.objects.filter(entity_id__in=list(entity_ids)).order_by("at", "id")


def change_view(c: Change) -> dict[str, Any]:
    """The JSON form of one history entry."""
    return {
        "id": c.pk,
        "at": c.at.isoformat(),
        "actor": c.actor,
        "entity_id": c.entity_id,
        "entity_kind": c.entity_kind,
        "action": c.action,
        "field": c.field,
        "old": c.old,
        "new": c.new,
        "note": c.note,
    }


def job_view(row: DBTaskResult[Any, Any]) -> dict[str, Any]:
    """The JSON form of one background job (a row of the queue)."""
    status = str(row.status).lower()
    if row.status == "FAILED" and row.exception_class_path.endswith("JobTimedOut"):
        status = "timed_out"
    elif row.status == "READY":
        status = "queued" if not row.worker_ids else "retrying"
    lines = [line for line in (row.traceback or "").strip().splitlines() if line.strip()]
    return {
        "id": str(row.pk),
        "job": row.task_path,
        "status": status,
        "attempts": len(row.worker_ids),
        "enqueued_at": row.enqueued_at.isoformat() if row.enqueued_at else None,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "run_after": row.run_after.isoformat() if row.run_after.year < 9999 else None,
        "error": lines[-1][:300] if lines and row.status in ("FAILED", "READY") else "",
    }


def recent_jobs(*, failed: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    """The newest background jobs (only failed and timed-out ones with ``failed``)."""
    rows = DBTaskResult.objects.order_by("-enqueued_at")
    if failed:
        rows = rows.filter(status="FAILED")
    return [job_view(r) for r in rows[: max(1, min(limit, 1000))]]


def job_state(job_id: str) -> str | None:
    """A queued job's status (READY, RUNNING, FAILED, SUCCESSFUL), or None if unknown."""
    try:
        found = DBTaskResult.objects.filter(pk=job_id).values_list("status", flat=True).first()
    except (ValueError, DjangoValidationError):  # not a job id at all
        return None
    return str(found) if found is not None else None
