"""Dashboards as data: the widget language, the starter dashboards, and the reads.

A dashboard is stored data (``Dashboard``: key, name, owner, shared with ``everyone``, the
owner's ``team`` or nobody else (``private``), widgets). A widget is a JSON object:

- ``metric``: a key of the metric catalogue (custom fields and record types through
  ``field.number`` and ``records.matching`` with their ``params``), or ``funnel``;
- ``scope``: the record it is computed for (id, email or exact name; default the home
  organisation, which the deal metrics read as every deal); ``group``: a list of such
  records, one value each (a bar or a table);
- ``params``: the metric's parameters (its filters; for a funnel ``pipeline`` and ``by``);
- ``period``: the window in days (default 90); ``compare``: ``previous`` (the period
  before) or ``last_year`` (the same period a year earlier), or none;
- ``chart``: ``number``, ``bar``, ``line`` (six periods to the as-of day), ``funnel`` or
  ``table``; ``title``.

Every value comes from ``kith.metrics.selectors.measure`` (or the funnel) for the viewer,
so a dashboard shows nothing the viewer may not see; each widget carries its reasons and the
ids behind it (its drill-down). A widget that cannot be computed says why, alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q

from kith.core.errors import KithError, NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.metrics.catalogue import get_metric
from kith.metrics.selectors import measure
from kith.pipelines.funnel import funnel
from kith.pipelines.models import Dashboard
from kith.pipelines.selectors import as_of_day
from kith.records.models import Record
from kith.records.selectors import home_org, resolve

CHARTS = ("number", "bar", "line", "funnel", "table")
COMPARE = ("previous", "last_year")
SHARED = ("private", "team", "everyone")
WIDGET_KEYS = {"title", "metric", "scope", "group", "params", "period", "compare", "chart"}
LINE_POINTS = 6

STARTERS: dict[str, dict[str, Any]] = {
    "sales": {
        "name": "Sales outcomes",
        "widgets": [
            {"title": "Won", "metric": "deals.won", "chart": "number", "compare": "previous"},
            {"title": "Open pipeline", "metric": "deals.open", "chart": "number"},
            {"title": "Win rate", "metric": "deals.win_rate", "chart": "line", "period": 90},
            {"title": "Funnel", "metric": "funnel", "chart": "funnel"},
            {
                "title": "Funnel by source",
                "metric": "funnel",
                "chart": "table",
                "params": {"by": "source"},
            },
        ],
    },
    "support": {
        "name": "Support outcomes",
        "widgets": [
            {"title": "CSAT", "metric": "csat", "chart": "number", "compare": "last_year"},
            {"title": "Effort", "metric": "ces", "chart": "number", "compare": "previous"},
            {"title": "Sentiment", "metric": "sentiment.mean", "chart": "line"},
            {"title": "Outcomes", "metric": "outcomes", "chart": "number"},
        ],
    },
    "marketing": {
        "name": "Marketing outcomes",
        "widgets": [
            {
                "title": "Where deals come from",
                "metric": "funnel",
                "chart": "table",
                "params": {"by": "source"},
                "period": 365,
            },
            {"title": "NPS", "metric": "nps", "chart": "line", "period": 90},
            {"title": "Value events", "metric": "value.events", "chart": "number"},
        ],
    },
}


def check_widgets(widgets: Any) -> list[dict[str, Any]]:
    """The widgets, checked one by one (``widgets[2].chart: 'pie' is not one of ...``)."""
    if not isinstance(widgets, list) or not widgets:
        raise ValidationError("widgets: a list of at least one widget is needed", field="widgets")
    if len(widgets) > 24:
        raise ValidationError(f"widgets: {len(widgets)} is more than 24", field="widgets")
    out = []
    for i, w in enumerate(widgets):
        at = f"widgets[{i}]"
        if not isinstance(w, dict):
            raise ValidationError(f"{at}: is not an object", field="widgets")
        extra = sorted(set(w) - WIDGET_KEYS)
        if extra:
            raise ValidationError(f"{at}: unknown key {extra[0]!r}", field="widgets")
        key = str(w.get("metric") or "")
        if key != "funnel":
            get_metric(key, field=f"{at}.metric")
        chart = str(w.get("chart") or "number")
        if chart not in CHARTS:
            raise ValidationError(
                f"{at}.chart: {chart!r} is not one of {', '.join(CHARTS)}", field="widgets"
            )
        period = w.get("period", 90)
        if not isinstance(period, int) or not 1 <= period <= 3650:
            raise ValidationError(f"{at}.period: {period!r} is outside 1..3650", field="widgets")
        compare = w.get("compare")
        if compare not in (None, "", *COMPARE):
            raise ValidationError(
                f"{at}.compare: {compare!r} is not one of {', '.join(COMPARE)}", field="widgets"
            )
        params = w.get("params") or {}
        group = w.get("group") or []
        if not isinstance(params, dict):
            raise ValidationError(f"{at}.params: is not an object", field="widgets")
        if not isinstance(group, list) or len(group) > 50:
            raise ValidationError(f"{at}.group: is not a list of up to 50", field="widgets")
        out.append(
            {
                "title": str(w.get("title") or key)[:200],
                "metric": key,
                "scope": str(w["scope"]) if w.get("scope") else None,
                "group": [str(g) for g in group],
                "params": params,
                "period": period,
                "compare": compare or None,
                "chart": chart,
            }
        )
    return out


def _user(viewer: Viewer) -> tuple[str, str]:
    """(email, team) of the viewer's user ('' for the system)."""
    if viewer.user_id is None:
        return "", ""
    user = User.objects.filter(pk=viewer.user_id).select_related("kith_profile").first()
    if user is None:
        return "", ""
    profile = getattr(user, "kith_profile", None)
    return (user.email or user.username).lower(), (profile.team if profile else "")


