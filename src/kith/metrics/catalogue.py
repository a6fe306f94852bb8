"""The metric catalogue: named metrics, each computed for a scope as of a day over a window.

Why its own feature app, above ``kith.intelligence``: a metric reads several owners' data
(health and ties from intelligence, employment from relationships, interactions, record
fields and their history, the condition language of records) and owns none of it, so it
sits in the layer that may read them all; plans, briefs, dashboards and rules read metrics
from here and never compute their own. Every metric is a pure function of the data, a
viewer, a scope record, an as-of day and a window: only what happened up to the end of the
as-of day counts, and only records the viewer may see are counted, named or cited.

A metric returns a ``Result``: the value (``None`` when there is nothing to measure), ``n``
(how many things it counted or read), the unit, plain reasons and the ids of its evidence
(people, relationships, interactions). ``as_of_exact`` says whether a value recomputed for
a past day equals what the metric said on that day (a condition over custom fields reads
today's values, so ``records.matching`` is not).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from kith.core.errors import NotFound, ValidationError
from kith.core.models import Change
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.interactions.models import Participant
from kith.records import conditions
from kith.records.models import Record
from kith.records.selectors import get_type, hidden_ids, home_org, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on, team_ids

EVIDENCE_CAP = 50
EXEC_ROLES = (
    "ceo",
    "cfo",
    "cto",
    "coo",
    "cio",
    "cmo",
    "chief",
    "president",
    "vp",
    "vice president",
    "founder",
    "executive",
    "managing director",
    "head of",
)


@dataclass
class Result:
    value: float | None
    n: int
    reasons: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    viewer: Viewer
    record: Record
    as_of: dt.date
    window: int  # days, the as-of day included
    params: dict[str, Any]

    @property
    def start(self) -> dt.date:
        """The first day of the window."""
        return self.as_of - dt.timedelta(days=self.window - 1)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    scopes: tuple[str, ...]  # record types it is computed for ("*" any)
    better: str  # "higher" or "lower"
    params: dict[str, str]  # name -> what it means
    fn: Callable[[Context], Result]
    as_of_exact: bool = True
    # the metric for many records of one viewer, day, window and parameters at once (the
    # worker's daily readings): the same results as ``fn`` for each, from shared reads
    many: Callable[[list[Context]], list[Result]] | None = None

    def view(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "scopes": list(self.scopes),
            "better": self.better,
            "params": self.params,
            "as_of_exact": self.as_of_exact,
        }


REGISTRY: dict[str, Metric] = {}


def metric(
    key: str,
    label: str,
    *,
    unit: str,
    scopes: tuple[str, ...],
    better: str = "higher",
    params: dict[str, str] | None = None,
    as_of_exact: bool = True,
) -> Callable[[Callable[[Context], Result]], Callable[[Context], Result]]:
    """Register a metric function in the catalogue (later apps add theirs the same way)."""

    def wrap(fn: Callable[[Context], Result]) -> Callable[[Context], Result]:
        REGISTRY[key] = Metric(key, label, unit, scopes, better, params or {}, fn, as_of_exact)
        return fn

    return wrap


Many = Callable[[list["Context"]], list[Result]]


def batch(key: str) -> Callable[[Many], Many]:
    """Register the many-records form of the metric ``key`` (see ``Metric.many``)."""

    def wrap(fn: Many) -> Many:
        m = REGISTRY[key]
        REGISTRY[key] = Metric(
            m.key, m.label, m.unit, m.scopes, m.better, m.params, m.fn, m.as_of_exact, fn
        )
        return fn

    return wrap


def get_metric(key: str, *, field: str = "metric") -> Metric:
    """The metric named ``key``; an unknown one is a NotFound listing the known keys."""
    found = REGISTRY.get((key or "").strip())
    if found is None:
        raise NotFound(
            f"{field}: unknown metric {key!r} (known: {', '.join(sorted(REGISTRY))})", field=field
        )
    return found


# -- helpers --------------------------------------------------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def visible_team(ctx: Context) -> list[str]:
    """Our team on the as-of day, less the members hidden from the viewer."""
    team = team_ids(ctx.as_of)
    unseen = hidden_ids(ctx.viewer, team)
    return [m for m in team if m not in unseen]


def people_of(ctx: Context) -> list[tuple[str, str]]:
    """(person id, role) of the outside people the scope stands for on the as-of day: the
    person, or whoever works at the organisation that day (visible to the viewer)."""
    rec = ctx.record
    if rec.type_id == "person":
        return [(rec.id, "")]
    team = set(team_ids(ctx.as_of))
    return [
        (p, role)
        for p, _, role in agg.employment(ctx.as_of, rec.id, viewer=ctx.viewer)
        if p not in team
    ]


def _names(ids: set[str], viewer: Viewer) -> dict[str, str]:
    return agg.names(ids, viewer=viewer) if ids else {}


def _not_home(rec: Record, home: Record | bool | None = False) -> None:
    """Refuse our own organisation (``home``: the home organisation read by the caller)."""
    found = home_org() if home is False else home
    if isinstance(found, Record) and found.id == rec.id:
        raise ValidationError(
            f"ref: {rec.name} is our own organisation; metrics measure outside relationships",
            field="ref",
        )


# -- health and engagement --------------------------------------------------------------


@metric("health", "Health", unit="points", scopes=("organization", "person"))
def _health(ctx: Context) -> Result:
    """Health (0-100) of a person or organisation, as kith.intelligence scores it."""
    cfg, rec = model_config(), ctx.record
    if rec.type_id == "person":
        if rec.id in team_ids(ctx.as_of):
            raise ValidationError(f"ref: {rec.name} is on our team", field="ref")
        snap = compute(cfg, ctx.as_of, ("person", rec.id), viewer=ctx.viewer)
        score = snap.person(rec.id, explain_tie=True)
        ties = snap.ties.get(rec.id, [])
        return Result(round(score.score, 1), len(ties), score.reasons, [m for _, m in ties])
    _not_home(rec)
    snap = compute(cfg, ctx.as_of, ("org", rec.id), viewer=ctx.viewer)
    org = snap.orgs[rec.id]
    people = [p for p, _ in people_of(ctx)]
    return Result(round(org.score, 1), len(people), org.reasons, sorted(people)[:EVIDENCE_CAP])


@metric("people.engaged", "People engaged", unit="people", scopes=("organization",))
def _engaged(ctx: Context) -> Result:
    """People at the account whose health reaches the engaged band (weak or better)."""
    return _engaged_many([ctx])[0]


def _org_snapshot(ctxs: list[Context]) -> tuple[Any, dict[str, list[tuple[str, str]]]]:
    """One health computation for the organisations of ``ctxs`` (one viewer and day), and
    each one's outside people that day."""
    c0 = ctxs[0]
    home = home_org()
    for c in ctxs:
        _not_home(c.record, home)
    ids = tuple(sorted({c.record.id for c in ctxs}))
    scope: agg.Scope = ("org", ids[0]) if len(ids) == 1 else ("org", ids)
    snap = compute(model_config(), c0.as_of, scope, viewer=c0.viewer)
    team = set(team_ids(c0.as_of))
    staff: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    for p, o, role in agg.employment(c0.as_of, ids if len(ids) > 1 else ids[0], viewer=c0.viewer):
        if p not in team and o in staff:
            staff[o].append((p, role))
    return snap, staff


