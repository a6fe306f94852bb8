"""Pages: create a person, an organisation or a record of a custom type, with its first
relationships (a person at two organisations, or the record "Add a relationship" did not
find), owned by the user who creates it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from kith.accounts.services import Link, create_record
from kith.core.errors import KithError, ValidationError
from kith.records.selectors import field_defs, get_type, resolve
from kith.web.views.base import notify, page, safe_next, signed_in, viewer

JOBS = 3  # organisation rows on a new person's form
CONTACTS = {"person": ("email", "phone"), "organization": ("domain",)}


def _values(data: Any, type_key: str) -> dict[str, str]:
    """What the form holds, each value cut to its field's size."""
    keys = ["name", "email", "phone", "domain", "link_type", "link_to", "link_role", "next"]
    keys += [f"org{i}" for i in range(1, JOBS + 1)] + [f"role{i}" for i in range(1, JOBS + 1)]
    keys += [f"f.{d.name}" for d in field_defs(type_key)]
    return {k: str(data.get(k, "") or "")[:2000].strip() for k in keys}


def _links(values: dict[str, str], type_key: str) -> list[Link]:
    links = []
    if type_key == "person":
        for i in range(1, JOBS + 1):
            org, role = values[f"org{i}"], values[f"role{i}"]
            if role and not org:
                message = f"org{i}: give the organisation of the role {role!r}"
                raise ValidationError(message, field=f"org{i}")
            if org:
                links.append(Link("works_at", org[:320], role[:200], True, f"org{i}"))
    if values["link_type"] and values["link_to"]:
        # "Add a relationship" on LINK_TO found no match: LINK_TO TYPE <this new record>
        links.append(
            Link(values["link_type"][:60], values["link_to"][:320], values["link_role"][:200],
                 False, "link_to")
        )  # fmt: skip
    return links


@require_http_methods(["GET", "POST"])
@signed_in("member")
def new_record(request: HttpRequest, type_key: str) -> HttpResponse:
    """The form (prefilled from the query string: name, org1, link_type, link_to) and its
    submission; errors are shown next to the control at fault."""
    rtype = get_type(type_key)
    defs = field_defs(rtype.key)
    data = request.POST if request.method == "POST" else request.GET
    values = _values(data, rtype.key)
    errors: dict[str, str] = {}
    link_name = ""
    if values["link_to"]:
        try:
            link_name = resolve(viewer(request), values["link_to"][:320], field="link_to").name
        except KithError as exc:
            errors["link_to"] = exc.message
    if request.method == "POST" and not errors:
        kinds = CONTACTS.get(rtype.key, ("email", "phone"))
        try:
            record, made = create_record(
                user=request.user,  # type: ignore[arg-type]
                type_key=rtype.key,
                name=values["name"],
                private=request.POST.get("private") == "1",
                fields={d.name: values[f"f.{d.name}"] for d in defs if values[f"f.{d.name}"]},
                emails=[values["email"]] if "email" in kinds else [],
                phones=[values["phone"]] if "phone" in kinds else [],
                domains=[values["domain"]] if "domain" in kinds else [],
                links=_links(values, rtype.key),
                create_missing=request.POST.get("create_missing") == "1",
            )
        except KithError as exc:
            field = exc.field or "name"
            key = f"f.{field}" if f"f.{field}" in values else field
            errors[key if key in values or key == "private" else "__all__"] = exc.message
        else:
            extra = f" (and {', '.join(m.name for m in made)})" if made else ""
            notify(request, f"Created {record.name}{extra}.")
            back = safe_next(request, "")
            return HttpResponseRedirect(back or reverse("record", args=[record.id]))
    ctx = {
        "rtype": rtype,
        "defs": defs,
        "values": values,
        "errors": errors,
        "jobs": range(1, JOBS + 1),
        "contacts": CONTACTS.get(rtype.key, ("email", "phone")),
        "link_name": link_name,
        "create_missing": request.POST.get("create_missing") == "1",
    }
    return page(request, "web/record_new.html", ctx, status=400 if errors else 200)


urlpatterns = [path("new/<str:type_key>", new_record, name="record-new")]
