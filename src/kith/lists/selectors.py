"""Reads of record lists: the state a query names, its columns, one page, saved views.

One list engine for every interface: the web's list pages and the API's ``/lists`` give
the same rows for the same query parameters. Every read takes the acting ``Viewer`` and
leaves out, in the query, the private records it may not see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    DateTimeField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from kith.core import clock
from kith.core.errors import KithError, NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.intelligence.attention import SCORED_TYPES, health_scores, page_scores, today
from kith.intelligence.conf import band, model_config
from kith.intelligence.kept_selectors import (
    count_in_band,
    health_page,
    in_band,
    kept_for,
    kept_scores,
    order_by_health,
)
from kith.interactions.models import InteractionLink, Participant
from kith.lists.models import SavedView
from kith.records.models import FieldDef, Record
from kith.records.search import check_search, search_q, with_contacts
from kith.records.selectors import (
    contacts_of,
    field_defs,
    hides_any,
    resolve,
    tagged_q,
    tags_of,
    visible_q,
)
from kith.records.tags import TAG_MAX
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on, employers

BANDS = ("strong", "good", "fair", "weak", "cold")
PAGE_SIZE = 50
SORTS = {"name": "name", "created": "created", "last": "last contact", "health": "health"}
BASE_COLUMNS = {
    "email": "Email",
    "phone": "Phone",
    "domain": "Domain",
    "org": "Organisation",
    "health": "Health",
    "last": "Last contact",
    "tags": "Tags",
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
    tag: str = ""
    deleted: bool = False
    sort: str = "name"
    cols: list[str] = dataclasses.field(default_factory=list)
    cols_given: bool = False
    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    page: int = 1

    def params(self, *, page: bool = True) -> list[tuple[str, str]]:
        """The query string pairs of this state (defaults left out)."""
        out = [("q", self.q), ("org", self.org), ("band", self.band), ("tag", self.tag)]
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
        """The state as a saved view keeps it: parameter to values."""
        saved: dict[str, list[str]] = {}
        for k, v in self.params(page=False):
            saved.setdefault(k, []).append(v)
        return saved


# -- the state of a list --------------------------------------------------------------------


def list_columns(type_key: str) -> tuple[list[tuple[str, str]], list[str], list[FieldDef]]:
    """(key, label) of every column a list of ``type_key`` can show, the default ones, fields."""
    defs = field_defs(type_key)
    base = ["email", "phone", "domain"]
    if type_key == "person":
        base = ["email", "phone", "org"]
    if type_key in SCORED_TYPES:
        base.append("health")
    base += ["last", "tags"]
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
    viewer: Viewer, type_key: str, params: dict[str, list[str]]
) -> tuple[ListQuery, dict[str, str], list[FieldDef]]:
    """The list state named by query parameters, and a message per parameter that is wrong.

    ``org`` is resolved for the viewer: a private organisation it may not see is as
    unknown as one that does not exist.
    """
    columns, default, defs = list_columns(type_key)
    errors: dict[str, str] = {}
    query = ListQuery(type_key=type_key, cols=list(default))
    try:
        query.q = check_search(_one(params, "q"))
    except KithError as exc:
        errors["q"] = exc.message
    scored = type_key in SCORED_TYPES
    band_key = _one(params, "band").lower()
    if band_key and (band_key not in BANDS or not scored):
        errors["band"] = f"band: {band_key[:40]!r} is not one of {', '.join(BANDS)}"
        if not scored:
            errors["band"] = f"band: {type_key} records have no health"
    query.band = band_key if "band" not in errors else ""
    query.deleted = _one(params, "deleted").lower() in ("1", "true", "on", "yes")
    tag = " ".join(_one(params, "tag").split())
    if len(tag) > TAG_MAX or "," in tag:
        errors["tag"] = f"tag: {tag[:60]!r} is not a tag (no commas, at most {TAG_MAX} characters)"
    else:
        query.tag = tag
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
            found = _visible_org(viewer, org[:320])
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


def _visible_org(viewer: Viewer, ref: str) -> Record:
    """The organisation ``ref`` names among those the viewer may see (a hidden one is not
    found, exactly like a missing one)."""
    return resolve(viewer, ref, type_key="organization", field="org")


# -- one page of a list ---------------------------------------------------------------------


def _last_contact(type_key: str) -> Any:
    """The time of a record's newest interaction (organisations: also their people's)."""
    never = Value(dt.datetime(1900, 1, 1, tzinfo=dt.UTC), output_field=DateTimeField())

    def newest(qs: Any) -> Any:  # planned (future) interactions are no contact yet
        held = qs.filter(at__lte=clock.now())
        return Coalesce(Subquery(held.order_by("-at").values("at")[:1]), never)

    own = newest(Participant.objects.filter(record=OuterRef("pk")))
    if type_key == "person":
        return own
    linked = newest(InteractionLink.objects.filter(record=OuterRef("pk")))
    if type_key != "organization":
        return Greatest(own, linked)
    staff = Participant.objects.filter(
        Q(record__outgoing__until__isnull=True) | Q(record__outgoing__until__gt=today()),
        record__outgoing__to_record=OuterRef("pk"),
        record__outgoing__type__rollup=True,
    )
    return Greatest(own, linked, newest(staff))


def _filtered(viewer: Viewer, query: ListQuery, defs: list[FieldDef]) -> QuerySet[Record]:
    qs = Record.objects.filter(visible_q(viewer), type_id=query.type_key)
    if not query.deleted:
        qs = qs.filter(deleted_at__isnull=True)
    if query.q:
        qs = qs.filter(search_q(query.q))
    if query.tag:
        qs = qs.filter(tagged_q(query.tag))
    if query.org_id:
        staff = Relationship.objects.filter(
            active_on(today()), to_record_id=query.org_id, type__rollup=True
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
    return qs


def _banded(
    qs: QuerySet[Record], query: ListQuery, scores: dict[str, float] | None, cfg: Any
) -> QuerySet[Record]:
    """``qs`` narrowed to the query's health band (records without a score are cold)."""
    if not query.band or scores is None:
        return qs
    in_band = {rid for rid, s in scores.items() if band(cfg, s) == query.band}
    if query.band == "cold":
        return qs.exclude(pk__in=[rid for rid in scores if rid not in in_band])
    return qs.filter(pk__in=in_band)


