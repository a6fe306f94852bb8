"""What changed about a record in a window: typed items, each with the ids of its evidence.

A window is half-open, ``[start, end)``: an item exactly at ``start`` is in it, one exactly
at ``end`` is in the next window. So two windows that meet never repeat nor lose an item.

Each kind of change comes from one *source*, a function of the window registered with
``@source(name)``. Deals (``deals``) read the pipelines' stage history; surveys and tickets
are added the same way once they exist: a function reading that app's data through the
viewer, returning ``Item``s (no other change here).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from kith.core.models import Change
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.engine import Snapshot, compute
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.pipelines.models import StageChange
from kith.plans.selectors import plan_view, plans_of
from kith.records.models import Record
from kith.records.selectors import hidden_ids, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids
from kith.tasks.models import Status, TaskLink
from kith.tasks.selectors import visible_tasks

MOVE_POINTS = 10.0  # a health or strength move worth telling
EVIDENCE_CAP = 50
# record fields never worth telling (bookkeeping); KITH_BRIEF_FIELDS narrows to a list
QUIET_FIELDS = {"name_key", "version", "updated_at", "created_at"}


@dataclass
class Item:
    """One change: its kind, when, a sentence, what it is about, and its evidence ids."""

    kind: str
    at: str  # ISO date or datetime (UTC)
    text: str
    about: dict[str, str]
    evidence: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "text": self.text,
            "about": self.about,
            "evidence": self.evidence[:EVIDENCE_CAP],
            "data": self.data,
        }


@dataclass
class Window:
    """What a source reads: the viewer, the scope record and its people, the window."""

    viewer: Viewer
    record: Record
    start: dt.datetime
    end: dt.datetime
    people: dict[str, Record]  # the scope's people (an organisation's, in the window)
    team: dict[str, str]  # our people (visible to the viewer): id -> name
    names: dict[str, str] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    people_sq: Any = None  # the people's ids as a subquery (cheaper than a long IN list)

    def ids_q(self, name: str) -> Q:
        """``name`` is the scope record or one of its people (a subquery, not a list)."""
        return Q(**{name: self.record.id}) | Q(**{f"{name}__in": self.people_sq})

    @property
    def since_day(self) -> dt.date:
        return self.start.date()

    @property
    def as_of(self) -> dt.date:
        return (self.end - dt.timedelta(microseconds=1)).date()

    @property
    def before_day(self) -> dt.date:
        """The last day before the window: the "then" of a move."""
        return self.since_day - dt.timedelta(days=1)

    def ids(self) -> set[str]:
        return {self.record.id, *self.people}

    def ref(self, rid: str) -> dict[str, str]:
        rec = self.people.get(rid)
        if rec is not None:
            return {"id": rec.id, "name": rec.name}
        if rid == self.record.id:
            return {"id": rid, "name": self.record.name}
        return {"id": rid, "name": self.names.get(rid) or self.team.get(rid, rid)}


Source = Callable[[Window], list[Item]]
SOURCES: dict[str, Source] = {}


def source(name: str) -> Callable[[Source], Source]:
    """Register a source of change items (deals, surveys, tickets add theirs here)."""

    def wrap(fn: Source) -> Source:
        SOURCES[name] = fn
        return fn

    return wrap


def told_fields() -> set[str] | None:
    """Fields worth telling: ``KITH_BRIEF_FIELDS`` (comma-separated), or every field."""
    raw = os.environ.get("KITH_BRIEF_FIELDS", "").strip()
    return {f.strip() for f in raw.split(",") if f.strip()} or None if raw else None


def _day(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- the sources --------------------------------------------------------------------------


@source("fields")
def field_changes(w: Window) -> list[Item]:
    """Field changes of the scope record and its people (the fields worth telling)."""
    wanted = told_fields()
    rows = Change.objects.filter(
        w.ids_q("entity_id"),
        entity_kind="record",
        at__gte=w.start,
        at__lt=w.end,
    ).exclude(field="")
    out = []
    for c in rows.order_by("at", "id"):
        name = c.field.removeprefix("fields.")
        if name in QUIET_FIELDS or (wanted is not None and name not in wanted):
            continue
        who = w.ref(c.entity_id)
        old = "empty" if c.old in (None, "") else repr(c.old)
        out.append(
            Item(
                "field_changed",
                _iso(c.at),
                f"{who['name']}: {name} changed from {old} to {c.new!r}",
                who,
                [c.entity_id],
                {"field": name, "old": c.old, "new": c.new, "change": c.id},
            )
        )
    return out


def _rel_rows(w: Window) -> list[Relationship]:
    touching = w.ids_q("from_record_id") | w.ids_q("to_record_id")
    since, as_of = w.since_day, w.as_of
    moved = Q(since__gte=since, since__lte=as_of) | Q(until__gte=since, until__lte=as_of)
    return list(
        Relationship.objects.filter(touching & moved)
        .filter(visible_q(w.viewer, "from_record__"), visible_q(w.viewer, "to_record__"))
        .filter(from_record__deleted_at=None, to_record__deleted_at=None)
        .select_related("from_record", "to_record", "type")
        .order_by("id")
    )


@source("relationships")
def relationship_changes(w: Window) -> list[Item]:
    """Relationships started and ended in the window ("Jane Doe left Acme on 2026-11-02")."""
    out = []
    since, as_of = w.since_day, w.as_of
    for r in _rel_rows(w):
        a, b = r.from_record, r.to_record
        role = f", {r.role}" if r.role else ""
        about = w.ref(b.id if b.id == w.record.id else a.id)
        ev = [r.id, a.id, b.id]
        if r.since is not None and since <= r.since <= as_of:
            if r.type.rollup and b.id == w.record.id:
                text = f"new: {a.name}{role}, at {b.name} since {r.since.isoformat()}"
            else:
                text = f"{a.name} {r.type_id.replace('_', ' ')} {b.name}{role} since {r.since}"
            data = {"relationship": r.id, "type": r.type_id, "role": r.role}
            out.append(Item("relationship_started", r.since.isoformat(), text, about, ev, data))
        if r.until is not None and since <= r.until <= as_of:
            if r.type.rollup:
                text = (
                    f"{a.name} left {b.name} on {r.until.isoformat()}{role and ' (' + r.role + ')'}"
                )
            else:
                text = f"{a.name} no longer {r.type_id.replace('_', ' ')} {b.name} ({r.until})"
            data = {"relationship": r.id, "type": r.type_id, "role": r.role}
            out.append(Item("relationship_ended", r.until.isoformat(), text, about, ev, data))
    return out


def window_interactions(w: Window) -> list[tuple[str, str, dt.datetime, str, str]]:
    """(id, kind, at, direction, thread) of the interactions with the scope in the window."""
    got = w.memo.get("interactions")
    if got is not None:
        return list(got)
    by_people = Participant.objects.filter(
        w.ids_q("record_id"), at__gte=w.start, at__lt=w.end
    ).values("interaction_id")
    by_link = InteractionLink.objects.filter(
        record_id=w.record.id, at__gte=w.start, at__lt=w.end
    ).values("interaction_id")
    rows = list(
        Interaction.objects.filter(deleted_at__isnull=True)
        .filter(Q(pk__in=by_people) | Q(pk__in=by_link))
        .order_by("at", "id")
        .values_list("id", "kind", "at", "direction", "thread_id")
    )
    w.memo["interactions"] = rows
    return list(rows)


@source("interactions")
def interaction_summary(w: Window) -> list[Item]:
    """Interactions in the window by kind, and by our people (alphabetically: no ranking)."""
    rows = window_interactions(w)
    if not rows:
        return []
    by_kind = Counter(k for _, k, _, _, _ in rows)
    ids = [r[0] for r in rows]
    about = w.ref(w.record.id)
    kinds = ", ".join(_plural(n, k) for k, n in sorted(by_kind.items()))
    out = [
        Item(
            "interactions",
            w.since_day.isoformat(),
            f"{_plural(len(rows), 'interaction')}: {kinds}",
            about,
            ids[::-1],
            {"by_kind": dict(sorted(by_kind.items())), "total": len(rows)},
        )
    ]
    ours: dict[str, list[str]] = defaultdict(list)
    for iid, member in (
        Participant.objects.filter(interaction_id__in=ids, record_id__in=sorted(w.team))
        .order_by("interaction_id", "record_id")
        .values_list("interaction_id", "record_id")
        .distinct()
    ):
        ours[member].append(iid)
    if ours:
        people = sorted(ours, key=lambda m: (w.team[m].lower(), m))
        said = ", ".join(f"{w.team[m]} {len(ours[m])}" for m in people)
        out.append(
            Item(
                "interactions_by_member",
                w.since_day.isoformat(),
                f"our people in these interactions: {said}",
                about,
                sorted({i for m in people for i in ours[m]}),
                {"members": [{"id": m, "name": w.team[m], "n": len(ours[m])} for m in people]},
            )
        )
    return out


def unanswered(
    w: Window, rows: list[tuple[str, str, dt.datetime, str, str]], until: dt.datetime
) -> list[tuple[str, dt.datetime, str, str]]:
    """(interaction, at, person id, subject) of inbound emails from the scope's people in
    ``rows`` with no outbound reply (same thread, or to the same person) before ``until``."""
    inbound = [r for r in rows if r[1] == "email" and r[3] == "in"]
    if not inbound:
        return []
    first = min(r[2] for r in inbound)
    senders: dict[str, str] = {}
    for iid, rid in Participant.objects.filter(
        interaction_id__in=[r[0] for r in inbound], record_id__in=w.people_sq
    ).values_list("interaction_id", "record_id"):
        senders.setdefault(iid, rid)
    replies = list(
        Interaction.objects.filter(
            deleted_at__isnull=True, direction="out", at__gt=first, at__lt=until
        )
        .filter(
            Q(thread_id__in=sorted({r[4] for r in inbound if r[4]}))
            | Q(participants__record_id__in=sorted(set(senders.values())))
        )
        .values_list("at", "thread_id", "participants__record_id")
    )
    subjects = dict(
        Interaction.objects.filter(pk__in=[r[0] for r in inbound]).values_list("id", "subject")
    )
    out = []
    for iid, _, at, _, thread in inbound:
        who = senders.get(iid)
        if who is None:
            continue
        answered = any(
            r_at > at and ((thread and r_thread == thread) or r_person == who)
            for r_at, r_thread, r_person in replies
        )
        if not answered:
            out.append((iid, at, who, subjects.get(iid, "")))
    return out


@source("unanswered")
def unanswered_inbound(w: Window) -> list[Item]:
    """Inbound emails in the window still unanswered at its end."""
    out = []
    for iid, at, who, subject in unanswered(w, window_interactions(w), w.end):
        person = w.ref(who)
        said = f" ({subject!r})" if subject else ""
        out.append(
            Item(
                "unanswered_inbound",
                _iso(at),
                f"unanswered: email from {person['name']} on {at.date().isoformat()}{said}",
                person,
                [iid, who],
                {"interaction": iid},
            )
        )
    return out


def snapshots(w: Window) -> tuple[Snapshot, Snapshot]:
    """Health of the scope at the end of the window and the day before it began."""
    got: tuple[Snapshot, Snapshot] | None = w.memo.get("snapshots")
    if got is None:
        cfg = model_config()
        kind = "org" if w.record.type_id == "organization" else "person"
        got = (
            compute(cfg, w.before_day, (kind, w.record.id), viewer=w.viewer),
            compute(cfg, w.as_of, (kind, w.record.id), viewer=w.viewer),
        )
        w.memo["snapshots"] = got
    return got


@source("health")
def health_moves(w: Window) -> list[Item]:
    """Health moves of 10+ points (the scope and its people), strength moves of its ties."""
    if w.record.type_id not in ("organization", "person") or w.record.id in w.team:
        return []
    then, now = snapshots(w)
    out = []
    day = w.as_of.isoformat()
    if w.record.type_id == "organization" and w.record.id in now.orgs:
        a, b = then.orgs.get(w.record.id), now.orgs[w.record.id]
        before = a.score if a else 0.0
        if abs(b.score - before) >= MOVE_POINTS:
            out.append(_move(w, w.record.id, before, b.score, b.reasons, day, sorted(w.people)))
    present = sorted(w.people)
    if w.record.type_id == "organization":  # a leaver is told as one, not as a fall to 0
        staying = {p for p, _, _ in agg.employment(w.as_of, w.record.id, viewer=w.viewer)}
        present = [p for p in present if p in staying]
    for pid in present:
        before, after = then.person_score.get(pid, 0.0), now.person_score.get(pid, 0.0)
        if abs(after - before) >= MOVE_POINTS:
            score = now.person(pid, explain_tie=True)
            ev = [pid, *[m for _, m in now.ties.get(pid, [])]]
            out.append(_move(w, pid, before, after, score.reasons, day, ev))
        old = {m: s for s, m in then.ties.get(pid, [])}
        new = {m: s for s, m in now.ties.get(pid, [])}
        for member in sorted(set(old) | set(new)):
            s0, s1 = old.get(member, 0.0), new.get(member, 0.0)
            if abs(s1 - s0) >= MOVE_POINTS and member in w.team:
                verb = "strengthened" if s1 > s0 else "weakened"
                out.append(
                    Item(
                        "strength_move",
                        day,
                        f"{w.team[member]}'s tie with {w.ref(pid)['name']} {verb}: "
                        f"{s0:.0f} -> {s1:.0f} since {w.before_day.isoformat()}",
                        w.ref(pid),
                        [pid, member],
                        {"member": member, "before": round(s0, 1), "after": round(s1, 1)},
                    )
                )
    return out


def _move(
    w: Window, rid: str, before: float, after: float, why: list[str], day: str, ev: list[str]
) -> Item:
    verb = "rose" if after > before else "fell"
    about = w.ref(rid)
    return Item(
        "health_move",
        day,
        f"health of {about['name']} {verb} {abs(after - before):.0f} points: "
        f"{before:.0f} -> {after:.0f} since {w.before_day.isoformat()}",
        about,
        [rid, *[e for e in ev if e != rid]],
        {"before": round(before, 1), "after": round(after, 1), "reasons": why},
    )


def _tasks(w: Window) -> Any:
    about = TaskLink.objects.filter(w.ids_q("record_id")).values("task_id")
    return visible_tasks(w.viewer).filter(pk__in=about)


@source("tasks")
def task_changes(w: Window) -> list[Item]:
    """Tasks done in the window, and tasks that fell due in it and were not done by the end
    of their due day (overdue, as the end of the window saw it)."""
    out = []
    done = _tasks(w).filter(status=Status.DONE, completed_at__gte=w.start, completed_at__lt=w.end)
    for t in done.order_by("completed_at", "id"):
        out.append(
            Item(
                "task_done",
                _iso(t.completed_at),
                f"done: {t.title}" + (f" (by {t.completed_by})" if t.completed_by else ""),
                w.ref(w.record.id),
                [t.id, *([t.evidence] if t.evidence else [])],
                {"task": t.id},
            )
        )
    due = (
        _tasks(w)
        .exclude(status=Status.CANCELLED)
        .filter(due__gte=w.since_day, due__lt=w.as_of)
        .order_by("due", "id")
    )
    for t in due:
        assert t.due is not None
        if t.completed_at is not None and t.completed_at < _day(t.due + dt.timedelta(days=1)):
            continue
        if t.completed_at is not None and t.completed_at < w.end and t.status == Status.DONE:
            continue  # done late, but done within the window: told as done
        out.append(
            Item(
                "task_overdue",
                t.due.isoformat(),
                f"overdue: {t.title} (due {t.due.isoformat()})",
                w.ref(w.record.id),
                [t.id],
                {"task": t.id, "due": t.due.isoformat()},
            )
        )
    return out


@source("plans")
def measure_moves(w: Window) -> list[Item]:
    """Plan measures (and goals) whose status changed between the window's two ends."""
    out = []
    for plan_id in sorted(plans_of(w.viewer, w.record)):
        then = plan_view(w.viewer, plan_id, as_of=w.before_day)
        now = plan_view(w.viewer, plan_id, as_of=w.as_of)
        old = {m["id"]: m for g in then["goals"] for m in g["measures"]}
        for g in now["goals"]:
            for m in g["measures"]:
                was = old.get(m["id"], {}).get("status")
                if was is None or was == m["status"]:
                    continue
                out.append(
                    Item(
                        "measure_status",
                        w.as_of.isoformat(),
                        f"{g['text']}: {m['label'] or m['metric']} went from {was} to "
                        f"{m['status']} ({m['sentence']})",
                        {"id": plan_id, "name": now["name"]},
                        [m["id"], g["id"], plan_id],
                        {"measure": m["id"], "before": was, "after": m["status"]},
                    )
                )
    return out


