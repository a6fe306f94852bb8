"""The voice series: per period NPS, CSAT, CES, mean sentiment, response rate; coverage and
the silent key people; a trend and a projection, said in a sentence. Reads only.

A scope is a record (an organisation: answers linked to it or given by anyone who worked
there in the span; a person: their own answers), a saved view (the union of its records'
scopes) or the whole book. Every count is taken in the database, in one pass over the
span, with the viewer's visibility in the query: an answer by, or about, a record the
viewer may not see is not counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Power

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.intelligence.aggregates import key_role
from kith.intelligence.conf import model_config
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.lists.selectors import member_ids
from kith.metrics.selectors import find_view
from kith.plans.models import Stakeholder
from kith.records.models import Record
from kith.records.selectors import hidden_records, hides_any, resolve, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids
from kith.surveys import conf, stats
from kith.surveys.models import Invite, InviteStatus

METRICS = ("nps", "csat", "ces", "sentiment")
EVERY = {"month": 1, "quarter": 3}
DEFAULT_PERIODS = {"month": 6, "quarter": 4}
BOUNDS = {"nps": (-100.0, 100.0), "csat": (0.0, 100.0), "ces": (1.0, 7.0), "sentiment": (-1.0, 1.0)}
UNITS = {"nps": "", "csat": "%", "ces": "", "sentiment": ""}
SILENT_SHOWN = 25


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date  # inclusive (the as-of day for the last one)

    def q(self, prefix: str = "at") -> Q:
        lo = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        return Q(**{f"{prefix}__gte": lo, f"{prefix}__lt": hi})


def periods(as_of: dt.date, every: str, count: int) -> list[Period]:
    """The ``count`` calendar months or quarters ending with the one holding ``as_of``."""
    step = EVERY[every]
    month = (as_of.month - 1) // step * step + 1
    y, m = as_of.year, month
    out = []
    for k in range(count):
        start = dt.date(y, m, 1)
        ny, nm = (y + 1, 1) if m + step > 12 else (y, m + step)
        end = as_of if k == 0 else dt.date(ny, nm, 1) - dt.timedelta(days=1)
        label = f"{y}-{m:02d}" if step == 1 else f"{y}Q{(m - 1) // 3 + 1}"
        out.append(Period(label, start, end))
        m -= step
        if m < 1:
            y, m = y - 1, m + 12
    return out[::-1]


def kind_q(kind: str) -> Q:
    """Survey answers of a series: their survey's kind; with none named, a 1-5 score is
    CSAT and another 0-10 score NPS."""
    named = Q(meta__survey_kind=kind)
    bare = Q(meta__survey_kind__isnull=True)
    if kind == "csat":
        return named | (bare & Q(score__gte=1, score__lte=5))
    if kind == "nps":
        return named | (bare & Q(score__gte=0, score__lte=10) & ~Q(score__gte=1, score__lte=5))
    return named


@dataclass
class Scope:
    kind: str  # record, view or book
    label: str
    record: Record | None = None
    people: list[str] | None = None  # whose answers count (None: anyone's)
    orgs: list[str] | None = None  # answers linked to these count too

    def q(self) -> Q:
        if self.people is None and self.orgs is None:
            return Q()
        q = Q(pk__in=[])
        if self.people:
            q |= Q(
                pk__in=Participant.objects.filter(record_id__in=self.people)
                .exclude(role="mentioned")
                .values("interaction_id")
            )
        if self.orgs:
            q |= Q(pk__in=InteractionLink.objects.filter(record_id__in=self.orgs).values(
                "interaction_id"))  # fmt: skip
        return q

    def invites(self) -> Q:
        if self.people is None and self.orgs is None:
            return Q()
        return Q(person_id__in=self.people or []) | Q(account_id__in=self.orgs or [])


def _staff_ever(orgs: list[str], start: dt.date, end: dt.date) -> list[str]:
    team = set(team_ids(end))
    rows = Relationship.objects.filter(
        Q(since__isnull=True) | Q(since__lte=end),
        Q(until__isnull=True) | Q(until__gt=start),
        to_record_id__in=orgs,
        type__rollup=True,
    ).values_list("from_record_id", flat=True)
    return sorted(set(rows) - team)


def build_scope(
    viewer: Viewer, ref: str | None, view: str | None, start: dt.date, end: dt.date
) -> Scope:
    if ref and view:
        raise ValidationError("view: give a record or a saved view, not both", field="view")
    if ref:
        rec = resolve(viewer, ref)
        if rec.type_id == "person":
            return Scope("record", rec.name, rec, [rec.id], [])
        return Scope("record", rec.name, rec, _staff_ever([rec.id], start, end), [rec.id])
    if view:
        v = find_view(viewer, view)
        ids = member_ids(viewer, v)
        recs = list(Record.objects.filter(visible_q(viewer), pk__in=ids, deleted_at=None)
                    .values_list("id", "type_id"))  # fmt: skip
        people = [r for r, t in recs if t == "person"]
        orgs = [r for r, t in recs if t != "person"]
        return Scope("view", v.name, None, people + _staff_ever(orgs, start, end), orgs)
    return Scope("book", "the whole book")


def _visible(viewer: Viewer, qs: QuerySet[Interaction]) -> QuerySet[Interaction]:
    if not hides_any(viewer):
        return qs
    hidden = hidden_records(viewer)
    return qs.exclude(
        pk__in=Participant.objects.filter(record__in=hidden).values("interaction_id")
    ).exclude(pk__in=InteractionLink.objects.filter(record__in=hidden).values("interaction_id"))


def _series(viewer: Viewer, scope: Scope, metric: str, spans: list[Period]) -> list[dict[str, Any]]:
    """Each period's estimate of ``metric`` (one query for all periods)."""
    whole = Q(at__gte=dt.datetime.combine(spans[0].start, dt.time(), tzinfo=dt.UTC)) & Q(
        at__lt=dt.datetime.combine(spans[-1].end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    )
    qs = Interaction.objects.filter(whole, scope.q(), deleted_at=None)
    if metric == "sentiment":
        qs = qs.filter(sentiment__isnull=False)
        col = "sentiment"
    else:
        qs = qs.filter(kind_q(metric), kind="survey", score__isnull=False)
        col = "score"
    qs = _visible(viewer, qs)
    agg: dict[str, Any] = {}
    for k, p in enumerate(spans):
        inside = p.q()
        agg[f"n{k}"] = Count("id", filter=inside)
        if metric == "nps":
            agg[f"a{k}"] = Count("id", filter=inside & Q(score__gte=9))
            agg[f"b{k}"] = Count("id", filter=inside & Q(score__lt=7))
        elif metric == "csat":
            agg[f"a{k}"] = Count("id", filter=inside & Q(score__gte=4))
        else:
            agg[f"a{k}"] = Sum(col, filter=inside)
            agg[f"b{k}"] = Sum(Power(col, 2), filter=inside)
    row = qs.aggregate(**agg)
    out = []
    for k, p in enumerate(spans):
        n = int(row[f"n{k}"] or 0)
        groups: dict[str, int] | None = None
        if metric == "nps":
            prom, det = int(row[f"a{k}"] or 0), int(row[f"b{k}"] or 0)
            est = stats.nps(prom, det, n)
            groups = {"promoters": prom, "passives": n - prom - det, "detractors": det}
        elif metric == "csat":
            sat = int(row[f"a{k}"] or 0)
            est = stats.share(sat, n)
            groups = {"satisfied": sat, "not_satisfied": n - sat}
        else:
            est = stats.mean(float(row[f"a{k}"] or 0.0), float(row[f"b{k}"] or 0.0), n)
        item: dict[str, Any] = {
            "period": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(),
            **est.view(),
        }  # fmt: skip
        if groups is not None:
            item["groups"] = groups
        out.append(item)
    return out


def _response_rates(viewer: Viewer, scope: Scope, spans: list[Period]) -> list[dict[str, Any]]:
    qs = Invite.objects.filter(scope.invites(), sent_at__isnull=False).filter(
        visible_q(viewer, "person__")
    )
    agg: dict[str, Any] = {}
    for k, p in enumerate(spans):
        agg[f"s{k}"] = Count("id", filter=p.q("sent_at"))
        agg[f"r{k}"] = Count("id", filter=p.q("sent_at") & Q(status=InviteStatus.RESPONDED))
    row = qs.aggregate(**agg)
    out = []
    for k, p in enumerate(spans):
        sent, answered = int(row[f"s{k}"] or 0), int(row[f"r{k}"] or 0)
        est = stats.share(answered, sent)
        out.append({"period": p.label, "sent": sent, "answered": answered, "rate": est.view()})
    return out


def key_people(viewer: Viewer, scope: Scope, day: dt.date) -> dict[str, tuple[str, str]]:
    """person -> (name, why key): key roles at the scope's organisations on ``day`` and the
    stakeholders of their plans (a person scope: none)."""
    if scope.kind == "record" and scope.record is not None and scope.record.type_id == "person":
        return {}
    cfg = model_config()
    team = set(team_ids(day))
    rels = Relationship.objects.filter(
        Q(since__isnull=True) | Q(since__lte=day),
        Q(until__isnull=True) | Q(until__gt=day),
        type__rollup=True,
        from_record__deleted_at=None,
    ).filter(visible_q(viewer, "from_record__"), visible_q(viewer, "to_record__"))
    if scope.orgs is not None:
        rels = rels.filter(to_record_id__in=scope.orgs)
    maybe = Q(pk__in=[])
    for k in cfg["key_roles"]:  # narrowed in SQL (LIKE), then matched on word bounds below
        maybe |= Q(role__icontains=str(k))
    out: dict[str, tuple[str, str]] = {}
    for pid, name, role in rels.filter(maybe).values_list(
        "from_record_id", "from_record__name", "role"
    ):
        found = key_role(cfg, role)
        if found and pid not in team:
            out.setdefault(pid, (name, role))
    plans = Relationship.objects.filter(type_id="plan_for", from_record__deleted_at=None)
    if scope.orgs is not None:
        plans = plans.filter(to_record_id__in=scope.orgs)
    held = Stakeholder.objects.filter(
        plan_id__in=plans.values("from_record_id"), person__deleted_at=None
    ).filter(visible_q(viewer, "person__"))
    for pid, name, role in held.values_list("person_id", "person__name", "role"):
        out.setdefault(pid, (name, f"plan stakeholder ({role})"))
    return out


def _answered(viewer: Viewer, people: list[str] | None, day: dt.date) -> set[str]:
    """Who gave a survey answer in the 12 months to ``day``."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    start = end - dt.timedelta(days=365)
    if people is not None:
        rows = Participant.objects.filter(
            record_id__in=people, role="from", at__gte=start, at__lt=end,
            interaction__kind="survey", interaction__deleted_at=None,
        )  # fmt: skip
    else:  # the year's survey interactions by their time index, then their respondents
        year = Interaction.objects.filter(kind="survey", deleted_at=None, at__gte=start, at__lt=end)
        rows = Participant.objects.filter(interaction_id__in=year.values("id"), role="from")
    return set(rows.values_list("record_id", flat=True))


def coverage(viewer: Viewer, scope: Scope, day: dt.date) -> dict[str, Any] | None:
    keys = key_people(viewer, scope, day)
    if scope.kind == "record" and scope.record is not None and scope.record.type_id == "person":
        return None
    # a few people: their own answers by index; many: every answer of the year, then the
    # intersection (a long IN list joined to interactions makes SQLite's plan slow)
    answered = _answered(viewer, sorted(keys) if len(keys) <= 200 else None, day) & set(keys)
    silent = sorted((keys[p][0], p, keys[p][1]) for p in keys if p not in answered)
    est = stats.share(len(answered), len(keys))
    return {
        "key_people": len(keys),
        "answered": len(answered),
        "share": est.view(),
        "silent": [{"id": p, "name": n, "why": why} for n, p, why in silent[:SILENT_SHOWN]],
        "silent_count": len(silent),
        "reason": (
            f"{len(answered)} of {len(keys)} key people answered in the 12 months to {day}"
            if keys
            else "no key people or plan stakeholders known"
        ),
    }


def _fmt(metric: str, value: float) -> str:
    if metric in ("nps", "csat"):
        return f"{round(value) + 0:.0f}{UNITS[metric]}"  # + 0: never "-0"
    return f"{round(value, 2) + 0:.2f}"


def _trend(metric: str, series: list[dict[str, Any]], every: str, min_n: int) -> dict[str, Any]:
    usable = [s for s in series if s["value"] is not None and s["n"] >= min_n]
    if len(usable) < stats.MIN_PERIODS:
        return {"enough": False, "usable_periods": len(usable), "min_n": min_n}
    t = stats.trend([s["value"] for s in usable], bounds=BOUNDS[metric])
    return {
        "enough": True,
        "usable_periods": len(usable),
        "min_n": min_n,
        "direction": t.direction,
        "slope": round(t.slope, 3),
        "s": t.s,
        "p": round(t.p, 4),
        "projection": [
            {
                "ahead": k + 1,
                "value": round(v, 2),
                "low": round(max(v - h, BOUNDS[metric][0]), 2),
                "high": round(min(v + h, BOUNDS[metric][1]), 2),
                "band": round(h, 2),
            }
            for k, (v, h) in enumerate(t.projection)
        ],
        "periods": [s["period"] for s in usable],
    }


def sentence(data: dict[str, Any]) -> str:
    """The series in one sentence."""
    m, every = data["metric"], data["every"]
    name = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "sentiment": "Mean sentiment"}[m]
    head = f"{name} {'of' if data['scope']['kind'] == 'book' else 'at'} {data['scope']['name']}"
    shown = [s for s in data["series"] if s["value"] is not None]
    if not shown:
        return f"{head}: no answers in the last {len(data['series'])} {every}s."
    t = data["trend"]
    if not t["enough"]:
        last = shown[-1]
        has = "has" if t["usable_periods"] == 1 else "have"
        return (
            f"{head}: {_fmt(m, last['value'])} in {last['period']} (n {last['n']}); too few "
            f"answers for a trend ({stats.MIN_PERIODS} {every}s with at least {t['min_n']} "
            f"answers are needed, {t['usable_periods']} {has})."
        )
    used = [s for s in data["series"] if s["period"] in t["periods"]]
    values = " → ".join(_fmt(m, s["value"]) for s in used)
    ns = ", ".join(str(s["n"]) for s in used)
    per = "a quarter" if every == "quarter" else "a month"
    places = 0 if m in ("nps", "csat") else 2
    slope = f"{round(t['slope'], places) + 0:+.{places}f}"
    nxt = t["projection"][0]
    return (
        f"{head}: {values} over {len(used)} {every}s (n {ns}); {t['direction']}, {slope} {per} "
        f"(p {t['p']:.2f}); projects {_fmt(m, nxt['value'])} ± {_fmt(m, nxt['band'])} next {every}."
    )


def voice(
    viewer: Viewer,
    *,
    ref: str | None = None,
    view: str | None = None,
    metric: str = "nps",
    every: str = "quarter",
    as_of: str | dt.date | None = None,
    count: int | None = None,
) -> dict[str, Any]:
    """The voice of a record, a saved view or the whole book (see the module)."""
    if metric not in METRICS:
        raise ValidationError(
            f"metric: {metric!r} is not one of {', '.join(METRICS)}", field="metric"
        )
    if every not in EVERY:
        raise ValidationError(f"every: {every!r} is not month or quarter", field="every")
    day = as_of if isinstance(as_of, dt.date) else parse_date(as_of, field="as_of")
    day = day or clock.today()
    if not 1900 <= day.year <= 2200:
        raise ValidationError(f"as_of: {day.isoformat()} is outside 1900..2200", field="as_of")
    n_periods = count or DEFAULT_PERIODS[every]
    if not 2 <= n_periods <= 40:
        raise ValidationError(f"periods: {n_periods} is outside 2..40", field="periods")
    spans = periods(day, every, n_periods)
    scope = build_scope(viewer, ref, view, spans[0].start, day)
    series = _series(viewer, scope, metric, spans)
    rates = _response_rates(viewer, scope, spans)
    for item, rate in zip(series, rates, strict=True):
        item["response_rate"] = {k: rate[k] for k in ("sent", "answered", "rate")}
    data: dict[str, Any] = {
        "scope": {
            "kind": scope.kind,
            "id": scope.record.id if scope.record else None,
            "name": scope.label,
        },
        "metric": metric,
        "every": every,
        "as_of": day.isoformat(),
        "series": series,
        "trend": _trend(metric, series, every, conf.min_answers()),
        "coverage": coverage(viewer, scope, day),
    }
    data["sentence"] = sentence(data)
    return data


def health_note(viewer: Viewer, record: Record, day: dt.date) -> list[str]:
    """Health's reason about survey coverage of an organisation's key people and plan
    stakeholders, once the workspace asks surveys (none before: no noise without them)."""
    if record.type_id == "person" or not Invite.objects.exists():
        return []
    scope = Scope("record", record.name, record, [], [record.id])
    keys = key_people(viewer, scope, day)
    if not keys:
        return []
    answered = _answered(viewer, sorted(keys) if len(keys) <= 200 else None, day) & set(keys)
    if len(answered) == len(keys):
        return [f"every one of the {len(keys)} key people answered a survey in the last 12 months"]
    silent = sorted(keys[p][0] for p in keys if p not in answered)
    named = ", ".join(silent[:3]) + (f" and {len(silent) - 3} more" if len(silent) > 3 else "")
    return [
        f"only {len(answered)} of {len(keys)} key people answered a survey in the last 12 "
        f"months (never: {named})"
    ]
