"""Reads of the web app that no feature app already answers (home page digest, lists, jobs).

Sections, each owned by one area of the web app; edit only your own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from typing import Any

# -- home page and lists ----------------------------------------------------------------------

BANDS = ("strong", "good", "fair", "weak", "cold")
PAGE_SIZE = 50
SEARCH_MAX = 300


def _today() -> dt.date:
    return dt.date.today()


_memo_cache: dict[tuple[Any, ...], Any] = {}
_memo_lock = threading.Lock()


def _memo(name: str, compute: Any) -> Any:
    """``compute()``, kept in this process while the scores it reads cannot have changed.

    The key holds the day, the intelligence data version (bumped by every logged
    interaction, relationship change and bulk load) and the records' count and newest
    update and deletion (renames, merges, deletes), so a stale answer is never served;
    scoring the whole workspace costs ~200 ms on the demo data, this check two queries.
    """
    from django.db import connection
    from django.db.models import Count, Max

    from kith.intelligence.services import data_version, ensure_pairstats
    from kith.records.models import Record

    ensure_pairstats()  # a first build bumps the version: key on the version after it
    rec = Record.objects.aggregate(n=Count("id"), u=Max("updated_at"), d=Max("deleted_at"))
    key = (name, connection.settings_dict["NAME"], _today(), data_version(), *rec.values())
    with _memo_lock:
        if key in _memo_cache:
            return _memo_cache[key]
    value = compute()
    with _memo_lock:
        if len(_memo_cache) >= 16:
            _memo_cache.clear()
        _memo_cache[key] = value
    return value


def _visible_records(user: Any) -> Any:
    from kith.accounts.selectors import visible_q
    from kith.records.models import Record

    return Record.objects.filter(visible_q(user))


def employers(user: Any, ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Per person id: the organisations they work at today (rollup ties), visible to ``user``."""
    from kith.accounts.selectors import visible_q
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import active_on

    out: dict[str, list[dict[str, str]]] = {}
    if not ids:
        return out
    rows = (
        Relationship.objects.filter(
            active_on(_today()),
            visible_q(user, "to_record__"),
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
    from kith.accounts.selectors import can_see
    from kith.core.errors import KithError
    from kith.records.selectors import resolve
    from kith.relationships.selectors import team_ids

    email = user.get_username()
    try:
        person = resolve(email, type_key="person", field="email")
    except KithError:
        return {"person": None, "note": f"No person record has your email ({email})."}
    if not can_see(user, person):
        return {"person": None, "note": f"No person record has your email ({email})."}
    if person.id not in team_ids(_today()):
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
    from kith.intelligence import aggregates as agg
    from kith.intelligence.conf import model_config
    from kith.intelligence.scoring import pair_strength
    from kith.intelligence.services import ensure_pairstats
    from kith.relationships.selectors import team_ids

    ensure_pairstats()
    cfg, day = model_config(), _today()
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
    live = {r.id: r for r in _visible_records(user).filter(pk__in=ids, deleted_at__isnull=True)}
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
    from kith.accounts.selectors import hidden_ids
    from kith.intelligence.selectors import at_risk

    rows = _memo("at_risk", lambda: at_risk(limit=10_000))
    hidden = hidden_ids(user, [r["id"] for r in rows])
    out: dict[str, list[dict[str, Any]]] = {"organization": [], "person": []}
    for r in rows:
        bucket = out[r["type"]]
        if r["id"] not in hidden and len(bucket) < limit:
            bucket.append({**r, "why": [w for w in r["why"] if w][:4]})
    return out


def recent_activity(user: Any, *, limit: int = 12) -> list[dict[str, Any]]:
    """The newest interactions across the workspace, with who took part and what it was about."""
    from django.db.models import Prefetch

    from kith.interactions.models import Interaction, InteractionLink, Participant
    from kith.interactions.selectors import interaction_view
    from kith.server.queries import redact_interactions

    qs = Interaction.objects.order_by("-at", "-id").prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("record")),
        Prefetch("links", queryset=InteractionLink.objects.select_related("record")),
    )
    views = [interaction_view(i) for i in qs[: limit * 2]]
    return redact_interactions(user, views)[:limit]


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