def deal_ids(w: Window) -> Any:
    """The deals of the scope as a subquery: an account's (``deal_for``), or those a person is
    on (``on_deal``) -- only the ones ``w.viewer`` may see, not deleted."""
    accounts = Relationship.objects.filter(type_id="deal_for", to_record_id=w.record.id)
    people = Relationship.objects.filter(type_id="on_deal", from_record_id=w.record.id)
    return (
        Record.objects.filter(
            Q(pk__in=accounts.values("from_record_id")) | Q(pk__in=people.values("to_record_id"))
        )
        .filter(visible_q(w.viewer), deleted_at=None)
        .values("id")
    )


def money(amount: Any, currency: Any) -> str:
    """``12,000 EUR`` (or ``no amount``)."""
    if not isinstance(amount, int | float):
        return "no amount"
    shown = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    return f"{shown} {currency}" if currency else shown


@source("deals")
def deal_changes(w: Window) -> list[Item]:
    """Deals opened, moved, won and lost in the window (the scope's deals ``w.viewer`` may
    see): each with the deal's amount, the move (from, to, who) and a lost reason."""
    rows = (
        StageChange.objects.filter(record_id__in=deal_ids(w), at__gte=w.start, at__lt=w.end)
        .select_related("record", "from_stage", "to_stage")
        .order_by("at", "id")
    )
    out = []
    for c in rows:
        deal = c.record
        amount = money(deal.fields.get("amount"), deal.fields.get("currency"))
        to, was = c.to_stage, c.from_stage
        why = f": {c.reason}" if c.reason else ""
        if was is None:
            kind, text = "deal_opened", f"new deal: {deal.name} ({amount}) at {to.label}"
        elif to.category == "won":
            kind, text = "deal_won", f"won: {deal.name} ({amount}){why}"
        elif to.category == "lost":
            kind, text = "deal_lost", f"lost: {deal.name} ({amount}){why}"
        else:
            back = " (back)" if to.position < was.position else ""
            kind = "deal_moved"
            text = f"deal {deal.name} moved from {was.label} to {to.label}{back}{why}"
        out.append(
            Item(
                kind,
                _iso(c.at),
                text,
                {"id": deal.id, "name": deal.name},
                [deal.id],
                {
                    "deal": deal.id,
                    "move": c.pk,
                    "pipeline": c.pipeline_id,
                    "from": was.key if was else None,
                    "to": to.key,
                    "by": c.by,
                    "reason": c.reason,
                    "amount": deal.fields.get("amount"),
                    "currency": deal.fields.get("currency"),
                },
            )
        )
    return out


