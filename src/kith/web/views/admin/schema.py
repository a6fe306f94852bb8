"""Admin: the overview, custom record types and their fields, relationship types."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kith.accounts.selectors import audit_page, list_tokens, list_users
from kith.core import clock
from kith.core.errors import KithError, ValidationError
from kith.records.models import FieldKind
from kith.records.selectors import list_types
from kith.records.services import add_field as add
from kith.records.services import define_type
from kith.relationships.selectors import list_types as rel_types
from kith.relationships.services import add_type
from kith.web.views.admin.forms import (
    MAX_FIELD_ROWS,
    Form,
    done,
    get_list,
    get_text,
    message,
    render,
)
from kith.web.views.admin.people import token_state
from kith.web.views.base import signed_in
from kith.webhooks.selectors import list_webhooks

# -- overview ---------------------------------------------------------------------------------


@signed_in("admin")
@require_http_methods(["GET"])
def overview(request: HttpRequest) -> HttpResponse:
    types, rels, users = list_types(), rel_types(), list_users()
    tokens, hooks = list_tokens(), list_webhooks()
    recent, _ = audit_page(limit=10)
    now = clock.now().isoformat()
    counts = {
        "types": sum(not t["builtin"] for t in types),
        "fields": sum(len(t["fields"]) for t in types),
        "reltypes": sum(not r["builtin"] for r in rels),
        "reltypes_builtin": sum(r["builtin"] for r in rels),
        "users": sum(u["active"] for u in users),
        "disabled": sum(not u["active"] for u in users),
        "admins": sum(u["active"] and u["role"] == "admin" for u in users),
        "teams": len({u["team"] for u in users if u["team"]}),
        "tokens": sum(token_state(t, now) == "live" for t in tokens),
        "webhooks": len(hooks),
        "webhooks_active": sum(h["active"] for h in hooks),
    }
    return render(request, "home", {"title": "Admin", "counts": counts, "recent": recent})


# -- record types and fields ------------------------------------------------------------------


def _types_ctx(new: Form | None = None, add: Form | None = None, rows: int = 3) -> dict[str, Any]:
    types = list_types()
    adds = {t["key"]: Form(f"field-{t['key']}") for t in types}
    if add is not None:
        adds[add.id.removeprefix("field-")] = add
    return {
        "title": "Record types",
        "types": types,
        "kinds": [(k, k) for k in FieldKind.values],
        "new": new or Form("type-new"),
        "rows": rows,
        "adds": adds,
    }


def _spec(data: QueryDict, prefix: str) -> str | None:
    """The ``NAME:KIND[:CHOICES][!]`` spec of one field row; None when the row is blank."""
    name = get_text(data, f"{prefix}name", max_len=60)
    kind = get_text(data, f"{prefix}kind", max_len=10) or "text"
    choices = get_text(data, f"{prefix}choices", max_len=2000)
    if not name:
        if choices:
            raise ValidationError(f"{prefix}name: name this field", field=f"{prefix}name")
        return None
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ -]*", name):
        raise ValidationError(
            f"{prefix}name: {name!r} must start with a letter and use only a-z, 0-9 and _",
            field=f"{prefix}name",
        )
    if kind not in FieldKind.values:
        raise ValidationError(f"{prefix}kind: {kind!r} is not a field kind", field=f"{prefix}kind")
    if kind == "choice" and not choices:
        raise ValidationError(
            f"{prefix}choices: list the options, e.g. gold|silver|bronze", field=f"{prefix}choices"
        )
    if kind != "choice" and choices:
        raise ValidationError(
            f"{prefix}choices: only choice fields take options", field=f"{prefix}choices"
        )
    required = "!" if data.get(f"{prefix}required") else ""
    return f"{name}:{kind}" + (f":{choices}" if choices else "") + required


def _slug(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def types_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "types", _types_ctx())

    data = request.POST
    sent = [int(m.group(1)) for k in data if (m := re.fullmatch(r"f(\d{1,2})-name", k))]
    rows = min(max([3, *(i + 1 for i in sent)]), MAX_FIELD_ROWS)
    row_controls = [f"f{i}-{c}" for i in range(rows) for c in ("name", "kind", "choices")]
    form = Form("type-new", ("key", "label", *row_controls), data)
    specs: list[tuple[int, str]] = []
    key = _collect(form, lambda: get_text(data, "key", max_len=40))
    label = _collect(form, lambda: get_text(data, "label", max_len=80))
    if not key and "key" not in form.errors:
        form.errors["key"] = "Name the type, e.g. vendor"
    seen: set[str] = set()
    for i in range(rows):  # every row's error at once, each next to its control
        spec = _collect(form, functools.partial(_spec, data, f"f{i}-"))
        if not spec:
            continue
        name = _slug(spec.split(":")[0])
        if name in seen:
            form.errors[f"f{i}-name"] = "The type already has this field"
        seen.add(name)
        specs.append((i, spec))
    if form.errors:
        return render(request, "types", _types_ctx(new=form, rows=rows), status=400)
    try:
        rtype = define_type(key=key, label=label or None, fields=[s for _, s in specs])
    except KithError as exc:
        status = form.fail(exc, {"type": "key", "field": _row_of(exc, specs)})
        return render(request, "types", _types_ctx(new=form, rows=rows), status=status)
    notice = f"Record type {rtype.label} ({rtype.key}) defined with {len(specs)} field(s)."
    return done(request, "types", _types_ctx, notice, reverse("admin-types"))


def _collect(form: Form, read: Callable[[], str | None]) -> str:
    """``read()``, or ``""`` with its error put next to its control."""
    try:
        return read() or ""
    except KithError as exc:
        form.fail(exc)
        return ""


def _row_of(exc: KithError, specs: list[tuple[int, str]]) -> str:
    """The field row a service error names (it quotes the field's name)."""
    for i, spec in specs:
        if repr(_slug(spec.split(":")[0])) in exc.message:
            return f"f{i}-name"
    return "__all__"


@signed_in("admin")
@require_POST
def add_field(request: HttpRequest, key: str) -> HttpResponse:
    form = Form(f"field-{key}", ("name", "kind", "choices"), request.POST)
    try:
        spec = _spec(request.POST, "")
        if spec is None:
            raise ValidationError("name: name the field", field="name")
        fdef = add(type_key=key, spec=spec)
    except KithError as exc:
        status = form.fail(exc, {"field": "name"})
        ctx = _types_ctx(add=form)
        if key not in {t["key"] for t in ctx["types"]}:
            ctx["new"].errors["__all__"] = message(exc)
        return render(request, "types", ctx, status=status)
    notice = f"Field {fdef.name} ({fdef.kind}) added to {fdef.record_type_id}."
    return done(request, "types", _types_ctx, notice, reverse("admin-types"))


# -- relationship types -----------------------------------------------------------------------


def _reltypes_ctx(new: Form | None = None) -> dict[str, Any]:
    return {
        "title": "Relationship types",
        "reltypes": rel_types(),
        "record_types": [(t["key"], t["label"]) for t in list_types()],
        "new": new or Form("reltype-new"),
    }


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def reltypes_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "reltypes", _reltypes_ctx())

    data = request.POST
    form = Form("reltype-new", ("name", "inverse", "from", "to"), data)
    try:
        name = get_text(data, "name", max_len=60)
        if not name:
            raise ValidationError("name: name the type, e.g. advises", field="name")
        rtype = add_type(
            name=name,
            inverse=get_text(data, "inverse", max_len=60) or None,
            symmetric=bool(data.get("symmetric")),
            from_types=get_list(data, "from", max_len=60),
            to_types=get_list(data, "to", max_len=60),
            rollup=bool(data.get("rollup")),
        )
    except KithError as exc:
        status = form.fail(exc)
        return render(request, "reltypes", _reltypes_ctx(form), status=status)
    notice = f"Relationship type {rtype.key} added."
    return done(request, "reltypes", _reltypes_ctx, notice, reverse("admin-reltypes"))
