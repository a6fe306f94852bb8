"""Who on our team knows a person or an organisation's people, and how well (pair strength).

Read from a health snapshot already computed for the record (``compute`` with the record's
scope and the viewer), so the summary header and the "who knows whom" grid cost no second
computation and hold nothing the viewer may not see: a hidden person or teammate is not in
the snapshot at all.
"""

from __future__ import annotations

from typing import Any

from kith.intelligence.conf import band
from kith.intelligence.engine import Snapshot
from kith.records.models import Record

KNOWERS = 3  # the header names the best three of our people
GRID_MEMBERS = 12  # the grid's columns (our people), the ones with the strongest ties first
GRID_PEOPLE = 30  # the grid's rows (their people), the best known first


def _tie(snap: Snapshot, member: str, strength: float, via: str | None = None) -> dict[str, Any]:
    out = {
        "id": member,
        "name": snap.names.get(member, member),
        "strength": round(strength, 1),
        "band": band(snap.cfg, strength),
    }
    if via is not None:
        out["via"] = {"id": via, "name": snap.names.get(via, via)}
    return out


def ties_view(snap: Snapshot, record: Record) -> dict[str, Any]:
    """``knowers``: our people by their strongest tie to ``record`` (a person) or to anyone at
    it (an organisation; ``via`` names whom), strongest first. For an organisation also
    ``grid``: their people (rows) x our people (columns) with each pair's strength."""
    if record.type_id == "person":
        ties = snap.ties.get(record.id, [])
        return {"knowers": [_tie(snap, m, s) for s, m in ties[:KNOWERS]]}
    # an organisation: the snapshot's ties are those of its current people, as scored
    best: dict[str, tuple[float, str]] = {}
    for person, ties in snap.ties.items():
        for s, member in ties:
            if member not in best or (s, person) > best[member]:
                best[member] = (s, person)
    name = snap.names.get
    order = sorted(best, key=lambda m: (-best[m][0], (name(m) or m).casefold(), m))
    knowers = [_tie(snap, m, best[m][0], best[m][1]) for m in order[:KNOWERS]]
    people = sorted(
        snap.ties,
        key=lambda p: (-snap.ties[p][0][0], (name(p) or p).casefold(), p),
    )
    members = order[:GRID_MEMBERS]
    rows = []
    for person in people[:GRID_PEOPLE]:
        strengths = {m: s for s, m in snap.ties[person]}
        cells = [
            {"member": m, "strength": round(strengths[m], 1), "band": band(snap.cfg, strengths[m])}
            if m in strengths
            else {"member": m, "strength": None, "band": None}
            for m in members
        ]
        rows.append({"id": person, "name": snap.names.get(person, person), "cells": cells})
    grid = {
        "members": [{"id": m, "name": snap.names.get(m, m)} for m in members],
        "rows": rows,
        "more_members": max(len(order) - GRID_MEMBERS, 0),
        "more_people": max(len(people) - GRID_PEOPLE, 0),
    }
    return {"knowers": knowers, "grid": grid}
