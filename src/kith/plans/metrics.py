"""The plans app's metrics in the one catalogue: buying roles filled, and filled and warm.

Computed for a plan as of a day from its stakeholders named by then (a stakeholder added
later does not count for an earlier day, so a recomputed past value equals that day's):
a required role (``KITH_REQUIRED_ROLES``) is filled when a stakeholder in it still works at
the account that day; it is warm when, besides, someone on our team has a tie of at least
the engaged strength with them. Registered on import (``PlansConfig.ready``).
"""

from __future__ import annotations

import datetime as dt

from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.metrics.catalogue import Context, Result, metric
from kith.plans import conf
from kith.plans.models import Stakeholder
from kith.records.selectors import visible_q
from kith.relationships.models import Relationship


def _roles(ctx: Context) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
    """(required roles, role -> people filling it, role -> people filling it warmly)."""
    plan = ctx.record
    account = (
        Relationship.objects.filter(from_record=plan, type_id="plan_for")
        .order_by("id")
        .values_list("to_record_id", flat=True)
        .first()
    )
    end = dt.datetime.combine(ctx.as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = list(
        Stakeholder.objects.filter(plan=plan, person__deleted_at=None, created_at__lt=end)
        .filter(visible_q(ctx.viewer, "person__"))
        .values_list("person_id", "role")
        .order_by("person_id")
    )
    required = conf.required_roles()
    employed = (
        {p for p, _, _ in agg.employment(ctx.as_of, account, viewer=ctx.viewer)}
        if account
        else set()
    )
    here = [(p, r) for p, r in rows if r in required and p in employed]
    ids = tuple(sorted({p for p, _ in here}))
    cfg = model_config()
    snap = compute(cfg, ctx.as_of, ("people", ids), viewer=ctx.viewer) if ids else None
    filled: dict[str, list[str]] = {}
    warm: dict[str, list[str]] = {}
    for p, r in here:
        filled.setdefault(r, []).append(p)
        ties = snap.ties.get(p, []) if snap else []
        if any(s >= cfg["engaged_strength"] for s, _ in ties):
            warm.setdefault(r, []).append(p)
    return required, filled, warm


def _said(roles: list[str]) -> str:
    return ", ".join(r.replace("_", " ") for r in roles) or "none"


@metric("roles.filled", "Buying roles filled", unit="roles", scopes=("plan",))
def _filled(ctx: Context) -> Result:
    """Required buying roles with a stakeholder who works at the account that day."""
    required, filled, _ = _roles(ctx)
    have = [r for r in required if r in filled]
    missing = [r for r in required if r not in filled]
    reasons = [f"{len(have)} of {len(required)} required roles filled: {_said(have)}"]
    if missing:
        reasons.append(f"missing: {_said(missing)}")
    evidence = sorted({p for r in have for p in filled[r]})
    return Result(float(len(have)), len(required), reasons, evidence)


@metric("roles.warm", "Buying roles filled and warm", unit="roles", scopes=("plan",))
def _warm(ctx: Context) -> Result:
    """Required buying roles filled by someone our team is warm with (engaged strength)."""
    required, filled, warm = _roles(ctx)
    have = [r for r in required if r in warm]
    cold = [r for r in required if r in filled and r not in warm]
    missing = [r for r in required if r not in filled]
    reasons = [f"{len(have)} of {len(required)} required roles filled and warm: {_said(have)}"]
    if cold:
        reasons.append(f"filled but nobody on our team is warm with them: {_said(cold)}")
    if missing:
        reasons.append(f"missing: {_said(missing)}")
    evidence = sorted({p for r in have for p in warm[r]})
    return Result(float(len(have)), len(required), reasons, evidence)