def _plain(viewer: Viewer, query: ListQuery) -> bool:
    """Whether the list is every live record of its type, with nothing hidden from viewer."""
    filtered = query.q or query.org_id or query.fields or query.deleted or query.tag
    return not filtered and (viewer.sees_everything or not hides_any(viewer))


def _everyone(viewer: Viewer, query: ListQuery, defs: list[FieldDef]) -> QuerySet[Record]:
    """Every record the list names for ``viewer`` (all pages), as one query."""
    qs = _filtered(viewer, query, defs)
    if query.band and kept_for(viewer, query.type_key):
        return in_band(qs, query.type_key, query.band)
    scores = health_scores(viewer, query.type_key) if query.band else None
    return _banded(qs, query, scores, model_config())


def member_ids(viewer: Viewer, view: SavedView) -> set[str]:
    """Every record a saved view lists for ``viewer`` (all pages), by id."""
    query, errors, defs = parse_list_query(viewer, view.type_key, view.query)
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    return set(_everyone(viewer, query, defs).values_list("id", flat=True))


def selected(
    viewer: Viewer,
    type_key: str,
    params: dict[str, list[str]],
    *,
    ids: list[str] | None = None,
) -> QuerySet[Record]:
    """The records a list state names for ``viewer`` (every page), or only those of ``ids``
    among them (a selection of rows): what a bulk action or an export acts on.

    A parameter that is wrong is refused, naming it; an id that is not in the list (hidden,
    deleted, of another type or filtered out) is refused too, so a selection never reaches
    past what the viewer was shown.
    """
    query, errors, defs = parse_list_query(viewer, type_key, params)
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    qs = _everyone(viewer, query, defs)
    if ids is None:
        return qs.order_by("name_key", "id")
    wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not wanted:
        raise ValidationError("ids: select at least one record", field="ids")
    found = set(qs.filter(pk__in=wanted).values_list("id", flat=True))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationError(f"ids: {missing[0][:60]!r} is not in this list", field="ids")
    return qs.filter(pk__in=wanted).order_by("name_key", "id")


