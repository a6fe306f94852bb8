"""Pages: one record (any type) with its fields, relationships, timeline and health."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from kith.accounts.selectors import viewer_of
from kith.core import clock
from kith.core.errors import Conflict, KithError, NotFound, ValidationError
from kith.interactions.selectors import check_correctable
from kith.interactions.services import (
    check_participants,
    delete_interaction,
    edit_interaction,
    log_interaction,
    restore_interaction,
)
from kith.records.models import Record
from kith.records.selectors import records_page, reloaded, resolve
from kith.records.services import delete_record, restore_record, update_record
from kith.relationships.selectors import other_end_types, record_history, visible_relationship
from kith.relationships.services import end_relationship
from kith.relationships.services import relate as add
from kith.web.views.base import at_least, error_page, is_htmx, notify, page, signed_in
from kith.web.views.record_data import (
    errors_of,
    field_row,
    for_writing,
    get_record,
    health_panel,
    page_context,
    parse_as_of,
    text_input,
    timeline_page,
)

HISTORY_PAGE = 100
# service fields (relate, log_interaction) to the form control at fault
REL_FIELDS = {"b": "other", "other": "other", "type": "type", "since": "since"}
REL_FIELDS |= {"until": "until", "role": "role", "note": "note"}
LOG_FIELDS = {"kind": "kind", "with": "with", "link": "with", "at": "at", "subject": "subject"}
LOG_FIELDS |= {"direction": "direction", "sentiment": "sentiment", "participants": "with"}


# -- pages and fragments ------------------------------------------------------------------------


@require_GET
@signed_in()
def record_page(request: HttpRequest, rid: str) -> HttpResponse:
    record = get_record(request, rid)
    as_of, raw, error = parse_as_of(request)
    ctx = page_context(request, record, as_of)
    ctx.update(as_of_text=raw, as_of_error=error)
    return page(request, "web/record.html", ctx, status=400 if error else 200)


@require_GET
@signed_in("member")
def field_edit(request: HttpRequest, rid: str, name: str) -> HttpResponse:
    record = for_writing(request, rid)
    row = field_row(record, name)
    version = str(request.GET.get("version", "") or record.version)[:12]
    ctx = {"record": record, "f": row, "value": row["value"], "version": version, "error": ""}
    template = "web/_record_field_form.html" if is_htmx(request) else "web/record_field.html"
    return page(request, template, ctx)


@signed_in()
def field(request: HttpRequest, rid: str, name: str) -> HttpResponse:
    """GET: the field as shown (cancel an edit). POST: save it with the version read."""
    if request.method == "GET":
        record = get_record(request, rid)
        ctx = {"record": record, "f": field_row(record, name)}
        return page(request, "web/_record_field.html", ctx)
    if request.method != "POST":
        return error_page(request, 405, "Not allowed", "Use GET or POST here.")
    if not at_least(request, "member"):
        return error_page(request, 403, "Not allowed", "Changing records needs the member role.")
    return save_field(request, rid, name)


def save_field(request: HttpRequest, rid: str, name: str) -> HttpResponse:
    record = for_writing(request, rid)
    row = field_row(record, name)
    raw_version = str(request.POST.get("version", "")).strip()
    value = str(request.POST.get("value", ""))
    error, status = "", 200
    try:
        version = int(raw_version) if raw_version else None
    except ValueError:
        version, error, status = None, f"version: {raw_version[:20]!r} is not a number", 400
    if not error:
        try:
            value = text_input(request.POST, "value", max_len=10_000, label=row["label"])
            record = update_record(
                ref=record.id,
                values={name: value},
                expected_version=version,
                by=viewer_of(request.user),
            )
        except Conflict as exc:
            fresh = get_record(request, record.id)
            error, status = (
                f"Someone changed this record since you opened it (it is now at version "
                f"{fresh.version}, you had {version}). Reload the page to see their change, "
                "then edit again.",
                409,
            )
            if exc.field != "version":
                error = exc.message
        except KithError as exc:
            error, status = exc.message, 422
    if error:
        ctx = {"record": record, "f": row, "value": value, "version": raw_version, "error": error}
        template = "web/_record_field_form.html" if is_htmx(request) else "web/record_field.html"
        return page(request, template, ctx, status=status)
    if not is_htmx(request):
        notify(request, f"Saved {row['label'].lower()}.")
        return HttpResponseRedirect(reverse("record", args=[record.id]))

    fresh = reloaded(record)
    ctx = {"record": fresh, "f": field_row(fresh, name), "oob": True}
    return page(request, "web/_record_field.html", ctx)


@require_POST
@signed_in("member")
def delete(request: HttpRequest, rid: str) -> HttpResponse:
    record = for_writing(request, rid)
    delete_record(ref=record.id)
    notify(request, f"Deleted {record.name}. You can restore it from this page.")
    return HttpResponseRedirect(reverse("record", args=[record.id]))


@require_POST
@signed_in("member")
def restore(request: HttpRequest, rid: str) -> HttpResponse:
    record = get_record(request, rid)
    restore_record(ref=record.id)
    notify(request, f"Restored {record.name}.")
    return HttpResponseRedirect(reverse("record", args=[record.id]))


@require_GET
@signed_in()
def history(request: HttpRequest, rid: str) -> HttpResponse:
    record = get_record(request, rid)
    cursor = str(request.GET.get("cursor", ""))[:500] or None
    try:
        items, more = record_history(
            viewer_of(request.user), record, cursor=cursor, limit=HISTORY_PAGE, newest_first=True
        )
    except KithError as exc:
        return error_page(request, 400, "Bad page", str(exc))
    ctx = {"record": record, "items": items, "first": cursor is None, "more": more}
    return page(request, "web/record_history.html", ctx)


FRAGMENT_PARTS = {
    "web/_record_rels.html": frozenset({"relationships"}),
    "web/_record_activity.html": frozenset({"activity", "health"}),
}


def panel_or_page(
    request: HttpRequest, record: Record, template: str, extra: dict[str, Any], status: int
) -> HttpResponse:
    """A panel fragment for htmx, else the whole page (with ``extra``) for plain forms."""
    if is_htmx(request):
        ctx = page_context(request, record, None, FRAGMENT_PARTS[template])
        ctx.update(extra)
        return page(request, template, ctx, status=status)
    ctx = page_context(request, record, None)
    ctx.update(extra)
    ctx.update(as_of_text="", as_of_error="")
    return page(request, "web/record.html", ctx, status=400 if status >= 400 else status)


@require_POST
@signed_in("member")
def relate(request: HttpRequest, rid: str) -> HttpResponse:
    record = for_writing(request, rid)
    values: dict[str, str] = {}
    try:
        limits = {"type": 60, "other": 320, "role": 200, "since": 20, "until": 20, "note": 5000}
        for name, size in limits.items():
            values[name] = text_input(request.POST, name, max_len=size)
        if not values["type"]:
            raise ValidationError("type: choose how they are related", field="type")
        if not values["other"]:
            raise ValidationError(
                "other: give the other record's id, email or exact name", field="other"
            )
        other = resolve(viewer_of(request.user), values["other"], field="other")
        rel = add(
            a=record.id,
            type_name=values["type"],
            b=other.id,
            role=values["role"],
            since=values["since"] or None,
            until=values["until"] or None,
            note=values["note"],
            source="web",
            a_field="record",
            b_field="other",
        )
    except KithError as exc:
        extra: dict[str, Any] = {
            "rel_errors": errors_of(exc, REL_FIELDS, "other"),
            "rel_values": values,
        }
        if isinstance(exc, NotFound) and exc.field == "other" and values.get("type"):
            # create-on-the-fly: the missing record by what was typed, related to this one
            kinds = other_end_types(values["type"], record.type_id)
            extra["create_links"] = [
                (kind, reverse("record-new", args=[kind]) + "?" + urlencode(
                    {"name": values["other"], "link_to": record.id, "link_type": values["type"],
                     "link_role": values.get("role", "")}))
                for kind in (kinds if kinds is not None else ["person", "organization"])
            ]  # fmt: skip
        return panel_or_page(request, record, "web/_record_rels.html", extra, 422)
    said = f"Added: {record.name} {values['type'].replace('_', ' ')} {other.name}."
    if not is_htmx(request):
        notify(request, said)
        return HttpResponseRedirect(reverse("record", args=[record.id]) + "#relationships")
    extra = {"rel_notice": said, "rel_new": rel.id}
    return panel_or_page(request, record, "web/_record_rels.html", extra, 201)


@require_POST
@signed_in("member")
def end_relation(request: HttpRequest, rid: str, rel_id: str) -> HttpResponse:
    record = for_writing(request, rid)
    try:
        rel = visible_relationship(viewer_of(request.user), rel_id[:40])
    except NotFound:
        rel = None
    if rel is None or record.id not in {rel.from_record_id, rel.to_record_id}:
        raise NotFound(f"rel_id: {record.name} has no relationship {rel_id[:40]!r}", field="rel_id")
    try:
        on = text_input(request.POST, "on", max_len=20) or None
        end_relationship(rel_id=rel.id, on=on)
    except KithError as exc:
        extra = {"rel_errors": {f"end-{rel.id}": exc.message.removeprefix("on: ")}}
        return panel_or_page(request, record, "web/_record_rels.html", extra, 422)
    said = f"Ended {rel.type_id.replace('_', ' ')} on {on or clock.local_today().isoformat()}."
    if not is_htmx(request):
        notify(request, said)
        return HttpResponseRedirect(reverse("record", args=[record.id]) + "#relationships")
    return panel_or_page(request, record, "web/_record_rels.html", {"rel_notice": said}, 200)


@require_GET
@signed_in()
def timeline(request: HttpRequest, rid: str) -> HttpResponse:
    """More of the timeline, after the ``more`` cursor (htmx: list items; else a page)."""
    record = get_record(request, rid)
    as_of, raw, error = parse_as_of(request)
    if error:
        return error_page(request, 400, "Bad date", f"As of: {error}")
    try:
        items, more = timeline_page(request, record, as_of, str(request.GET.get("more", ""))[:200])
    except ValidationError as exc:
        return error_page(request, 400, "Bad link", exc.message)
    ctx = {"record": record, "timeline": items, "more": more, "as_of": raw}
    template = "web/_record_timeline_items.html" if is_htmx(request) else "web/record_timeline.html"
    return page(request, template, ctx)


@require_POST
@signed_in("member")
def log(request: HttpRequest, rid: str) -> HttpResponse:
    record = for_writing(request, rid)
    values: dict[str, str] = {}
    try:
        limits = {"kind": 40, "our_side": 40, "with_more": 200_000, "subject": 500, "at": 40}
        limits |= {"body": 100_000, "direction": 10, "sentiment": 10}
        for name, size in limits.items():
            values[name] = text_input(request.POST, name, max_len=size)
        people: list[tuple[str, str | None]] = []
        links: list[str] = []
        if record.type_id == "person":
            people.append((record.id, None))
        else:
            links.append(record.id)
        refs = [line.strip() for line in values["with_more"].splitlines() if line.strip()]
        check_participants(len(people) + len(refs) + (1 if values["our_side"] else 0))
        for ref in [values["our_side"], *refs]:
            if ref:
                values["missing"] = ref  # named by the error if it is not found
                other = resolve(viewer_of(request.user), ref, field="with")
                if other.id != record.id:
                    people.append((other.id, None))
        log_interaction(
            kind=values["kind"] or "call",
            participants=people,
            links=links,
            at=values["at"] or None,
            subject=values["subject"],
            body=values["body"],
            direction=values["direction"] or None,
            sentiment=values["sentiment"] or None,
            source="web",
        )
    except KithError as exc:
        extra: dict[str, Any] = {
            "log_errors": errors_of(exc, LOG_FIELDS, "with"),
            "log_values": values,
        }
        typed = values.get("missing", "")
        if isinstance(exc, NotFound) and exc.field == "with" and typed and "@" not in typed:
            # create-on-the-fly: a new person by what was typed, then back here
            back = reverse("record", args=[record.id]) + "#timeline"
            extra["create_links"] = [
                ("person", reverse("record-new", args=["person"]) + "?"
                 + urlencode({"name": typed, "next": back}))
            ]  # fmt: skip
        return panel_or_page(request, record, "web/_record_activity.html", extra, 422)
    said = f"Logged the {values['kind'] or 'call'}."
    if not is_htmx(request):
        notify(request, said)
        return HttpResponseRedirect(reverse("record", args=[record.id]) + "#timeline")
    extra = {"log_notice": said, "health_oob": True}
    return panel_or_page(request, record, "web/_record_activity.html", extra, 201)


@require_POST
@signed_in("member")
def correct_interaction(request: HttpRequest, rid: str, iid: str, action: str) -> HttpResponse:
    """Edit, delete or restore one interaction of the timeline (the activity panel again)."""
    record = for_writing(request, rid)
    extra: dict[str, Any] = {"health_oob": True}
    try:
        key = check_correctable(viewer_of(request.user), iid)
        if action == "edit":
            values = {
                name: text_input(request.POST, name, max_len=size, label=name)
                for name, size in (("subject", 500), ("at", 40), ("outcome", 200))
            }
            found = edit_interaction(interaction_id=key, values=values)
            extra["log_notice"] = f"Corrected the {found.kind}."
        elif action == "delete":
            found = delete_interaction(interaction_id=key)
            extra.update(log_notice=f"Deleted the {found.kind}.", undo_id=found.id)
        else:
            found = restore_interaction(interaction_id=key)
            extra["log_notice"] = f"Restored the {found.kind}."
    except KithError as exc:
        extra = {"correct_error": exc.message}
        return panel_or_page(request, record, "web/_record_activity.html", extra, 422)
    if not is_htmx(request):
        notify(request, extra["log_notice"])
        return HttpResponseRedirect(reverse("record", args=[record.id]) + "#timeline")
    return panel_or_page(request, record, "web/_record_activity.html", extra, 200)


@require_GET
@signed_in()
def health_fragment(request: HttpRequest, rid: str) -> HttpResponse:
    """The health panel with its monthly trend (htmx loads it after the page; else a page)."""
    record = get_record(request, rid)
    as_of, _, error = parse_as_of(request)
    if error:
        return error_page(request, 400, "Bad date", f"As of: {error}")
    ctx = {
        "record": record,
        "health": health_panel(request, record, as_of, trend=True),
        "as_of": as_of.isoformat() if as_of else "",
        "spark_oob": is_htmx(request),
    }
    template = "web/_record_health.html" if is_htmx(request) else "web/record_health.html"
    return page(request, template, ctx)


@require_GET
@signed_in()
def suggest(request: HttpRequest, rid: str) -> HttpResponse:
    """Records matching what was typed, as options of the reference field's datalist."""
    term = str(request.GET.get("other", "") or request.GET.get("q", "")).strip()[:100]
    rel_type = str(request.GET.get("type", "")).strip()[:60]
    record = get_record(request, rid)
    # only records the chosen relationship type can join ("works at": organisations)
    kinds = other_end_types(rel_type, record.type_id) if rel_type else None
    found: list[dict[str, Any]] = []
    if len(term) >= 2:
        for kind in [None] if kinds is None else kinds:
            found += records_page(viewer_of(request.user), q=term, limit=8, type_key=kind)[0]
    items = [r for r in found if r["id"] != rid][:8]
    return page(request, "web/_record_suggest.html", {"items": items})


urlpatterns = [
    path("records/<str:rid>", record_page, name="record"),
    path("records/<str:rid>/fields/<slug:name>", field, name="record-field"),
    path("records/<str:rid>/fields/<slug:name>/edit", field_edit, name="record-field-edit"),
    path("records/<str:rid>/delete", delete, name="record-delete"),
    path("records/<str:rid>/restore", restore, name="record-restore"),
    path("records/<str:rid>/history", history, name="record-history"),
    path("records/<str:rid>/relationships", relate, name="record-relate"),
    path("records/<str:rid>/relationships/<str:rel_id>/end", end_relation, name="record-end"),
    path("records/<str:rid>/timeline", timeline, name="record-timeline"),
    path("records/<str:rid>/interactions", log, name="record-log"),
    *[
        path(
            f"records/<str:rid>/interactions/<str:iid>/{action}",
            correct_interaction,
            {"action": action},
            name=f"record-interaction-{action}",
        )
        for action in ("edit", "delete", "restore")
    ],
    path("records/<str:rid>/health", health_fragment, name="record-health"),
    path("records/<str:rid>/suggest", suggest, name="record-suggest"),
]