def _search_filter(text: str) -> Any:
    """Records whose name contains ``text`` or with an email, phone or domain containing it."""
    from django.db.models import Q

    from kith.records.models import ContactPoint
    from kith.records.normalize import name_key

    term = text.strip().lower()
    contact = Q(normalized__contains=term)
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 3 and re.fullmatch(r"[\d\s().+\-]+", term):
        contact |= Q(kind="phone", normalized__contains=digits)
    by_contact = ContactPoint.objects.filter(contact).values("record_id")
    return Q(name_key__contains=name_key(text)) | Q(pk__in=by_contact)


def check_search(text: str) -> str:
    from kith.core.errors import ValidationError

    text = (text or "").strip()
    if len(text) > SEARCH_MAX:
        raise ValidationError(f"q: longer than {SEARCH_MAX} characters", field="q")
    return text


def _with_contacts(qs: Any) -> Any:
    from django.db.models import Prefetch

    from kith.records.models import ContactPoint

    return qs.prefetch_related(
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
    )


def search_records(user: Any, text: str, *, limit: int = 8) -> list[dict[str, Any]]:
    """Live records ``user`` may see matching ``text`` (names starting with it first)."""
    from kith.records.normalize import name_key
    from kith.records.selectors import contacts_of

    text = check_search(text)
    if not text:
        return []
    base = _with_contacts(
        _visible_records(user).filter(deleted_at__isnull=True).select_related("type")
    ).order_by("name_key", "id")
    found = list(base.filter(name_key__startswith=name_key(text))[:limit])
    if len(found) < limit:
        more = base.filter(_search_filter(text)).exclude(pk__in=[r.id for r in found])
        found += list(more[: limit - len(found)])
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


# lists of records of one type: parsed state, columns, one page


SORTS = {"name": "name", "created": "created", "last": "last contact", "health": "health"}
BASE_COLUMNS = {
    "email": "Email",
    "phone": "Phone",
    "domain": "Domain",
    "org": "Organisation",
    "health": "Health",
    "last": "Last contact",
}
FILTER_KINDS = ("choice", "bool", "text", "email", "url")


@dataclasses.dataclass
class ListQuery:
    """What a list shows: type, search, filters, sort, columns and page (URL round-trip)."""

    type_key: str
    q: str = ""
    org: str = ""  # an organisation's id or exact name, as typed
    org_id: str = ""
    band: str = ""
    deleted: bool = False
    sort: str = "name"
    cols: list[str] = dataclasses.field(default_factory=list)
    cols_given: bool = False
    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    page: int = 1

    def params(self, *, page: bool = True) -> list[tuple[str, str]]:
        """The query string pairs of this state (defaults left out)."""
        out = [("q", self.q), ("org", self.org), ("band", self.band)]
        out += [(f"f.{k}", v) for k, v in sorted(self.fields.items())]
        out += [
            ("deleted", "1" if self.deleted else ""),
            ("sort", "" if self.sort == "name" else self.sort),
        ]
        pairs = [(k, v) for k, v in out if v]
        if self.cols_given:
            pairs += [("cols", c) for c in self.cols] or [("cols", "")]
        if page and self.page > 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def as_saved(self) -> dict[str, list[str]]:
        saved: dict[str, list[str]] = {}
        for k, v in self.params(page=False):
            saved.setdefault(k, []).append(v)
        return saved