@batch("people.engaged")
def _engaged_many(ctxs: list[Context]) -> list[Result]:
    cfg = model_config()
    snap, staff = _org_snapshot(ctxs)
    floor = cfg["bands"][-2][0]
    out = []
    for ctx in ctxs:
        rec, people = ctx.record, staff[ctx.record.id]
        engaged = sorted(
            (p for p, _ in people if snap.person_score.get(p, 0.0) >= floor),
            key=lambda p: (-snap.person_score.get(p, 0.0), p),
        )
        names = snap.names
        reasons = [
            f"{len(engaged)} of the {_plural(len(people), 'person', 'people')} at {rec.name}"
        ]
        if engaged:
            top = ", ".join(
                f"{names.get(p, p)} ({round(snap.person_score[p])})" for p in engaged[:5]
            )
            reasons.append(f"engaged: {top}" + (" ..." if len(engaged) > 5 else ""))
        out.append(Result(float(len(engaged)), len(people), reasons, engaged[:EVIDENCE_CAP]))
    return out


@metric("team.in_touch", "Our people in touch", unit="people", scopes=("organization", "person"))
def _in_touch(ctx: Context) -> Result:
    """Our people with an engaged tie (strength >= engaged_strength) to someone there."""
    cfg, rec = model_config(), ctx.record
    if rec.type_id != "person":
        return _in_touch_many([ctx])[0]
    snap = compute(cfg, ctx.as_of, ("person", rec.id), viewer=ctx.viewer)
    return _touch_result(ctx, snap, [p for p, _ in people_of(ctx)], cfg)


