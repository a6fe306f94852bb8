"""Voice of the customer benchmark: the whole book's NPS series, and sentiment scoring.

On a copy of the cached benchmark workspace (``full``: 1,000,000 interactions; ``--small``:
the tenth), survey responses are added through the bulk loader until the workspace holds
200,000 (``--small``: 20,000), then:

- ``kith voice`` for the whole book (NPS and CSAT per quarter, trend, response rates,
  coverage of key people) against a baseline in the same run: the plainest correct read
  of the same answers (raw ``sqlite3``: every survey row's time and score, grouped per
  quarter in Python). The issue's goal: under 2 s on the full workspace.
- ``kith sentiment rescore`` over every interaction with text, end to end (read, score,
  store the value and its provenance) in texts per second; the baseline in the same run is
  the reference VADER analyser (``SentimentIntensityAnalyzer.polarity_scores``) on a
  sample of the same texts. The issue's goal: at least 5,000 texts/s on the full workspace.

``--responses=N`` sets how many survey responses the workspace holds (default 200,000 on
``full``, 20,000 on ``small``): ``--small --responses=200000`` measures the issue's
200,000 answers on the small workspace when the full one is not built.

Usage: ``python -m benchmarks surveys [--small] [--responses=N] [--keep]``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.workspace import child_env, ensure_workspace

RESPONSES = {"full": 200_000, "small": 20_000}
AS_OF = "2026-11-01"


def child(db: str, scale: str, responses: int | None = None) -> dict[str, Any]:
    import kith

    kith.open(f"sqlite:///{db}")
    from kith.bulk.services import load
    from kith.core import clock
    from kith.core.ids import new_id
    from kith.core.viewer import SYSTEM
    from kith.interactions.models import Interaction, Participant
    from kith.surveys.scoring import TEXT_KINDS, rescore
    from kith.surveys.sentiment import LexiconAnalyser
    from kith.surveys.voice import voice

    out: dict[str, Any] = {"scale": scale}
    have = Interaction.objects.filter(kind="survey").count()
    want = responses or RESPONSES[scale]
    rng = random.Random(5)
    people = list(
        Participant.objects.filter(interaction__kind="email", role="from")
        .values_list("record_id", flat=True)
        .distinct()[:20_000]
    )
    end = dt.datetime.fromisoformat(f"{AS_OF}T00:00:00+00:00")

    def bundles() -> Any:
        for _ in range(max(want - have, 0)):
            at = end - dt.timedelta(seconds=rng.randrange(3 * 365 * 86_400))
            score = float(rng.choice(range(0, 11)) if rng.random() < 0.7 else rng.randint(1, 5))
            row = (new_id("int", rng), "survey", at, "How likely are you to recommend us?",
                   "in", None, score)  # fmt: skip
            yield row, [(rng.choice(people), "from")], []

    t = time.perf_counter()
    with clock.travel(f"{AS_OF}T09:00:00Z"):
        load(interactions=bundles())
    out["added_s"] = time.perf_counter() - t
    out["responses"] = Interaction.objects.filter(kind="survey").count()

    with clock.travel(f"{AS_OF}T09:00:00Z"):
        runs = []
        for metric in ("nps", "csat", "nps"):
            t = time.perf_counter()
            data = voice(SYSTEM, metric=metric, every="quarter", as_of=AS_OF)
            runs.append(time.perf_counter() - t)
        out["voice_s"] = min(runs[0], runs[2])
        out["voice_csat_s"] = runs[1]
        out["voice_n"] = sum(s["n"] for s in data["series"])
        out["sentence"] = data["sentence"]
    out["baseline_s"], out["baseline_n"] = _baseline(db, data)

    texts = list(
        Interaction.objects.filter(kind__in=TEXT_KINDS).values_list("subject", flat=True)[:5000]
    )
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    t = time.perf_counter()
    for text in texts:
        vader.polarity_scores(text)
    out["vader_per_s"] = len(texts) / (time.perf_counter() - t)
    ours = LexiconAnalyser()
    t = time.perf_counter()
    for text in texts:
        ours.score(text)
    out["analyser_per_s"] = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    counts = rescore()
    out["rescore_s"] = time.perf_counter() - t
    out["rescore"] = counts
    out["rescore_per_s"] = counts["read"] / out["rescore_s"]
    return out


def _baseline(db: str, data: dict[str, Any]) -> tuple[float, int]:
    """The same quarters' NPS answer counts by the plainest read: every row into Python."""
    t = time.perf_counter()
    conn = sqlite3.connect(db)
    spans = [(s["start"], s["end"]) for s in data["series"]]
    counts = [[0, 0, 0] for _ in spans]
    rows = conn.execute(
        "SELECT substr(at, 1, 10), score FROM interactions_interaction "
        "WHERE kind = 'survey' AND deleted_at IS NULL AND score IS NOT NULL"
    )
    for day, score in rows:
        if 1 <= score <= 5:
            continue  # CSAT by the rule for bare scores
        for k, (a, b) in enumerate(spans):
            if a <= day <= b:
                counts[k][0] += 1
                counts[k][1] += score >= 9
                counts[k][2] += score <= 6
                break
    conn.close()
    return time.perf_counter() - t, sum(c[0] for c in counts)


def main(argv: list[str]) -> None:
    scale = "small" if "--small" in argv else "full"
    given = [a.split("=", 1)[1] for a in argv if a.startswith("--responses=")]
    responses = int(given[0]) if given else None
    source = ensure_workspace(scale)
    folder = Path(tempfile.mkdtemp(prefix="kith-bench-surveys-"))
    db = folder / "surveys.db"
    try:
        shutil.copy(source, db)
        code = f"import json, sys; from benchmarks.bench_surveys import child; print(json.dumps(child({str(db)!r}, {scale!r}, {responses!r})))"  # noqa: E501
        proc = subprocess.run([sys.executable, "-c", code], check=True, env=child_env(),
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if "--keep" not in argv:
            shutil.rmtree(folder, ignore_errors=True)
    goal_ok = out["voice_s"] < 2.0
    print(f"workspace {scale}: {out['responses']:,} survey responses "
          f"({out['added_s']:.1f} s to add)")  # fmt: skip
    print(f"  {out['sentence']}")
    print(f"  kith voice, whole book, NPS per quarter: {out['voice_s']:.3f} s "
          f"(CSAT {out['voice_csat_s']:.3f} s); goal < 2 s (on the {scale} workspace): "
          f"{'met' if goal_ok else 'NOT met'}")  # fmt: skip
    ratio = out["voice_s"] / out["baseline_s"]
    print(f"  baseline (raw sqlite3 rows grouped in Python, same answers): "
          f"{out['baseline_s']:.3f} s; ratio voice/baseline {ratio:.2f}; "
          f"answers counted {out['voice_n']:,} vs {out['baseline_n']:,}")  # fmt: skip
    r = out["rescore"]
    print(f"  kith sentiment rescore: {r['read']:,} texts in {out['rescore_s']:.1f} s = "
          f"{out['rescore_per_s']:,.0f} texts/s end to end (goal >= 5,000/s); "
          f"{r['scored']:,} scored, {r['unscored']:,} not English, "
          f"{r['kept_manual']:,} kept")  # fmt: skip
    print(f"  the analyser alone: {out['analyser_per_s']:,.0f} texts/s; reference VADER in the "
          f"same run: {out['vader_per_s']:,.0f} texts/s; ratio "
          f"{out['analyser_per_s'] / out['vader_per_s']:.1f}x")  # fmt: skip
    if os.environ.get("KITH_BENCH_JSON"):
        print(json.dumps(out))
