"""Response shapes of the intelligence API: strength, health, best and at-risk, with reasons."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from kith.server.schemas import Out, Ref


class Scored(Out):
    """A score with its band, factors and reasons; other figures the model reports ride along."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")


class FactorOut(Out):
    name: str
    value: float
    contribution: float


class RiskEventOut(Out):
    date: str
    event: str


class PastScoreOut(Out):
    as_of: str
    score: float


class TrendPointOut(Out):
    as_of: str
    score: float
    band: str


class StrengthOut(Scored):
    as_of: str
    member: Ref = Field(description="The one of our people")
    person: Ref
    score: float
    band: str
    factors: list[FactorOut]
    reasons: list[str]
    cadence_days: float | None = None
    days_since_two_way: int | None = None
    interactions: int | None = None
    two_way: int | None = None
    first_two_way: str | None = None
    last_two_way: str | None = None


class HealthOut(Scored):
    as_of: str
    record: Ref
    score: float
    band: str
    factors: list[FactorOut]
    reasons: list[str]
    previous: PastScoreOut
    change: float
    trend: list[TrendPointOut] | None = Field(None, description="With ?trend=true")
    last_two_way: str | None = None
    in_touch: int | None = Field(None, description="People: our people in touch")
    people: int | None = Field(None, description="Organisations: their people")
    engaged: int | None = None
    our_people_in_touch: int | None = None
    risk_events: list[RiskEventOut] | None = None


class BestOut(Scored):
    id: str
    name: str
    type: str
    value: float
    value_basis: str
    rank_score: float
    score: float
    band: str
    factors: list[FactorOut]
    reasons: list[str]
    last_two_way: str | None = None
    in_touch: int | None = None
    people: int | None = None
    engaged: int | None = None
    our_people_in_touch: int | None = None
    risk_events: list[RiskEventOut] | None = None


class AtRiskOut(Out):
    id: str
    name: str
    type: str
    score: float
    band: str
    previous: float
    change: float
    value: float
    newest_event: str
    reasons: list[str]
    factors: list[FactorOut]