@batch("team.in_touch")
def _in_touch_many(ctxs: list[Context]) -> list[Result]:
    if any(c.record.type_id == "person" for c in ctxs):
        return [_in_touch(c) for c in ctxs]
    cfg = model_config()
    snap, staff = _org_snapshot(ctxs)
    return [_touch_result(c, snap, [p for p, _ in staff[c.record.id]], cfg) for c in ctxs]


def _touch_result(ctx: Context, snap: Any, people: list[str], cfg: dict[str, Any]) -> Result:
    rec = ctx.record
    members: dict[str, float] = {}
    for p in people:
        for s, m in snap.ties.get(p, ()):
            if s >= cfg["engaged_strength"]:
                members[m] = max(members.get(m, 0.0), s)
    ids = sorted(members, key=lambda m: (-members[m], m))
    names = _names(set(ids), ctx.viewer)
    reasons = [f"{_plural(len(ids), 'of our people')} in touch with {rec.name}"]
    if ids:
        reasons.append(", ".join(f"{names.get(m, m)} ({round(members[m])})" for m in ids[:5]))
    elif people:
        reasons.append(f"nobody on our team talks to {rec.name}")
    return Result(float(len(ids)), len(people), reasons, ids)


# -- interactions ---------------------------------------------------------------------


def _two_way(
    ctx: Context, kinds: set[str] | None, people: set[str] | None = None
) -> list[tuple[str, str, dt.datetime]]:
    """(interaction id, kind, at) of the two-way interactions in the window between our
    (visible) team and the scope's (visible) people (or some of them), oldest first."""
    if people is None:
        people = {p for p, _ in people_of(ctx)}
    return _two_way_groups(ctx, kinds, {"": people}, set(visible_team(ctx)))[""]


def _two_way_groups(
    ctx: Context, kinds: set[str] | None, groups: dict[str, set[str]], team: set[str]
) -> dict[str, list[tuple[str, str, dt.datetime]]]:
    """``_two_way`` for several groups of people at once (one window and viewer): two
    queries in all; a group's interaction is two-way by what its own people did in it."""
    out: dict[str, list[tuple[str, str, dt.datetime]]] = {g: [] for g in groups}
    group_of: dict[str, list[str]] = {}
    for g, people in groups.items():
        for p in people:
            group_of.setdefault(p, []).append(g)
    if not group_of or not team:
        return out
    cfg = model_config()
    by_nature = set(cfg["two_way_kinds"])
    window = Q(at__gte=_midnight(ctx.start), at__lt=_midnight(ctx.as_of + dt.timedelta(days=1)))
    theirs = (
        Participant.objects.filter(
            window, record_id__in=list(group_of), interaction__deleted_at=None
        )
        .exclude(role="mentioned")
        .values_list(
            "interaction_id",
            "record_id",
            "role",
            "interaction__kind",
            "interaction__direction",
            "at",
        )
    )
    # the kinds are checked here, not in SQL: given a kind, SQLite drives the query from
    # every interaction of that kind ever (its index) and probes each for the people, 95 s
    # for a meeting filter over 1,000 accounts' people; from the people's (record, at) index
    # the window's rows are read at once (0.8 s for the same accounts)
    found: dict[tuple[str, str], tuple[str, dt.datetime, bool]] = {}
    for iid, rid, role, kind, direction, at in theirs:
        if kinds and kind not in kinds:
            continue
        two = kind in by_nature or direction == "in" or role == "from"
        for g in group_of[rid]:
            was = found.get((g, iid))
            found[(g, iid)] = (kind, at, two or (was[2] if was else False))
    if not found:
        return out
    ours = set(
        Participant.objects.filter(
            window, interaction_id__in=list({i for _, i in found}), record_id__in=team
        )
        .exclude(role="mentioned")
        .values_list("interaction_id", flat=True)
    )
    for (g, i), (k, at, two) in found.items():
        if two and i in ours:
            out[g].append((i, k, at))
    for rows in out.values():
        rows.sort(key=lambda r: (r[2], r[0]))
    return out


def _kinds_param(ctx: Context) -> set[str] | None:
    raw = ctx.params.get("kind") or ctx.params.get("kinds")
    if raw is None or raw == "":
        return None
    items = raw if isinstance(raw, list) else str(raw).split(",")
    kinds = {str(k).strip().lower() for k in items if str(k).strip()}
    for k in kinds:
        if not re.fullmatch(r"[a-z0-9_-]{1,40}", k):
            raise ValidationError(f"filter.kind: {k!r} is not an interaction kind", field="filter")
    return kinds or None


