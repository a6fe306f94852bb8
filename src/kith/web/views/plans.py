"""Pages: plans (a list with on/at/off-track counts), one plan (goals with a sparkline and
projection per measure, the stakeholder grid of role x person coloured by warmth, the
initiatives as a list and a board, the review log), the record page's Plan section (htmx),
and "this week": the suggested conversations, each one click from a task. Every read
through kith.plans, every write through its services (the task through kith.tasks')."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import KithError
from kith.plans.conf import INITIATIVE_STATES, buying_roles
from kith.plans.selectors import member_record, plan_view, plans_list, plans_of
from kith.plans.services import add_review as add_plan_review
from kith.plans.services import move_initiative, suggestion_to_task
from kith.plans.suggestions import next_conversations
from kith.web.views.base import notify, page, safe_next, signed_in, viewer
from kith.web.views.record_data import get_record, text_input

W, H, PAD = 160, 36, 3


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def spark(m: dict[str, Any]) -> dict[str, Any] | None:
    """SVG coordinates of a measure's readings, its trend to the target day, the target."""
    series = [(_day(d), float(v)) for d, v in m["series"]]
    if not series:
        return None
    target_on = _day(m["target"]["by"])
    start = min(series[0][0], _day(m["baseline"]["on"]) if m["baseline"]["on"] else series[0][0])
    stop = max(target_on, series[-1][0])
    values = [v for _, v in series] + [float(m["target"]["value"])]
    if m["trend"]:
        values += [m["trend"]["from"]["value"], m["trend"]["to"]["value"]]
    lo, hi = min(values), max(values)
    span_x = max((stop - start).days, 1)
    span_y = (hi - lo) or 1.0

    def xy(day: dt.date, value: float) -> tuple[float, float]:
        x = PAD + (W - 2 * PAD) * (day - start).days / span_x
        y = H - PAD - (H - 2 * PAD) * (value - lo) / span_y
        return round(x, 1), round(y, 1)

    out: dict[str, Any] = {
        "w": W,
        "h": H,
        "points": " ".join(f"{x},{y}" for x, y in (xy(d, v) for d, v in series)),
        "last": xy(*series[-1]),
        "target": xy(target_on, float(m["target"]["value"])),
        "trend": None,
    }
    if m["trend"]:
        a = xy(_day(m["trend"]["from"]["on"]), m["trend"]["from"]["value"])
        b = xy(_day(m["trend"]["to"]["on"]), m["trend"]["to"]["value"])
        out["trend"] = {"x1": a[0], "y1": a[1], "x2": b[0], "y2": b[1]}
    return out


def _dress(p: dict[str, Any]) -> dict[str, Any]:
    """A plan view with what its page draws: sparklines, the grid, the board."""
    for g in p["goals"]:
        for m in g["measures"]:
            m["spark"] = spark(m)
    people: dict[str, dict[str, Any]] = {}
    for s in p["stakeholders"]:
        people.setdefault(s["role"], {"role": s["role"], "people": []})["people"].append(s)
    order = buying_roles()
    p["grid"] = [people[r] for r in order if r in people] + [
        v for k, v in people.items() if k not in order
    ]
    p["board"] = [
        {"state": st, "cards": [i for i in p["initiatives"] if i["state"] == st]}
        for st in INITIATIVE_STATES
    ]
    return p


@require_GET
@signed_in()
def record_plans(request: HttpRequest, rid: str) -> HttpResponse:
    """The plans for a record, each as of today."""
    record = get_record(request, rid)
    who = viewer(request)
    plans = [_dress(plan_view(who, pid)) for pid in plans_of(who, record)]
    return page(request, "web/_record_plans.html", {"record": record, "plans": plans})


@require_GET
@signed_in()
def plans_page(request: HttpRequest) -> HttpResponse:
    """Every plan the viewer may see, with its goals on track, at risk and off track."""
    status = text_input(request.GET, "status", max_len=10) or None
    at_risk = request.GET.get("at_risk") == "1"
    rows = plans_list(viewer(request), status=status, at_risk=at_risk)
    return page(
        request, "web/plans.html", {"plans": rows, "status": status or "", "at_risk": at_risk}
    )


