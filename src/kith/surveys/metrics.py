"""The voice metrics in the one catalogue, so plans can set goals on NPS and CSAT.

Each is the voice series' arithmetic over the metric's window for one record (an
organisation: answers linked to it or given by its people; a person: their own), with
the interval and the groups in its reasons. Registered on import (``SurveysConfig.ready``).
"""

from __future__ import annotations

from kith.metrics.catalogue import Context, Result, metric
from kith.surveys import voice

_LABEL = {"nps": "NPS", "csat": "CSAT % satisfied", "ces": "CES (mean effort score)",
          "sentiment": "mean sentiment"}  # fmt: skip


def _measure(ctx: Context, which: str) -> Result:
    span = voice.Period(f"{ctx.start}..{ctx.as_of}", ctx.start, ctx.as_of)
    scope = voice.build_scope(ctx.viewer, ctx.record.id, None, ctx.start, ctx.as_of)
    (item,) = voice._series(ctx.viewer, scope, which, [span])
    n = item["n"]
    when = f"in the {ctx.window} days to {ctx.as_of.isoformat()}"
    if item["value"] is None:
        return Result(None, 0, [f"no {_LABEL[which]} answers {when}"], [])
    reasons = [
        f"{_LABEL[which]} {item['value']:g} from {n} answer{'s' if n != 1 else ''} {when}"
        + (
            f" (95% interval {item['low']:g} to {item['high']:g})"
            if item["low"] is not None
            else ""
        )
    ]
    groups = item.get("groups")
    if groups:
        reasons.append(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in groups.items()))
    return Result(float(item["value"]), n, reasons, [])


@metric("nps", "NPS", unit="points", scopes=("organization", "person"))
def _nps(ctx: Context) -> Result:
    return _measure(ctx, "nps")


@metric("csat", "CSAT % satisfied", unit="%", scopes=("organization", "person"))
def _csat(ctx: Context) -> Result:
    return _measure(ctx, "csat")


@metric("ces", "Customer effort score", unit="points", scopes=("organization", "person"))
def _ces(ctx: Context) -> Result:
    return _measure(ctx, "ces")


@metric("sentiment.mean", "Mean sentiment", unit="-1..1", scopes=("organization", "person"))
def _sentiment(ctx: Context) -> Result:
    return _measure(ctx, "sentiment")