@metric(
    "interactions.two_way",
    "Two-way interactions",
    unit="interactions",
    scopes=("organization", "person"),
    params={"kind": "interaction kinds to count (e.g. meeting or meeting,call); all by default"},
)
def _interactions(ctx: Context) -> Result:
    """Two-way interactions between our team and the scope's people in the window."""
    return _interactions_result(ctx, _two_way(ctx, _kinds_param(ctx)))


@batch("interactions.two_way")
def _interactions_many(ctxs: list[Context]) -> list[Result]:
    c0 = ctxs[0]
    kinds = _kinds_param(c0)
    team_now = set(team_ids(c0.as_of))
    orgs = tuple(sorted({c.record.id for c in ctxs if c.record.type_id != "person"}))
    groups: dict[str, set[str]] = {c.record.id: set() for c in ctxs}
    for c in ctxs:
        if c.record.type_id == "person":
            groups[c.record.id] = {c.record.id}
    if orgs:
        for p, o, _ in agg.employment(
            c0.as_of, orgs if len(orgs) > 1 else orgs[0], viewer=c0.viewer
        ):
            if p not in team_now and o in groups:
                groups[o].add(p)
    rows = _two_way_groups(c0, kinds, groups, set(visible_team(c0)))
    return [_interactions_result(c, rows[c.record.id]) for c in ctxs]


def _interactions_result(ctx: Context, rows: list[tuple[str, str, dt.datetime]]) -> Result:
    by_kind = Counter(k for _, k, _ in rows)
    span = f"in the {ctx.window} days to {ctx.as_of.isoformat()}"
    reasons = [f"{_plural(len(rows), 'two-way interaction')} with {ctx.record.name} {span}"]
    if by_kind:
        reasons.append(", ".join(f"{_plural(n, k)}" for k, n in sorted(by_kind.items())))
    evidence = [i for i, _, _ in rows[-EVIDENCE_CAP:]][::-1]
    return Result(float(len(rows)), len(rows), reasons, evidence)


@metric(
    "exec.days_since_meeting",
    "Days since the last executive meeting",
    unit="days",
    scopes=("organization",),
    better="lower",
    params={
        "roles": "role words that make someone an executive (default: ceo, cfo, vp, chief ...)",
        "kind": "interaction kinds that count as a meeting (default: meeting)",
    },
)
def _exec_meeting(ctx: Context) -> Result:
    """Days from the last two-way meeting with an executive at the account to the as-of day
    (any time before it counts, not only the window); none when there never was one."""
    raw = ctx.params.get("roles")
    words = [str(w).strip().lower() for w in (raw if isinstance(raw, list) else [])] or list(
        EXEC_ROLES
    )
    if isinstance(raw, str):
        words = [w.strip().lower() for w in raw.split(",") if w.strip()]
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")
    execs = {p for p, role in people_of(ctx) if role and pattern.search(role.lower())}
    if not execs:
        return Result(None, 0, [f"no executives recorded at {ctx.record.name}"], [])
    kinds = _kinds_param(ctx) or {"meeting"}
    forever = Context(ctx.viewer, ctx.record, ctx.as_of, 36500, ctx.params)
    team = set(visible_team(ctx))
    meetings = _two_way(forever, kinds, execs)[-1:]
    names = _names(execs, ctx.viewer)
    if not meetings or not team:
        return Result(
            None,
            len(execs),
            [f"no meeting with an executive at {ctx.record.name} (" + _who(names) + ")"],
            [],
        )
    iid, _, at = meetings[-1]
    days = (ctx.as_of - at.astimezone(dt.UTC).date()).days
    return Result(
        float(days),
        len(execs),
        [f"last executive meeting {at.date().isoformat()}, {_plural(days, 'day')} ago"],
        [iid],
    )


def _who(names: dict[str, str]) -> str:
    shown = sorted(names.values())
    return ", ".join(shown[:3]) + (" ..." if len(shown) > 3 else "")


# -- relationships and fields -----------------------------------------------------------