def list_page(
    viewer: Viewer, query: ListQuery, defs: list[FieldDef], *, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of the list: rows (cells per chosen column), total, pages."""
    key = query.type_key
    qs = _filtered(viewer, query, defs)
    cfg = model_config()
    field, desc = query.sort.lstrip("-"), query.sort.startswith("-")
    wants_health = bool(query.band) or field == "health" or "health" in query.cols
    # the kept scores (an index) when they are the viewer's; else computed: every score
    # only to filter or sort by it, and a column needs just the page's records
    kept = wants_health and key in SCORED_TYPES and kept_for(viewer, key)
    scores, total, ids = None, None, None
    start = (query.page - 1) * size
    if kept:
        # read from the score and band indexes, each row checked against the filters
        if field == "health" and query.band != "cold":
            ids = health_page(qs, key, band=query.band, desc=desc, offset=start, size=size)
        if query.band and query.band != "cold":
            total = count_in_band(qs, key, query.band, plain=_plain(viewer, query))
        qs = in_band(qs, key, query.band) if query.band else qs
    else:
        scores = health_scores(viewer, key) if query.band or field == "health" else None
        qs = _banded(qs, query, scores, cfg)
    plain_qs = qs  # without the last-contact column: ordered by name or creation, a page's
    # ids are found first, so the column is computed for that page only
    if field == "last" or "last" in query.cols:
        qs = qs.annotate(last_contact=_last_contact(key))
    total = qs.count() if total is None else total
    pages = max((total + size - 1) // size, 1)
    if query.page > pages:
        raise ValidationError(f"page: {query.page} is past the last page ({pages})", field="page")
    if ids is not None:
        by_id = {r.id: r for r in with_contacts(qs.filter(pk__in=ids))}
        records = [by_id[i] for i in ids if i in by_id]
    elif field == "health" and kept:  # the cold band (mostly records without a score)
        records = list(with_contacts(order_by_health(qs, desc=desc))[start : start + size])
    elif field == "health" and scores is not None:
        ranked = scores
        keyed = sorted(
            qs.values_list("id", "name_key"),
            key=lambda r: (ranked.get(r[0], 0.0), r[1], r[0]),
            reverse=desc,
        )
        ids = [r[0] for r in keyed[start : start + size]]
        by_id = {r.id: r for r in with_contacts(qs.filter(pk__in=ids))}
        records = [by_id[i] for i in ids if i in by_id]
    else:
        order = {"name": ["name_key", "id"], "created": ["created_at", "id"]}.get(
            field, ["last_contact", "name_key", "id"]
        )
        if desc:
            order = [f"-{o}" for o in order]
        if field == "last":
            records = list(with_contacts(qs.order_by(*order))[start : start + size])
        else:
            ordered = plain_qs.order_by(*order).values_list("id", flat=True)
            page = list(ordered[start : start + size])
            by_id = {r.id: r for r in with_contacts(qs.filter(pk__in=page))}
            records = [by_id[i] for i in page if i in by_id]
    if kept and "health" in query.cols:
        scores = kept_scores(key, [r.id for r in records])
    elif scores is None and "health" in query.cols:
        scores = page_scores(viewer, key, [r.id for r in records])
    jobs = employers(viewer, [r.id for r in records], day=today()) if "org" in query.cols else {}
    tags = tags_of(r.id for r in records) if "tags" in query.cols else {}
    kinds = [d.name for d in defs]
    rows = []
    for r in records:
        contacts = contacts_of(r)
        cells: dict[str, Any] = {
            "email": contacts["emails"][0] if contacts["emails"] else "",
            "phone": contacts["phones"][0] if contacts["phones"] else "",
            "domain": contacts["domains"][0] if contacts["domains"] else "",
            "org": jobs.get(r.id, []),
            "tags": tags.get(r.id, []),
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


def list_records(
    viewer: Viewer, type_key: str, params: dict[str, list[str]], *, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """The page a query names, for the API: parse it, refuse the first bad parameter, list."""
    query, errors, defs = parse_list_query(viewer, type_key, params)
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    data = list_page(viewer, query, defs, size=size)
    columns, _, _ = list_columns(type_key)
    data["columns"] = [{"key": k, "label": label} for k, label in columns if k in query.cols]
    data["query"] = urlencode(query.params())
    return data


# -- saved views ----------------------------------------------------------------------------


def saved_views(viewer: Viewer, type_key: str) -> list[dict[str, Any]]:
    """The viewer's own saved views of one list, by name."""
    if viewer.user_id is None:
        return []
    return [
        {
            "id": v.id,
            "name": v.name,
            "type": v.type_key,
            "params": v.query,
            "query": urlencode(v.query, doseq=True),
        }
        for v in SavedView.objects.filter(user_id=viewer.user_id, type_key=type_key).order_by(
            "name", "id"
        )
    ]


def saved_view_state(viewer: Viewer, view_id: str) -> tuple[str, dict[str, list[str]]]:
    """The type and list parameters of one of the viewer's saved views (an admin's: any)."""
    if not view_id.strip().isdigit():
        raise ValidationError(f"view: {view_id[:40]!r} is not a saved view's id", field="view")
    views = SavedView.objects.filter(pk=int(view_id))
    if not viewer.sees_everything:
        views = views.filter(user_id=viewer.user_id) if viewer.user_id is not None else views.none()
    view = views.first()
    if view is None:
        raise NotFound(f"view: no saved view {view_id}", field="view")
    return view.type_key, dict(view.query)