def open_deals(w: Window) -> list[dict[str, Any]]:
    """The scope's deals at an open stage at the end of the window (from the stage history,
    so a brief as of a past day sees them as they stood), oldest first."""
    rows = (
        StageChange.objects.filter(record_id__in=deal_ids(w), at__lt=w.end)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=w.end))
        .filter(to_stage__category="open")
        .select_related("record", "to_stage")
        .order_by("at", "id")
    )
    out = []
    for c in rows:
        f = c.record.fields
        out.append(
            {
                "id": c.record_id,
                "name": c.record.name,
                "stage": c.to_stage.label,
                "amount": money(f.get("amount"), f.get("currency")),
                "close": str(f.get("close") or "") or None,
            }
        )
    return out


# -- the window ---------------------------------------------------------------------------


def scope_people(
    viewer: Viewer, record: Record, since: dt.date, as_of: dt.date, team: list[str]
) -> QuerySet[Record]:
    """The people of a scope in the window: an organisation's (anyone whose rollup tie to it
    was in force on a day of the window), or the person; only those ``viewer`` may see, and
    none of our team."""
    if record.type_id == "person":
        return Record.objects.filter(pk=record.id).exclude(pk__in=team)
    ids = (
        Relationship.objects.filter(to_record=record, type__rollup=True)
        .filter(Q(since__isnull=True) | Q(since__lte=as_of))
        .filter(Q(until__isnull=True) | Q(until__gte=since))
        .values("from_record_id")
    )
    return (
        Record.objects.filter(pk__in=ids, type_id="person", deleted_at=None)
        .filter(visible_q(viewer))
        .exclude(pk__in=team)
    )