def list_columns(type_key: str) -> tuple[list[tuple[str, str]], list[str], list[Any]]:
    """(key, label) of every column a list of ``type_key`` can show, the default ones, fields."""
    from kith.records.selectors import field_defs

    defs = field_defs(type_key)
    base = ["email", "phone", "domain"]
    if type_key == "person":
        base = ["email", "phone", "org"]
    if type_key in ("person", "organization"):
        base.append("health")
    base.append("last")
    cols = [(k, BASE_COLUMNS[k]) for k in base]
    cols += [(f"f.{d.name}", d.name.replace("_", " ").capitalize()) for d in defs]
    if type_key == "person":
        default = ["email", "org", "f.title", "health", "last"]
    elif type_key == "organization":
        default = ["domain", "f.industry", "health", "last"]
    else:
        default = ["email", *[f"f.{d.name}" for d in defs[:4]], "last"]
    known = {k for k, _ in cols}
    return cols, [c for c in default if c in known], defs


def _one(params: dict[str, list[str]], key: str) -> str:
    values = params.get(key) or [""]
    return (values[-1] or "").strip()


def parse_list_query(
    type_key: str, params: dict[str, list[str]]
) -> tuple[ListQuery, dict[str, str], list[Any]]:
    """The list state named by query parameters, and a message per parameter that is wrong."""
    from kith.core.errors import KithError
    from kith.records.selectors import resolve

    columns, default, defs = list_columns(type_key)
    errors: dict[str, str] = {}
    query = ListQuery(type_key=type_key, cols=list(default))
    try:
        query.q = check_search(_one(params, "q"))
    except KithError as exc:
        errors["q"] = exc.message
    scored = type_key in ("person", "organization")
    band = _one(params, "band").lower()
    if band and (band not in BANDS or not scored):
        errors["band"] = f"band: {band[:40]!r} is not one of {', '.join(BANDS)}"
        if not scored:
            errors["band"] = f"band: {type_key} records have no health"
    query.band = band if "band" not in errors else ""
    query.deleted = _one(params, "deleted").lower() in ("1", "true", "on", "yes")
    sort = _one(params, "sort") or "name"
    allowed = [s for s in SORTS if scored or s != "health"]
    if sort.lstrip("-") not in allowed or sort.startswith("--"):
        errors["sort"] = (
            f"sort: {sort[:40]!r} is not one of {', '.join(allowed)} (prefix - to reverse)"
        )
    else:
        query.sort = sort
    if "cols" in params:
        known = {k for k, _ in columns}
        chosen = [c.strip() for c in params["cols"] if c.strip()]
        bad = [c for c in chosen if c not in known]
        if bad:
            errors["cols"] = f"cols: {bad[0][:40]!r} is not a column of this list"
        else:
            query.cols = [k for k, _ in columns if k in chosen]
            query.cols_given = query.cols != default
    org = _one(params, "org")
    if org and type_key != "person":
        errors["org"] = "org: only people are filtered by organisation"
    elif org:
        try:
            found = resolve(org[:320], type_key="organization", field="org")
            query.org, query.org_id = org[:320], found.id
        except KithError as exc:
            errors["org"] = exc.message
    by_name = {d.name: d for d in defs}
    for key in params:
        if not key.startswith("f."):
            continue
        value = _one(params, key)
        fdef = by_name.get(key[2:])
        if fdef is None or fdef.kind not in FILTER_KINDS:
            errors[key] = f"{key}: not a field this list can be filtered by"
        elif fdef.kind == "choice" and value and value not in fdef.choices:
            errors[key] = f"{key}: {value[:40]!r} is not one of {', '.join(fdef.choices)}"
        elif fdef.kind == "bool" and value and value not in ("yes", "no"):
            errors[key] = f"{key}: {value[:40]!r} is not yes or no"
        elif len(value) > 200:
            errors[key] = f"{key}: longer than 200 characters"
        elif value:
            query.fields[fdef.name] = value
    raw_page = _one(params, "page") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 1_000_000:
        errors["page"] = f"page: {raw_page[:20]!r} is not a page number"
    else:
        query.page = int(raw_page)
    return query, errors, defs


def _health_scores(type_key: str) -> dict[str, float]:
    """Health of every scored record of the type as of today (one computation)."""
    from kith.intelligence.conf import model_config
    from kith.intelligence.engine import compute

    def scores() -> dict[str, dict[str, float]]:
        snap = compute(model_config(), _today())
        return {
            "person": dict(snap.person_score),
            "organization": {rid: s.score for rid, s in snap.orgs.items()},
        }

    found: dict[str, float] = _memo("health", scores)[type_key]
    return found