@require_GET
@signed_in()
def plan_page(request: HttpRequest, pid: str) -> HttpResponse:
    """One plan as of a day (``?as_of=``: a review's day shows the plan as it stood then)."""
    as_of = text_input(request.GET, "as_of", max_len=10) or None
    p = _dress(plan_view(viewer(request), pid, as_of=as_of))
    return page(request, "web/plan.html", {"p": p, "as_of": as_of})


def _me(request: HttpRequest) -> str | None:
    """The signed-in user's own person on our team, if they are one."""
    email = request.user.get_username()
    try:
        return member_record(viewer(request), email, field="member").id
    except KithError:
        return None


@require_GET
@signed_in()
def next_page(request: HttpRequest) -> HttpResponse:
    """This week: the conversations each of our people should have (suggestions)."""
    who = viewer(request)
    me = _me(request)
    everyone = request.GET.get("all") == "1" or me is None
    got = next_conversations(who, member=None if everyone else me)
    return page(request, "web/next.html", {"v": got, "everyone": everyone, "me": me})


@require_POST
@signed_in("member")
def next_task(request: HttpRequest) -> HttpResponse:
    """One click: a suggestion becomes a task (the same suggestion twice: one task)."""
    key = text_input(request.POST, "key", max_len=200, label="key")
    try:
        task = suggestion_to_task(viewer=viewer(request), key=key)
    except KithError as exc:
        notify(request, f"No task made: {exc.message}")
    else:
        notify(request, f"Task made: {task.title}")
    return HttpResponseRedirect(safe_next(request, "/next"))


@require_POST
@signed_in("member")
def add_review(request: HttpRequest, pid: str) -> HttpResponse:
    """Record a review of the plan (its computed measures get a reading that day)."""
    back = f"/plans/{pid}"
    try:
        values = {
            name: text_input(request.POST, name, max_len=size)
            for name, size in {"notes": 20000, "decisions": 20000, "on": 10}.items()
        }
        review = add_plan_review(
            viewer=viewer(request),
            plan=pid,
            notes=values["notes"],
            decisions=values["decisions"],
            on=values["on"] or None,
        )
    except KithError as exc:
        notify(request, f"No review recorded: {exc.message}")
        return HttpResponseRedirect(back)
    notify(request, f"Review of {review.on.isoformat()} recorded.")
    return HttpResponseRedirect(back + "?" + urlencode({"as_of": review.on.isoformat()}))


@require_POST
@signed_in("member")
def initiative_state(request: HttpRequest, iid: str) -> HttpResponse:
    """Move a key initiative on the board: the drag and drop's request (answered in JSON when
    asked for it) and the Move button's form without script (answered with a redirect)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        state = text_input(request.POST, "state", max_len=12, label="state")
        rec = move_initiative(viewer=viewer(request), initiative=iid, state=state)
    except KithError as exc:
        if wants_json:
            return JsonResponse({"error": exc.message, "field": exc.field}, status=400)
        notify(request, f"Not moved: {exc.message}")
        return HttpResponseRedirect(safe_next(request, "/plans"))
    said = f"{rec.name} is {str(rec.fields.get('state')).replace('_', ' ')}."
    if wants_json:
        return JsonResponse({"id": rec.id, "state": rec.fields.get("state"), "message": said})
    notify(request, said)
    return HttpResponseRedirect(safe_next(request, "/plans"))


urlpatterns = [
    path("records/<str:rid>/plans", record_plans, name="record-plans"),
    path("plans", plans_page, name="plans"),
    path("plans/<str:pid>", plan_page, name="plan"),
    path("plans/<str:pid>/reviews", add_review, name="plan-review"),
    path("initiatives/<str:iid>/state", initiative_state, name="initiative-state"),
    path("next", next_page, name="next"),
    path("next/tasks", next_task, name="next-task"),
]
