"""JSON API for rules (admins): add, check, list, enable/disable, delete, runs, dry runs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.core.errors import ValidationError
from kith.rules import selectors, services
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS, Out

router = Router(tags=["rules"])


class RuleIn(Schema):
    rule: dict[str, Any] = Field(
        ..., description="The rule document: name, trigger, conditions, actions, limits"
    )
    replace: bool = Field(False, description="Replace the rule of the same name")


class RuleOut(Out):
    id: str
    name: str
    description: str
    enabled: bool
    trigger: dict[str, Any]
    conditions: Any = None
    actions: list[dict[str, Any]]
    limits: dict[str, Any]
    version: int
    created_by: str
    created_at: str
    updated_at: str
    runs: dict[str, int]


class CheckOut(Out):
    valid: bool
    rule: dict[str, Any]


class RunOut(Out):
    id: str
    rule: str
    record_id: str
    record_hidden: bool
    trigger: str
    status: str = Field(description="running, succeeded, failed, timed_out or skipped")
    reason: str
    depth: int
    started_at: str
    finished_at: str | None
    deadline_at: str
    trace: dict[str, Any]


class RuleTestOut(Out):
    """A dry run: for a record (why it would or would not fire) or a replay of history."""

    rule: str
    would_fire: bool | int = Field(description="record: whether; replay: how many times")
    record: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    conditions: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None
    why_not: list[str] | None = None
    actions: list[dict[str, Any]] | None = None
    since: str | None = None
    events: int | None = None
    not_matched_or_limited: int | None = None
    firings: list[dict[str, Any]] | None = None
    capped: bool | None = None


class RunsQuery(Schema):
    failed: bool = Field(False, description="Failed and timed-out runs only")
    record: str | None = Field(None, max_length=320, description="Runs for one record")
    limit: int = Field(50, ge=1, le=1000)


class TestQuery(Schema):
    record: str | None = Field(None, max_length=320, description="Why it would fire for this")
    since_days: int | None = Field(None, ge=1, le=3650, description="Replay this many days")


@router.get("/rules", response={200: list[RuleOut], **READ_ERRORS})
def list_rules(request: HttpRequest) -> Any:
    """Every rule, with its runs so far by status."""
    return selectors.list_rules(viewer_of(require(request, "admin")))


@router.post("/rules", response={201: RuleOut, **WRITE_ERRORS})
def add_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """Add (or with ``replace``, change) a rule; every part is validated first."""
    with acting(request, "admin"):
        rule = services.add_rule(doc=payload.rule, replace=payload.replace)
    return Status(201, selectors.rule_view(rule))


@router.post("/rules/check", response={200: CheckOut, **WRITE_ERRORS})
def check_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """Validate a rule document without storing it (errors name their path)."""
    require(request, "admin")
    return {"valid": True, "rule": services.check_rule(payload.rule)}


@router.get("/rules/{rule}", response={200: RuleOut, **READ_ERRORS})
def get_rule(request: HttpRequest, rule: str) -> Any:
    """One rule."""
    return selectors.get_rule_view(viewer_of(require(request, "admin")), rule)


@router.post("/rules/{rule}/enable", response={200: RuleOut, **WRITE_ERRORS})
def enable_rule(request: HttpRequest, rule: str) -> Any:
    """Enable a rule (checked again first)."""
    with acting(request, "admin"):
        return selectors.rule_view(services.set_enabled(ref=rule, enabled=True))


@router.post("/rules/{rule}/disable", response={200: RuleOut, **WRITE_ERRORS})
def disable_rule(request: HttpRequest, rule: str) -> Any:
    """Disable a rule."""
    with acting(request, "admin"):
        return selectors.rule_view(services.set_enabled(ref=rule, enabled=False))


@router.delete("/rules/{rule}", response={204: None, **WRITE_ERRORS})
def delete_rule(request: HttpRequest, rule: str) -> Any:
    """Delete a rule and its runs."""
    with acting(request, "admin"):
        services.delete_rule(ref=rule)
    return Status(204, None)


@router.get("/rules/{rule}/runs", response={200: list[RunOut], **READ_ERRORS})
def rule_runs(request: HttpRequest, rule: str, query: Query[RunsQuery]) -> Any:
    """A rule's runs, newest first, each with its trace."""
    viewer = viewer_of(require(request, "admin"))
    return selectors.runs(viewer, rule, failed=query.failed, limit=query.limit, record=query.record)


@router.get("/rules/{rule}/test", response={200: RuleTestOut, **READ_ERRORS})
def test_rule(request: HttpRequest, rule: str, query: Query[TestQuery]) -> Any:
    """Dry run: why it would or would not fire for ``record``, or a replay of
    ``since_days`` of history; changes nothing."""
    viewer = viewer_of(require(request, "admin"))
    if (query.record is None) == (query.since_days is None):
        raise ValidationError("record: give one of record or since_days", field="record")
    if query.record is not None:
        return selectors.test_record(viewer, rule, query.record)
    return selectors.replay(viewer, rule, days=int(query.since_days or 0))
