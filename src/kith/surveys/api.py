"""JSON API for surveys: define, send, list, answers from elsewhere, the voice series."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS
from kith.surveys import selectors, services
from kith.surveys.schemas import (
    ResponseOut,
    SendOut,
    SentimentOut,
    SurveyDetailOut,
    SurveyOut,
    VoiceOut,
)
from kith.surveys.voice import voice

router = Router(tags=["surveys"])


class SurveyIn(Schema):
    kind: str = Field(..., max_length=10)
    question: str = Field(..., max_length=500)
    name: str | None = Field(None, max_length=200)
    scale: str | None = Field(None, max_length=10)
    followup: str = Field("", max_length=500)
    throttle_days: int = 90
    per_account_quarter: int | None = None
    audience: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    remind_after_days: int | None = 3
    expire_after_days: int = 14


class SendIn(Schema):
    to: list[str] = Field(default_factory=list, max_length=1000)
    dry_run: bool = False


class ResponseIn(Schema):
    respondent: str = Field(..., max_length=254)
    score: float
    survey: str | None = Field(None, max_length=200)
    comment: str = Field("", max_length=20_000)
    at: dt.datetime | None = None
    external_id: str = Field("", max_length=400)
    answers: dict[str, Any] | None = None
    sentiment: float | None = None


class VoiceQuery(Schema):
    view: str | None = Field(None, max_length=200)
    metric: str = Field("nps", max_length=20)
    every: str = Field("quarter", max_length=10)
    as_of: dt.date | None = None
    periods: int | None = None


@router.get("/surveys", response={200: list[SurveyOut], **READ_ERRORS})
def surveys(request: HttpRequest) -> Any:
    """Every survey with its invite counts and response rate."""
    return selectors.list_surveys(viewer_of(require(request, "viewer")))


@router.post("/surveys", response={201: SurveyOut, **WRITE_ERRORS})
def add_survey(request: HttpRequest, payload: SurveyIn) -> Any:
    """Define a survey."""
    with acting(request, "member"):
        s = services.add_survey(**payload.model_dump())
    return Status(201, selectors.survey_view(s, {}))


@router.get("/surveys/{ref}", response={200: SurveyDetailOut, **READ_ERRORS})
def survey(request: HttpRequest, ref: str) -> Any:
    """One survey: invites, suppressions by reason, response rate."""
    return selectors.survey_detail(viewer_of(require(request, "viewer")), ref)


@router.post("/surveys/{ref}/send", response={200: SendOut, **WRITE_ERRORS})
def send(request: HttpRequest, ref: str, payload: SendIn) -> Any:
    """Ask people, organisations or saved views (the survey's audience when none); with
    ``dry_run`` only say who would be asked and who is suppressed, and why."""
    with acting(request, "member") as user:
        return services.send_survey(
            viewer=viewer_of(user), survey=ref, to=payload.to, dry_run=payload.dry_run
        )


@router.post("/survey-responses", response={200: ResponseOut, 201: ResponseOut, **WRITE_ERRORS})
def add_response(request: HttpRequest, payload: ResponseIn) -> Any:
    """A response from elsewhere, idempotent by ``external_id`` (200 when it was there)."""
    with acting(request, "member") as user:
        i, created = services.record_response(
            viewer=viewer_of(user), respondent=payload.respondent, score=payload.score,
            survey=payload.survey, comment=payload.comment, at=payload.at,
            external_id=payload.external_id, answers=payload.answers,
            sentiment=payload.sentiment, source="api",
        )  # fmt: skip
    i.refresh_from_db()
    body = {"id": i.id, "created": created, "score": i.score,
            "kind": (i.meta or {}).get("survey_kind", ""), "sentiment": i.sentiment}  # fmt: skip
    return Status(201 if created else 200, body)


@router.get("/voice", response={200: VoiceOut, **READ_ERRORS})
def voice_book(request: HttpRequest, q: Query[VoiceQuery]) -> Any:
    """The voice series of the whole book (or of a saved view with ``view``)."""
    viewer = viewer_of(require(request, "viewer"))
    return voice(viewer, view=q.view, metric=q.metric, every=q.every, as_of=q.as_of,
                 count=q.periods)  # fmt: skip


@router.get("/voice/{ref}", response={200: VoiceOut, **READ_ERRORS})
def voice_record(request: HttpRequest, ref: str, q: Query[VoiceQuery]) -> Any:
    """The voice series of one record: per period, trend, projection, coverage."""
    viewer = viewer_of(require(request, "viewer"))
    return voice(viewer, ref=ref, metric=q.metric, every=q.every, as_of=q.as_of,
                 count=q.periods)  # fmt: skip


@router.get("/interactions/{interaction_id}/sentiment", response={200: SentimentOut, **READ_ERRORS})
def sentiment(request: HttpRequest, interaction_id: str) -> Any:
    """An interaction's sentiment, where it came from (manual, lexicon, import) and why."""
    return selectors.sentiment_of(viewer_of(require(request, "viewer")), interaction_id)