def visible_team(viewer: Viewer, as_of: dt.date) -> dict[str, str]:
    """Our people on a day that ``viewer`` may see: id -> name."""
    team = team_ids(as_of)
    unseen = hidden_ids(viewer, team)
    return dict(
        Record.objects.filter(pk__in=[m for m in team if m not in unseen]).values_list("id", "name")
    )


def open_window(viewer: Viewer, record: Record, start: dt.datetime, end: dt.datetime) -> Window:
    """The window for a scope record ``viewer`` may see (already resolved)."""
    as_of = (end - dt.timedelta(microseconds=1)).date()
    team_names = visible_team(viewer, as_of)
    qs = scope_people(viewer, record, start.date(), as_of, sorted(team_names))
    people = {p.id: p for p in qs.order_by("name_key", "id")}
    w = Window(viewer, record, start, end, people, team_names)
    w.people_sq = qs.values("id")
    return w


def collect(w: Window, kinds: set[str] | None = None) -> list[dict[str, Any]]:
    """Every source's items for the window, in a fixed order (time, kind, text)."""
    items: list[Item] = []
    for name, fn in SOURCES.items():
        if kinds is None or name in kinds:
            items.extend(fn(w))
    items.sort(key=lambda i: (i.at, i.kind, i.text))
    return [i.view() for i in items]