def _visible(viewer: Viewer) -> Q:
    if viewer.sees_everything:  # the system and admins
        return Q()
    email, team = _user(viewer)
    q = Q(shared="everyone") | Q(owner=email)
    if team:
        mates = User.objects.filter(kith_profile__team=team).values_list("username", flat=True)
        q |= Q(shared="team", owner__in=list(mates))
    return q


def dashboards(viewer: Viewer) -> list[dict[str, Any]]:
    """The dashboards ``viewer`` may open."""
    rows = Dashboard.objects.filter(_visible(viewer)).order_by("key")
    return [definition(d) for d in rows]


def get_dashboard(viewer: Viewer, key: str) -> Dashboard:
    d = Dashboard.objects.filter(_visible(viewer), pk=(key or "").strip().lower()).first()
    if d is None:
        raise NotFound(f"dashboard: no dashboard {key!r}", field="dashboard")
    return d


def definition(d: Dashboard) -> dict[str, Any]:
    """The stored definition (what ``kith dashboard export`` writes)."""
    return {
        "key": d.key,
        "name": d.name,
        "owner": d.owner,
        "shared": d.shared,
        "widgets": d.widgets,
    }


def _scope(viewer: Viewer, ref: str | None) -> Record:
    if ref:
        return resolve(viewer, ref, field="scope")
    home = home_org()
    if home is None:
        raise ValidationError("scope: no home organisation; name a scope", field="scope")
    return home


def _value(viewer: Viewer, w: dict[str, Any], rec: Record, day: dt.date) -> dict[str, Any]:
    r = measure(viewer, w["metric"], rec, as_of=day, window=w["period"], params=w["params"])
    return {"value": r.value, "n": r.n, "reasons": r.reasons, "evidence": r.evidence}


def _widget(viewer: Viewer, w: dict[str, Any], day: dt.date) -> dict[str, Any]:
    out: dict[str, Any] = {**w, "as_of": day.isoformat()}
    if w["metric"] == "funnel":
        f = funnel(
            viewer,
            pipeline=w["params"].get("pipeline"),
            start=day - dt.timedelta(days=w["period"] - 1),
            by=w["params"].get("by"),
            value=bool(w["params"].get("value")),
            as_of=day,
        )
        out["funnel"] = f
        out["drill"] = f"/funnel?pipeline={f['pipeline']}"
        return out
    rec = _scope(viewer, w["scope"])
    out["scope_name"] = rec.name
    out["current"] = _value(viewer, w, rec, day)
    # the list behind it: the deals board for a deal metric, else the scope's page
    out["drill"] = "/deals" if w["metric"].startswith("deals.") else f"/records/{rec.id}"
    if w["compare"]:
        back = w["period"] if w["compare"] == "previous" else 365
        out["comparison"] = _value(viewer, w, rec, day - dt.timedelta(days=back))
        out["comparison"]["as_of"] = (day - dt.timedelta(days=back)).isoformat()
    if w["chart"] == "line":
        step = max(w["period"] // 3, 7)
        days = [day - dt.timedelta(days=step * i) for i in range(LINE_POINTS - 1, -1, -1)]
        out["series"] = [
            {"on": d.isoformat(), "value": _value(viewer, w, rec, d)["value"]} for d in days
        ]
    if w["group"]:
        out["groups"] = []
        for ref in w["group"]:
            g = resolve(viewer, ref, field="group")
            out["groups"].append({"id": g.id, "name": g.name, **_value(viewer, w, g, day)})
    return out


def dashboard_view(
    viewer: Viewer, key: str, *, as_of: str | dt.date | None = None
) -> dict[str, Any]:
    """A dashboard computed for ``viewer`` as of a day; each widget on its own."""
    d = get_dashboard(viewer, key)
    day = as_of_day(as_of)
    widgets = []
    for w in check_widgets(d.widgets):
        try:
            widgets.append(_widget(viewer, w, day))
        except KithError as exc:
            widgets.append({**w, "as_of": day.isoformat(), "error": exc.message})
    return {**definition(d), "as_of": day.isoformat(), "widgets": widgets}
