"""Pages: the public tokened answer page (no sign-in), opting out of surveys, the surveys
admin list and one survey's invites, and the Voice panel of a record."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from kith.core.errors import Conflict, KithError, NotFound
from kith.surveys import selectors, services
from kith.surveys.voice import voice
from kith.web.views.base import error_page, page, signed_in, viewer
from kith.web.views.record_data import get_record

CHART_W, CHART_H, PAD = 480, 160, 24


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The one-screen answer page of an invite's link (no sign-in; once only)."""
    try:
        invite = selectors.public_invite(token)
    except NotFound as exc:
        return error_page(request, 404, "Not a valid link", exc.message.removeprefix("link: "))
    if invite["answered"]:
        return _public(request, invite, token, done="already", status=409)
    if invite["expired"]:
        return _public(request, invite, token, done="expired", status=410)
    if request.method == "GET":
        return _public(request, invite, token)
    try:
        services.respond(
            token=token,
            score=request.POST.get("score", "")[:10],
            comment=request.POST.get("comment", "")[:5000],
            client=_client(request),
        )
    except Conflict as exc:
        return _public(request, invite, token, error=exc.message.removeprefix("link: "),
                       status=409)  # fmt: skip
    except NotFound as exc:
        return error_page(request, 404, "Not a valid link", exc.message.removeprefix("link: "))
    except KithError as exc:
        status = 429 if "too many" in exc.message else 400
        return _public(request, invite, token, error=exc.message, status=status,
                       comment=request.POST.get("comment", "")[:5000])  # fmt: skip
    return _public(request, invite, token, done="thanks")


def _public(
    request: HttpRequest, invite: dict[str, Any], token: str, *, done: str = "",
    error: str = "", status: int = 200, comment: str = "",
) -> HttpResponse:  # fmt: skip
    ctx = {"invite": invite, "token": token, "done": done, "error": error, "comment": comment}
    return page(request, "web/survey_answer.html", ctx, status=status)


@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """Never be surveyed again (GET asks to confirm, POST does it)."""
    if request.method == "GET":
        try:
            selectors.public_invite(token)
        except NotFound as exc:
            return error_page(request, 404, "Not a valid link", exc.message.removeprefix("link: "))
        return page(request, "web/survey_optout.html", {"token": token, "done": False})
    try:
        services.opt_out(token=token)
    except NotFound as exc:
        return error_page(request, 404, "Not a valid link", exc.message.removeprefix("link: "))
    return page(request, "web/survey_optout.html", {"token": token, "done": True})


@require_GET
@signed_in()
def surveys_page(request: HttpRequest) -> HttpResponse:
    """Every survey with its response rate."""
    return page(request, "web/surveys.html", {"surveys": selectors.list_surveys(viewer(request))})


@require_GET
@signed_in()
def survey_page(request: HttpRequest, ref: str) -> HttpResponse:
    """One survey: invites, suppressions by reason, response rate."""
    data = selectors.survey_detail(viewer(request), ref[:200])
    return page(request, "web/survey.html", {"s": data})


def chart(data: dict[str, Any]) -> dict[str, Any]:
    """The series as SVG geometry: points, the interval band, the projection and its band."""
    lo, hi = {"nps": (-100, 100), "csat": (0, 100), "ces": (1, 7), "sentiment": (-1, 1)}[
        data["metric"]
    ]
    series = data["series"]
    ahead = data["trend"].get("projection", []) if data["trend"].get("enough") else []
    slots = len(series) + len(ahead)
    step = (CHART_W - 2 * PAD) / max(slots - 1, 1)

    def y(v: float) -> float:
        return round(CHART_H - PAD - (v - lo) / (hi - lo) * (CHART_H - 2 * PAD), 1)

    pts = [
        (round(PAD + k * step, 1), y(s["value"]), s)
        for k, s in enumerate(series)
        if s["value"] is not None
    ]
    band = [
        (round(PAD + k * step, 1), y(s["high"]), y(s["low"]))
        for k, s in enumerate(series)
        if s["low"] is not None
    ]
    proj = [
        (round(PAD + (len(series) + k) * step, 1), y(p["value"]), y(p["high"]), y(p["low"]))
        for k, p in enumerate(ahead)
    ]
    line = ([pts[-1][:2]] if pts and proj else []) + [(p[0], p[1]) for p in proj]
    return {
        "w": CHART_W,
        "h": CHART_H,
        "points": " ".join(f"{x},{yy}" for x, yy, _ in pts),
        "dots": pts,
        "band": _polygon([(x, t) for x, t, _ in band], [(x, b) for x, _, b in band]),
        "proj_line": " ".join(f"{x},{yy}" for x, yy in line),
        "proj_band": _polygon([(p[0], p[2]) for p in proj], [(p[0], p[3]) for p in proj]),
        "zero": y(0) if lo < 0 < hi else None,
        "labels": [(round(PAD + k * step, 1), s["period"]) for k, s in enumerate(series)],
    }


def _polygon(top: list[tuple[float, float]], bottom: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in top + bottom[::-1])


@require_GET
@signed_in()
def record_voice(request: HttpRequest, rid: str) -> HttpResponse:
    """A record's Voice panel: the series with its band, the sentence, silent key people."""
    record = get_record(request, rid)
    metric = request.GET.get("metric", "nps")[:10]
    data = voice(viewer(request), ref=record.id, metric=metric)
    return page(request, "web/_record_voice.html",
                {"record": record, "v": data, "chart": chart(data)})  # fmt: skip


urlpatterns = [
    path("s/<str:token>", answer, name="survey-answer"),
    path("s/<str:token>/opt-out", opt_out, name="survey-opt-out"),
    path("surveys", surveys_page, name="surveys"),
    path("surveys/<str:ref>", survey_page, name="survey"),
    path("records/<str:rid>/voice", record_voice, name="record-voice"),
]
