"""Pages: the pipeline board (stages as columns; drag a card to move it, or use its form),
the funnel (a server-drawn SVG chart and its table), and the record page's Deals section
(a deal's stage, people and history with a move form; an account's deals with a form to
add one). Every read through kith.pipelines' selectors, every write through its services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import KithError, ValidationError
from kith.pipelines.dashboards import dashboard_view, dashboards
from kith.pipelines.funnel import funnel
from kith.pipelines.selectors import account_deals, board, deal_view, pipelines
from kith.pipelines.services import add_deal, move
from kith.plans.conf import buying_roles
from kith.web.views.base import notify, page, safe_next, signed_in, viewer
from kith.web.views.record_data import get_record, text_input

BAR_W, BAR_H, GAP, LABEL_W = 420, 26, 8, 120


def funnel_chart(f: dict[str, Any]) -> dict[str, Any]:
    """Bars of the funnel's stages (open and won), widest = most entries, centred."""
    rows = [r for r in f["rows"] if r["category"] != "lost"]
    top = max([float(r["entries"]) for r in rows] + [1.0])
    bars = []
    for i, r in enumerate(rows):
        w = round(BAR_W * float(r["entries"]) / top, 1)
        y = i * (BAR_H + GAP)
        bars.append(
            {
                "stage": r["stage"],
                "category": r["category"],
                "entries": r["entries"],
                "x": round(LABEL_W + (BAR_W - w) / 2, 1),
                "y": y,
                "w": max(w, 1.0),
                "ty": y + BAR_H / 2 + 4,
                "conversion": r["conversion"],
            }
        )
    return {
        "w": LABEL_W + BAR_W + 110,
        "h": max(len(bars) * (BAR_H + GAP), BAR_H),
        "bar_h": BAR_H,
        "label_w": LABEL_W,
        "value_x": LABEL_W + BAR_W + 8,
        "bars": bars,
    }


@require_GET
@signed_in()
def board_page(request: HttpRequest) -> HttpResponse:
    """A pipeline as columns of cards (``?pipeline=KEY``; default the deals' first)."""
    key = text_input(request.GET, "pipeline", max_len=40) or None
    who = viewer(request)
    found = pipelines(who, type_key="deal")
    try:
        b = board(who, pipeline=key) if found or key else None
    except KithError as exc:
        notify(request, exc.message)
        b = None
    return page(request, "web/pipeline_board.html", {"b": b, "pipelines": found})


@require_POST
@signed_in("member")
def move_deal(request: HttpRequest, rid: str) -> HttpResponse:
    """Move a deal to a stage (the board's drag and its form, the deal section's form)."""
    back = safe_next(request, "/deals")
    try:
        c = move(
            viewer=viewer(request),
            ref=rid,
            stage=text_input(request.POST, "stage", max_len=40, label="stage"),
            reason=text_input(request.POST, "reason", max_len=200) or None,
            note=text_input(request.POST, "note", max_len=1000),
        )
    except KithError as exc:
        notify(request, f"Not moved: {exc.message}")
    else:
        notify(request, f"{c.record.name} moved to {c.to_stage.key}.")
    return HttpResponseRedirect(back)


@require_GET
@signed_in()
def funnel_page(request: HttpRequest) -> HttpResponse:
    """The funnel from stage history for a window, as of a day, by count or amount."""
    q = {n: text_input(request.GET, n, max_len=40) for n in ("pipeline", "from", "to", "as_of")}
    by = text_input(request.GET, "by", max_len=10) or None
    value = request.GET.get("value") == "1"
    who = viewer(request)
    f = None
    try:
        f = funnel(
            who,
            pipeline=q["pipeline"] or None,
            start=q["from"] or None,
            end=q["to"] or None,
            as_of=q["as_of"] or None,
            by=by,
            value=value,
        )
    except KithError as exc:
        notify(request, exc.message)
    ctx = {
        "f": f,
        "chart": funnel_chart(f) if f else None,
        "q": q,
        "by": by or "",
        "value": value,
        "pipelines": pipelines(who, type_key="deal"),
    }
    return page(request, "web/funnel.html", ctx)