@metric(
    "relationships.count",
    "Relationships of a type",
    unit="relationships",
    scopes=("*",),
    params={
        "type": "relationship type key (default works_at)",
        "role": "words the role must contain (e.g. champion)",
    },
)
def _relationships(ctx: Context) -> Result:
    """Relationships of a type (and role) in force on the as-of day touching the record,
    whose other end the viewer may see: "a champion named" is type works_at, role champion."""
    rtype = str(ctx.params.get("type") or "works_at").strip()
    role = str(ctx.params.get("role") or "").strip()
    rec = ctx.record
    qs = Relationship.objects.filter(active_on(ctx.as_of), type_id=rtype).filter(
        Q(from_record=rec) | Q(to_record=rec)
    )
    if role:
        qs = qs.filter(role__icontains=role)
    rows = list(
        qs.filter(from_record__deleted_at=None, to_record__deleted_at=None)
        .filter(visible_q(ctx.viewer, "from_record__"), visible_q(ctx.viewer, "to_record__"))
        .values_list("id", "from_record_id", "to_record_id", "role")
        .order_by("id")
    )
    others = {b if a == rec.id else a for _, a, b, _ in rows}
    names = _names(others, ctx.viewer)
    what = f"{rtype}" + (f" with role {role!r}" if role else "")
    reasons = [f"{_plural(len(rows), 'relationship')} of type {what} on {ctx.as_of.isoformat()}"]
    if rows:
        reasons.append(_who(names))
    return Result(float(len(rows)), len(rows), reasons, [r[0] for r in rows][:EVIDENCE_CAP])


def field_as_of(record: Record, name: str, day: dt.date) -> Any:
    """A custom field's value at the end of ``day``, from the record's history."""
    end = _midnight(day + dt.timedelta(days=1))
    if record.created_at >= end:
        return None
    key = f"fields.{name}"
    change = (
        Change.objects.filter(entity_id=record.id, field=key, at__lt=end)
        .order_by("-at", "-id")
        .first()
    )
    if change is not None:
        return change.new
    created = (
        Change.objects.filter(entity_id=record.id, action="create", at__lt=end)
        .order_by("at", "id")
        .first()
    )
    if created is not None and isinstance(created.new, dict):
        return created.new.get(key)
    return record.fields.get(name)


@metric(
    "field.number",
    "A number field",
    unit="value",
    scopes=("*",),
    params={"field": "the number field's name (required)"},
)
def _number(ctx: Context) -> Result:
    """A number field of the record as it stood on the as-of day (from its history)."""
    name = str(ctx.params.get("field") or "").strip()
    defs = {f.name: f.kind for f in ctx.record.type.fields.all()}
    if not name:
        raise ValidationError("filter.field: the number field to read is required", field="filter")
    if defs.get(name) != "number":
        numbers = ", ".join(sorted(k for k, v in defs.items() if v == "number")) or "none"
        raise ValidationError(
            f"filter.field: {ctx.record.type_id} has no number field {name!r} (numbers: {numbers})",
            field="filter",
        )
    value = field_as_of(ctx.record, name, ctx.as_of)
    if value is None or value == "":
        return Result(None, 0, [f"{name} is not set on {ctx.as_of.isoformat()}"], [])
    said = f"{name} = {value} on {ctx.as_of.isoformat()}"
    return Result(float(value), 1, [said], [ctx.record.id])


@metric(
    "records.matching",
    "Records of a type matching a condition",
    unit="records",
    scopes=("*",),
    params={
        "type": "record type to count (default person)",
        "condition": "a condition (kith.records.conditions JSON) they must match",
    },
    as_of_exact=False,
)
def _matching(ctx: Context) -> Result:
    """Records of a type related to the scope on the as-of day (any relationship in force)
    that match a condition. The condition reads the records' fields as they are now."""
    type_key = get_type(str(ctx.params.get("type") or "person"), field="filter.type").key
    raw = ctx.params.get("condition")
    cond = conditions.parse(raw if raw is not None else {"all": []}, path="filter.condition")
    if cond.uses_changes:
        raise ValidationError("filter.condition: 'changed' has no meaning here", field="filter")
    rec = ctx.record
    related = Relationship.objects.filter(active_on(ctx.as_of)).filter(
        Q(from_record=rec) | Q(to_record=rec)
    )
    ends = related.values_list("from_record_id", "to_record_id")
    ids = {b if a == rec.id else a for a, b in ends}
    ids.discard(rec.id)
    end = _midnight(ctx.as_of + dt.timedelta(days=1))
    qs = Record.objects.filter(
        visible_q(ctx.viewer),
        pk__in=ids,
        type_id=type_key,
        deleted_at=None,
        created_at__lt=end,
    )
    found = sorted(cond.filter(qs, today=ctx.as_of).values_list("id", flat=True))
    seen = qs.count()
    reasons = [
        f"{_plural(len(found), type_key + ' record')} related to {rec.name} match the condition "
        f"(of {seen})"
    ]
    return Result(float(len(found)), seen, reasons, found[:EVIDENCE_CAP])


# metrics in their own modules register on import (the plans app's register in its ready())
from kith.metrics import outcomes as _outcomes  # noqa: E402, F401
