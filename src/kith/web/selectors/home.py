"""Reads of the home page and the global search, and the per-process score cache."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from django.db import connection
from django.db.models import Count, Max

from kith.accounts.selectors import viewer_of
from kith.core import clock
from kith.core.errors import KithError
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.scoring import pair_strength
from kith.intelligence.selectors import at_risk
from kith.intelligence.services import data_version
from kith.interactions.selectors import recent_interactions
from kith.records.models import Record
from kith.records.search import check_search as check
from kith.records.search import search_q
from kith.records.search import with_contacts as prefetch
from kith.records.selectors import contacts_of, effective_viewer, resolve, visible_q
from kith.records.selectors import search_records as search
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on, team_ids

BANDS = ("strong", "good", "fair", "weak", "cold")
PAGE_SIZE = 50


def today() -> dt.date:
    return clock.today()


_memo_cache: dict[tuple[Any, ...], Any] = {}
_memo_lock = threading.Lock()


def memo(name: str, compute: Any) -> Any:
    """``compute()``, kept in this process while the scores it reads cannot have changed.

    The key holds the day, the intelligence data version (bumped by every logged
    interaction, relationship change and bulk load) and the records' count and newest
    update and deletion (renames, merges, deletes), so a stale answer is never served;
    scoring the whole workspace costs ~200 ms on the demo data, this check two queries.
    """
    rec = Record.objects.aggregate(n=Count("id"), u=Max("updated_at"), d=Max("deleted_at"))
    key = (name, connection.settings_dict["NAME"], today(), data_version(), *rec.values())
    with _memo_lock:
        if key in _memo_cache:
            return _memo_cache[key]
    value = compute()
    with _memo_lock:
        if len(_memo_cache) >= 16:
            _memo_cache.clear()
        _memo_cache[key] = value
    return value


def visible_records(user: Any) -> Any:
    return Record.objects.filter(visible_q(viewer_of(user)))


def employers(user: Any, ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Per person id: the organisations they work at today (rollup ties), visible to ``user``."""
    out: dict[str, list[dict[str, str]]] = {}
    if not ids:
        return out
    rows = (
        Relationship.objects.filter(
            active_on(today()),
            visible_q(viewer_of(user), "to_record__"),
            from_record_id__in=ids,
            type__rollup=True,
            to_record__deleted_at__isnull=True,
        )
        .order_by("to_record__name_key", "id")
        .values_list("from_record_id", "to_record_id", "to_record__name")
    )
    for pid, oid, name in rows:
        out.setdefault(pid, []).append({"id": oid, "name": name})
    return out


def my_person(user: Any) -> dict[str, Any]:
    """The person of our team whose email is the user's, or why there is none."""
    email = user.get_username()
    try:
        person = resolve(viewer_of(user), email, type_key="person", field="email")
    except KithError:
        return {"person": None, "note": f"No person record has your email ({email})."}
    if person.id not in team_ids(today()):
        return {
            "person": None,
            "note": f"{person.name} has your email but is not on our team (no works_at tie "
            "to our organisation).",
        }
    return {"person": person, "note": ""}


def my_attention(user: Any, person_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """The outside people whose tie with ``person_id`` is overdue or fading, with reasons.

    Overdue: no two-way contact within the usual cadence. Ordered by what the tie was
    worth before it faded (frequency, depth, reciprocity, tenure), so the ties most worth
    saving come first.
    """
    cfg, day = model_config(), today()
    team = team_ids(day)
    found = []
    for row in agg.pair_rows(cfg, day, team, ("all", None), member=person_id):
        pair = agg.to_agg(row)
        if not pair.n_two:
            continue
        score = pair_strength(cfg, pair, day)
        gap, cadence = score.extra["days_since_two_way"], score.extra["cadence_days"]
        if gap <= cadence and score.band not in ("weak", "cold"):
            continue
        base = sum(f["contribution"] for f in score.factors if f["name"] != "recency")
        found.append((base, row[1], score))
    found.sort(key=lambda t: (-t[0], t[1]))
    ids = [pid for _, pid, _ in found[: limit * 3]]
    live = {r.id: r for r in visible_records(user).filter(pk__in=ids, deleted_at__isnull=True)}
    jobs = employers(user, list(live))
    out: list[dict[str, Any]] = []
    for _, pid, score in found:
        if pid not in live or len(out) >= limit:
            continue
        out.append(
            {
                "id": pid,
                "name": live[pid].name,
                "orgs": jobs.get(pid, []),
                "score": round(score.score),
                "band": score.band,
                "last": score.extra["last_two_way"],
                "reasons": score.reasons,
            }
        )
    return out


def _at_risk_split(user: Any, limit: int) -> dict[str, list[dict[str, Any]]]:
    """At-risk organisations and people (one computation), private records left out."""
    viewer = effective_viewer(viewer_of(user))  # the system's, cached, when nothing is hidden
    if viewer.sees_everything:
        rows = memo("at_risk", lambda: at_risk(viewer, limit=10_000))
    else:
        rows = at_risk(viewer, limit=10_000)
    out: dict[str, list[dict[str, Any]]] = {"organization": [], "person": []}
    for r in rows:
        bucket = out[r["type"]]
        if len(bucket) < limit:
            bucket.append({**r, "why": [w for w in r["why"] if w][:4]})
    return out


def recent_activity(user: Any, *, limit: int = 12) -> list[dict[str, Any]]:
    """The newest interactions across the workspace, with who took part and what it was about."""
    return recent_interactions(viewer_of(user), limit=limit)


def home_digest(user: Any) -> dict[str, Any]:
    """Everything the home page shows a signed-in user."""
    me = my_person(user)
    risk = _at_risk_split(user, 8)
    return {
        "me": me["person"],
        "me_note": me["note"],
        "attention": my_attention(user, me["person"].id) if me["person"] else [],
        "people_at_risk": [] if me["person"] else risk["person"],
        "accounts_at_risk": risk["organization"],
        "activity": recent_activity(user),
    }


def search_filter(text: str) -> Any:
    """Records matching ``text``: the one search rule, ``kith.records.search.search_q``."""
    return search_q(text)


def check_search(text: str) -> str:
    return check(text)


def with_contacts(qs: Any) -> Any:
    return prefetch(qs)


def search_records(user: Any, text: str, *, limit: int = 8) -> list[dict[str, Any]]:
    """Live records ``user`` may see matching ``text`` (names starting with it first)."""
    found = search(viewer_of(user), text, limit=limit)
    jobs = employers(user, [r.id for r in found if r.type_id == "person"])
    out = []
    for r in found:
        contacts = contacts_of(r)
        orgs = jobs.get(r.id, [])
        detail = [", ".join(o["name"] for o in orgs[:2])] if orgs else []
        detail += (contacts["emails"] or contacts["domains"] or contacts["phones"])[:1]
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "type": r.type_id,
                "type_label": r.type.label,
                "detail": " · ".join(d for d in detail if d),
            }
        )
    return out