@require_GET
@signed_in()
def record_deals(request: HttpRequest, rid: str) -> HttpResponse:
    """The record page's Deals section: a deal's own stage and history, or an account's
    (or a person's) deals with a form to add one."""
    record = get_record(request, rid)
    who = viewer(request)
    deal = None
    deals: list[dict[str, Any]] = []
    if record.type_id == "deal":
        try:
            deal = deal_view(who, record.id)
        except KithError:
            deal = None
    else:
        deals = account_deals(who, record)
    ctx = {
        "record": record,
        "deal": deal,
        "deals": deals,
        "roles": buying_roles(),
        "pipes": pipelines(who, type_key="deal"),
    }
    return page(request, "web/_record_deals.html", ctx)


@require_POST
@signed_in("member")
def new_deal(request: HttpRequest, rid: str) -> HttpResponse:
    """Add a deal for the record (an organisation or a person) and open it."""
    back = f"/records/{rid}"
    try:
        amount_text = text_input(request.POST, "amount", max_len=30, label="amount")
        try:
            amount = float(amount_text)
        except ValueError:
            raise ValidationError(
                f"amount: {amount_text!r} is not a number", field="amount"
            ) from None
        contact = text_input(request.POST, "contact", max_len=320)
        role = text_input(request.POST, "role", max_len=40)
        deal = add_deal(
            viewer=viewer(request),
            account=rid,
            name=text_input(request.POST, "name", max_len=200, label="name"),
            amount=amount,
            currency=text_input(request.POST, "currency", max_len=3) or None,
            close=text_input(request.POST, "close", max_len=10) or None,
            source=text_input(request.POST, "source", max_len=100) or None,
            contacts=[(contact, role)] if contact else [],
        )
    except KithError as exc:
        notify(request, f"No deal added: {exc.message}")
        return HttpResponseRedirect(back)
    notify(request, f"Deal added: {deal.name}.")
    return HttpResponseRedirect(f"/records/{deal.id}")


def line_chart(series: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Points of a widget's series (values None are left out)."""
    pts = [(i, float(p["value"])) for i, p in enumerate(series) if p["value"] is not None]
    if not pts:
        return None
    w, h, pad = 240, 60, 4
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(series) - 1, 1)
    xy = [
        (round(pad + (w - 2 * pad) * i / n, 1), round(h - pad - (h - 2 * pad) * (v - lo) / span, 1))
        for i, v in pts
    ]
    return {"w": w, "h": h, "points": " ".join(f"{x},{y}" for x, y in xy), "last": xy[-1]}


def bar_chart(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars of a widget's groups."""
    top = max([float(g["value"] or 0) for g in groups] + [1.0])
    bars = [
        {**g, "y": i * 22, "w": max(round(240 * float(g["value"] or 0) / top, 1), 1.0)}
        for i, g in enumerate(groups)
    ]
    return {"w": 420, "h": max(len(bars) * 22, 22), "bars": bars}


@require_GET
@signed_in()
def dashboards_page(request: HttpRequest) -> HttpResponse:
    """The dashboards the viewer may open."""
    return page(request, "web/dashboards.html", {"rows": dashboards(viewer(request))})


@require_GET
@signed_in()
def dashboard_page(request: HttpRequest, key: str) -> HttpResponse:
    """A dashboard computed for the viewer (``?as_of=``), each chart drawn on the server."""
    as_of = text_input(request.GET, "as_of", max_len=10) or None
    d = dashboard_view(viewer(request), key, as_of=as_of)
    for w in d["widgets"]:
        if "funnel" in w:
            w["chart_funnel"] = funnel_chart(w["funnel"])
        if w.get("series"):
            w["chart_line"] = line_chart(w["series"])
        if w.get("groups"):
            w["chart_bar"] = bar_chart(w["groups"])
    return page(request, "web/dashboard.html", {"d": d})


urlpatterns = [
    path("deals", board_page, name="deals"),
    path("deals/<str:rid>/move", move_deal, name="deal-move"),
    path("funnel", funnel_page, name="funnel"),
    path("records/<str:rid>/deals", record_deals, name="record-deals"),
    path("records/<str:rid>/deals/new", new_deal, name="deal-new"),
    path("dashboards", dashboards_page, name="dashboards"),
    path("dashboards/<str:key>", dashboard_page, name="dashboard"),
]