def _last_contact(type_key: str) -> Any:
    """The time of a record's newest interaction (organisations: also their people's)."""
    from django.db.models import DateTimeField, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce, Greatest

    from kith.interactions.models import InteractionLink, Participant

    never = Value(dt.datetime(1900, 1, 1, tzinfo=dt.UTC), output_field=DateTimeField())

    def newest(qs: Any) -> Any:
        return Coalesce(Subquery(qs.order_by("-at").values("at")[:1]), never)

    own = newest(Participant.objects.filter(record=OuterRef("pk")))
    if type_key == "person":
        return own
    linked = newest(InteractionLink.objects.filter(record=OuterRef("pk")))
    if type_key != "organization":
        return Greatest(own, linked)
    staff = Participant.objects.filter(
        Q(record__outgoing__until__isnull=True) | Q(record__outgoing__until__gt=_today()),
        record__outgoing__to_record=OuterRef("pk"),
        record__outgoing__type__rollup=True,
    )
    return Greatest(own, linked, newest(staff))


def list_page(
    user: Any, query: ListQuery, defs: list[Any], *, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of the list: rows (cells per chosen column), total, pages."""
    from kith.core.errors import ValidationError
    from kith.intelligence.conf import band, model_config
    from kith.records.selectors import contacts_of
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import active_on

    key = query.type_key
    qs = _visible_records(user).filter(type_id=key)
    if not query.deleted:
        qs = qs.filter(deleted_at__isnull=True)
    if query.q:
        qs = qs.filter(_search_filter(query.q))
    if query.org_id:
        staff = Relationship.objects.filter(
            active_on(_today()), to_record_id=query.org_id, type__rollup=True
        ).values("from_record_id")
        qs = qs.filter(pk__in=staff)
    kinds = {d.name: d.kind for d in defs}
    for name, value in query.fields.items():
        if kinds[name] == "bool":
            qs = qs.filter(**{f"fields__{name}": value == "yes"})
        elif kinds[name] == "choice":
            qs = qs.filter(**{f"fields__{name}": value})
        else:
            qs = qs.filter(**{f"fields__{name}__icontains": value})
    cfg = model_config()
    field, desc = query.sort.lstrip("-"), query.sort.startswith("-")
    scores = (
        _health_scores(key) if query.band or field == "health" or "health" in query.cols else None
    )
    if query.band and scores is not None:
        in_band = {rid for rid, s in scores.items() if band(cfg, s) == query.band}
        if query.band == "cold":  # records without a score are cold too
            qs = qs.exclude(pk__in=[rid for rid in scores if rid not in in_band])
        else:
            qs = qs.filter(pk__in=in_band)
    if field == "last" or "last" in query.cols:
        qs = qs.annotate(last_contact=_last_contact(key))
    total = qs.count()
    pages = max((total + size - 1) // size, 1)
    if query.page > pages:
        raise ValidationError(f"page: {query.page} is past the last page ({pages})", field="page")
    start = (query.page - 1) * size
    if field == "health" and scores is not None:
        keyed = sorted(
            qs.values_list("id", "name_key"),
            key=lambda r: (scores.get(r[0], 0.0), r[1], r[0]),
            reverse=desc,
        )
        ids = [r[0] for r in keyed[start : start + size]]
        by_id = {r.id: r for r in _with_contacts(qs.filter(pk__in=ids))}
        records = [by_id[i] for i in ids if i in by_id]
    else:
        order = {"name": ["name_key", "id"], "created": ["created_at", "id"]}.get(
            field, ["last_contact", "name_key", "id"]
        )
        if desc:
            order = [f"-{o}" for o in order]
        records = list(_with_contacts(qs.order_by(*order))[start : start + size])
    jobs = employers(user, [r.id for r in records]) if "org" in query.cols else {}
    rows = []
    for r in records:
        contacts = contacts_of(r)
        cells: dict[str, Any] = {
            "email": contacts["emails"][0] if contacts["emails"] else "",
            "phone": contacts["phones"][0] if contacts["phones"] else "",
            "domain": contacts["domains"][0] if contacts["domains"] else "",
            "org": jobs.get(r.id, []),
        }
        if scores is not None:
            s = scores.get(r.id, 0.0)
            cells["health"] = {"score": round(s), "band": band(cfg, s)}
        last = getattr(r, "last_contact", None)
        cells["last"] = last if last is not None and last.year > 1900 else None
        for name in kinds:
            value = r.fields.get(name)
            cells[f"f.{name}"] = "" if value is None else value
        rows.append(
            {"id": r.id, "name": r.name, "deleted": r.deleted_at is not None, "cells": cells}
        )
    return {"rows": rows, "total": total, "pages": pages, "page": query.page, "size": size}


def saved_views(user: Any, type_key: str) -> list[dict[str, Any]]:
    """The user's own saved views of one list, by name."""
    from urllib.parse import urlencode

    from kith.web.models import SavedView

    return [
        {"id": v.id, "name": v.name, "query": urlencode(v.query, doseq=True)}
        for v in SavedView.objects.filter(user=user, type_key=type_key).order_by("name", "id")
    ]


# -- import jobs ------------------------------------------------------------------------------

IMPORT_STALE_SECONDS = 30  # a running job whose heartbeat is older than this has stopped
IMPORT_CHECK_MAX_BYTES = 512 * 1024  # files checked row by row (a dry run) on the preview page
IMPORT_JOBS_SHOWN = 20
REJECT_TYPES = {
    "vcard": (".vcf", "text/vcard"),
    "ics": (".ics", "text/calendar"),
    "json": (".json", "application/json"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "mbox": (".mbox", "application/mbox"),
    "eml": (".mbox", "application/mbox"),
}
_COUNT_LABELS = {
    "person_created": "people created",
    "person_matched": "people matched (already here)",
    "organization_created": "organisations created",
    "organization_matched": "organisations matched (already here)",
    "records_updated": "records updated",
    "relationships_created": "relationships created",
    "interactions_created": "interactions created",
    "interactions_already_there": "interactions already here",
    "interactions_skipped": "interactions skipped",
    "interactions_cancelled": "interactions cancelled",
    "interactions_cancelled_skipped": "cancelled events skipped",
    "skipped_empty": "rows skipped (nothing identifies them)",
}


def import_beat_path(job_id: str) -> str:
    """Where a running job's heartbeat is written when the database cannot take it (SQLite)."""
    import os
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"kith-import-{job_id}.json")


def import_job_file(job: Any) -> Any:
    """A context manager: the job's file written to a temporary folder, as a path."""
    import contextlib
    import os
    import tempfile

    @contextlib.contextmanager
    def written() -> Any:
        with tempfile.TemporaryDirectory(prefix="kith-import-") as tmp:
            path = os.path.join(tmp, job.filename or "upload")
            with open(path, "wb") as fh:
                fh.write(bytes(job.content))
            yield path

    return written()


def preview_file(path: str, fmt: str | None, mapping: list[str] | None = None) -> dict[str, Any]:
    """Format, preset, column mapping and sample rows of a file (kith.imports.preview)."""
    from kith.imports.preview import preview

    return preview(path=path, fmt=fmt or None, mapping=mapping)


def _job_query(user: Any) -> Any:
    from kith.accounts.selectors import is_admin
    from kith.web.models import ImportJob

    qs = ImportJob.objects.defer("content", "rejects").select_related("user")
    return qs if is_admin(user) else qs.filter(user=user)


def get_import_job(user: Any, job_id: str) -> Any:
    """The job (its file loaded only when used), if ``user`` started it or is an admin."""
    from kith.core.errors import NotFound

    job = _job_query(user).filter(pk=(job_id or "")[:32]).first()
    if job is None:
        raise NotFound(f"job: no import {job_id[:40]!r}", field="job")
    return job


def _beat(job: Any) -> tuple[int, int | None, float]:
    """(done, total, time of the last heartbeat) of a job, from the database or the file."""
    import json

    done, total, at = job.done, job.total, job.updated_at.timestamp()
    try:
        with open(import_beat_path(job.pk), encoding="utf-8") as fh:
            beat = json.load(fh)
        if float(beat["at"]) > at:
            done, total, at = int(beat["done"]), beat.get("total"), float(beat["at"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return done, total, at


def import_status(job: Any) -> str:
    """preview, running, done, failed, or stopped (running, but its heartbeat stopped)."""
    import time

    if job.status != "running":
        return str(job.status)
    _, _, at = _beat(job)
    return "stopped" if time.time() - at > IMPORT_STALE_SECONDS else "running"


def import_jobs(user: Any, *, limit: int = IMPORT_JOBS_SHOWN) -> list[dict[str, Any]]:
    """The user's newest imports (an admin's: everyone's), with status and a line of result."""
    rows = []
    for job in _job_query(user).order_by("-created_at", "-id")[:limit]:
        counts = job.report.get("counts") or {}
        created = sum(v for k, v in counts.items() if k.endswith("_created"))
        rows.append(
            {
                "id": job.pk,
                "filename": job.filename,
                "format": job.fmt,
                "status": import_status(job),
                "user": job.user.get_username(),
                "created_at": job.created_at,
                "created": created,
                "bad": job.report.get("bad_count", 0),
            }
        )
    return rows


def import_progress(job: Any) -> dict[str, Any]:
    """How far a running job is: done, total, percent, rate per second, seconds left."""
    import datetime
    import time

    status = import_status(job)
    done, total, _ = _beat(job)
    started = job.report.get("started_at")
    elapsed = 0.0
    if started:
        elapsed = max(time.time() - datetime.datetime.fromisoformat(started).timestamp(), 0.0)
    rate = done / elapsed if done and elapsed >= 0.5 else None
    left = None
    if rate and total and total > done:
        left = round((total - done) / rate)
    percent = min(round(done * 100 / total), 100) if total else None
    return {
        "status": status,
        "done": done,
        "total": total,
        "percent": percent,
        "rate": round(rate) if rate else None,
        "elapsed": round(elapsed),
        "left": left,
    }


def import_preview(job: Any) -> dict[str, Any]:
    """What the job's file holds and how its columns map, with the user's choices."""
    with import_job_file(job) as path:
        base = preview_file(path, job.fmt)
        mapping = list(job.options.get("mapping") or [])
        chosen = preview_file(path, job.fmt, mapping) if mapping else base
    for col, now in zip(base["columns"], chosen["columns"], strict=True):
        col["key"], col["label"] = now["key"], now["label"]
        col["changed"] = now["key"] != col["detected"]
    known = {value for value, _ in base["choices"]}
    base.update(
        mapping=mapping,
        skip_bad=bool(job.options.get("skip_bad")),
        bodies=bool(job.options.get("bodies")),
        size=len(job.content),
        checkable=len(job.content) <= IMPORT_CHECK_MAX_BYTES,
        known=known,
    )
    return base


def import_check(job: Any) -> dict[str, Any]:
    """A dry run of the job with its options: what would be created or matched, bad rows."""
    import os
    import tempfile

    from django.db import OperationalError

    from kith.core.errors import KithError
    from kith.imports.services import import_file

    if len(job.content) > IMPORT_CHECK_MAX_BYTES:
        return {"skipped": True}
    try:
        with import_job_file(job) as path, tempfile.TemporaryDirectory() as tmp:
            report = import_file(
                path=path,
                fmt=job.fmt,
                mapping=list(job.options.get("mapping") or []),
                dry_run=True,
                skip_bad=True,
                bodies=bool(job.options.get("bodies")),
                reject=os.path.join(tmp, "rejects"),
            )
    except KithError as exc:
        return {"error": exc.message}
    except OperationalError:
        return {"error": "The database is busy with another import; check again when it ends."}
    return {**report, "count_rows": count_rows(report.get("counts") or {})}


def count_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Import counts as (label, number), creations first."""
    order = sorted(counts, key=lambda k: (not k.endswith("_created"), k))
    return [(_COUNT_LABELS.get(k, k.replace("_", " ")), counts[k]) for k in order if counts[k]]


def import_report(user: Any, job: Any) -> dict[str, Any]:
    """The result of a finished (or failed) job: counts, rejected rows, records to open."""
    from kith.accounts.selectors import visible_q
    from kith.records.models import Record

    report = dict(job.report)
    ids = report.get("created_ids") or []
    created = []
    if ids:
        created = list(
            Record.objects.filter(visible_q(user), pk__in=ids, deleted_at__isnull=True)
            .order_by("type_id", "name_key", "id")
            .values("id", "name", "type_id")[:50]
        )
    return {
        **report,
        "status": import_status(job),
        "count_rows": count_rows(report.get("counts") or {}),
        "created_records": created,
        "has_rejects": bool(report.get("has_rejects")),
        "bad": report.get("bad") or [],
        "bad_count": report.get("bad_count", 0),
        "warnings": report.get("warnings") or [],
    }


def import_rejects(job: Any) -> tuple[str, bytes, str]:
    """The rejected rows of a job as a file to fix and import again: name, bytes, type."""
    import base64
    import os

    from kith.core.errors import NotFound

    if not job.rejects:
        raise NotFound("job: this import rejected no rows", field="job")
    ext, ctype = REJECT_TYPES.get(job.fmt, (".csv", "text/csv"))
    stem = os.path.splitext(job.filename)[0] or "import"
    data = (
        base64.b64decode(job.rejects)
        if job.report.get("rejects_base64")
        else job.rejects.encode("utf-8")
    )
    return f"{stem}.rejects{ext}", data, ctype


# duplicates review


def duplicate_pairs(
    user: Any, *, type_key: str | None = None, min_score: int = 50, limit: int = 100
) -> dict[str, Any]:
    """Likely duplicate pairs ``user`` may see, best first, with score and reasons.

    The search scores every candidate pair of the workspace, so its answer is kept while
    the records and relationships it reads are unchanged (``_memo``); hiding private
    records is done per user, after.
    """
    from kith.dedupe.selectors import find_duplicates
    from kith.server.redact import without_hidden

    found = _memo(
        f"duplicates:{type_key or ''}:{min_score}:{limit}",
        lambda: find_duplicates(type_key=type_key, min_score=min_score, limit=limit),
    )
    return dict(without_hidden(user, found))


def _record_side(user: Any, record: Any) -> dict[str, Any]:
    import datetime

    from django.db.models import Q

    from kith.accounts.selectors import visible_q
    from kith.interactions.models import Interaction, InteractionLink, Participant
    from kith.records.selectors import contacts_of
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import active_on

    orgs = list(
        Relationship.objects.filter(
            active_on(datetime.date.today()),
            visible_q(user, "to_record__"),
            from_record=record,
            type__rollup=True,
            to_record__deleted_at__isnull=True,
        )
        .order_by("to_record__name_key", "id")
        .values("to_record_id", "to_record__name", "role")
    )
    touching = Q(from_record=record) | Q(to_record=record)
    part = Participant.objects.filter(record=record).values("interaction_id")
    link = InteractionLink.objects.filter(record=record).values("interaction_id")
    return {
        "id": record.id,
        "name": record.name,
        "type": record.type_id,
        "fields": dict(record.fields),
        **contacts_of(record),
        "orgs": [
            {"id": o["to_record_id"], "name": o["to_record__name"], "role": o["role"]} for o in orgs
        ],
        "relationships": Relationship.objects.filter(touching).count(),
        "interactions": Interaction.objects.filter(Q(pk__in=part) | Q(pk__in=link)).count(),
        "created_at": record.created_at,
        "deleted": record.deleted_at is not None,
        "merged_into": record.merged_into,
    }


def pair_sides(user: Any, keep_ref: str, other_ref: str) -> dict[str, Any]:
    """Two records side by side: every field and contact, ties and counts, what differs.

    ``problem`` says why they cannot be merged (one already merged or deleted, the same
    record, different types); a private record ``user`` may not see is not found.
    """
    from django.db.models import Prefetch

    from kith.records.models import ContactPoint, Record
    from kith.server.queries import visible_record

    refs = [(keep_ref or "")[:320], (other_ref or "")[:320]]
    keep = visible_record(user, refs[0], field="keep", deleted=True)
    other = visible_record(user, refs[1], field="other", deleted=True)
    loaded = {
        r.id: r
        for r in Record.objects.filter(pk__in=[keep.id, other.id]).prefetch_related(
            Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
        )
    }
    sides = [_record_side(user, loaded[keep.id]), _record_side(user, loaded[other.id])]
    problem, merged = "", None
    for side in sides:
        if side["merged_into"]:
            problem = f"{side['name']} ({side['id']}) was already merged into another record."
            target = Record.objects.filter(pk=side["merged_into"]).first()
            if target is not None and not user_cannot_see(user, target):
                merged = {"id": target.id, "name": target.name}
            break
        if side["deleted"]:
            problem = f"{side['name']} ({side['id']}) is deleted; restore it to merge it."
            break
    if not problem and keep.id == other.id:
        problem = "These are the same record."
    elif not problem and keep.type_id != other.type_id:
        problem = f"{keep.name} is a {keep.type_id} and {other.name} a {other.type_id}; only "
        problem += "records of one type merge."
    a, b = sides
    fields = sorted(set(a["fields"]) | set(b["fields"]))
    rows = [
        {
            "label": name.replace("_", " ").capitalize(),
            "keep": a["fields"].get(name),
            "other": b["fields"].get(name),
            "added": name not in a["fields"],  # the merge fills it from the other
        }
        for name in fields
    ]
    for row in rows:
        row["differs"] = row["keep"] != row["other"]
    return {"keep": a, "other": b, "rows": rows, "problem": problem, "merged": merged}


def user_cannot_see(user: Any, record: Any) -> bool:
    from kith.accounts.selectors import can_see

    return not can_see(user, record)


def can_undo_merge(user: Any, merge: Any) -> bool:
    """Whether ``user`` may undo ``merge``: admins any, members their own, once."""
    from kith.accounts.selectors import role_of

    role = role_of(user)
    if merge.undone_at is not None or role not in ("member", "admin"):
        return False
    return bool(role == "admin" or merge.actor == user.get_username())


def _merge_rows(user: Any, merges: list[Any]) -> list[dict[str, Any]]:
    from kith.accounts.selectors import hidden_ids
    from kith.dedupe.selectors import merge_view

    hidden = hidden_ids(user, [i for m in merges for i in (m.keep_id, m.other_id)])
    return [
        {**merge_view(m), "can_undo": can_undo_merge(user, m)}
        for m in merges
        if m.keep_id not in hidden and m.other_id not in hidden
    ]


def recent_merges(user: Any, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest merges ``user`` may see (both records visible), with undo where allowed."""
    from kith.dedupe.models import Merge

    return _merge_rows(user, list(Merge.objects.defer("snapshot").order_by("-at", "-id")[:limit]))


def merge_detail(user: Any, merge_id: str) -> dict[str, Any]:
    """One merge: what moved, what was filled in, what differed; may ``user`` undo it."""
    from kith.core.errors import NotFound
    from kith.dedupe.models import Merge

    merge = Merge.objects.defer("snapshot").filter(pk=(merge_id or "")[:40]).first()
    rows = _merge_rows(user, [merge]) if merge is not None else []
    if not rows:
        raise NotFound(f"merge: no merge {merge_id[:40]!r}", field="merge")
    return rows[0]
