"""Pages: tasks (mine, overdue, all, by record), the record page's tasks and keep-in-touch
section, and the add / done / snooze / open-a-cadence-task forms (htmx, CSRF)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import KithError
from kith.records.selectors import resolve
from kith.tasks import cadence_selectors as csel
from kith.tasks.cadence_services import open_cadence_task
from kith.tasks.selectors import task_detail, tasks_for
from kith.tasks.services import complete_task, create_task, snooze_task
from kith.web.views.base import is_htmx, notify, page, safe_next, signed_in, viewer
from kith.web.views.record_data import get_record, text_input

TABS = {
    "mine": "My open tasks",
    "overdue": "Overdue tasks",
    "all": "All open tasks",
    "theirs": "What others promised us",
    "done": "Done",
}


@require_GET
@signed_in()
def tasks_page(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("show", "mine")
    tab = tab if tab in TABS else "mine"
    who = viewer(request)
    about_ref = str(request.GET.get("about", "")).strip()[:320]
    about = resolve(who, about_ref, field="about") if about_ref else None
    cursor = str(request.GET.get("cursor", ""))[:500] or None
    items, nxt = tasks_for(
        who,
        owner=request.user.pk if tab == "mine" else None,
        about=about,
        overdue=tab == "overdue",
        status="done" if tab == "done" else "open",
        party="theirs" if tab == "theirs" else None,
        cursor=cursor,
        limit=50,
    )
    query = {"show": tab, **({"about": about.id} if about else {})}
    ctx = {
        "tabs": TABS,
        "tab": tab,
        "heading": TABS[tab] + (f" about {about.name}" if about else ""),
        "tasks": items,
        "about": about,
        "more_url": "?" + urlencode({**query, "cursor": nxt}) if nxt else "",
        "due_cadences": csel.due(who, limit=20),
        "next": request.get_full_path(),
    }
    return page(request, "web/tasks.html", ctx)


@require_GET
@signed_in()
def record_tasks(request: HttpRequest, rid: str) -> HttpResponse:
    """The record page's tasks and keep-in-touch section (loaded by htmx)."""
    return page(request, "web/_record_tasks.html", _record_ctx(request, rid))


def _record_ctx(request: HttpRequest, rid: str, **extra: Any) -> dict[str, Any]:
    record = get_record(request, rid)
    who = viewer(request)
    items, nxt = tasks_for(who, about=record, limit=20)
    return {
        "record": record,
        "tasks": items,
        "more": bool(nxt),
        "cadences": csel.list_cadences(who, record=record),
        "next": f"/records/{record.id}",
        "errors": {},
        "values": {},
        **extra,
    }


@require_POST
@signed_in("member")
def add(request: HttpRequest) -> HttpResponse:
    """Add a task; htmx gets the new row (or the error in the form's error slot)."""
    values: dict[str, str] = {}
    try:
        sizes = {"title": 300, "due": 20, "about": 320, "priority": 10, "done_when": 20}
        for name, size in sizes.items():
            values[name] = text_input(request.POST, name, max_len=size)
        task = create_task(
            viewer=viewer(request),
            title=values["title"],
            due=values["due"] or None,
            owner=request.user.get_username(),
            about=[values["about"]] if values["about"] else [],
            priority=values["priority"] or "normal",
            party="theirs" if request.POST.get("theirs") else "ours",
            complete_on=values["done_when"] or None,
        )
    except KithError as exc:
        if is_htmx(request):
            resp = page(request, "web/_error.html", {"message": exc.message}, status=400)
            resp["HX-Retarget"] = "#task-add-error"
            resp["HX-Reswap"] = "innerHTML"
            return resp
        notify(request, f"Not added: {exc.message}")
        return HttpResponseRedirect(safe_next(request, "/tasks"))
    if is_htmx(request):
        view = task_detail(viewer(request), task.id)
        return page(request, "web/_task_row.html", {"t": view})
    notify(request, f"Added: {task.title}")
    return HttpResponseRedirect(safe_next(request, "/tasks"))


def _row_or_back(request: HttpRequest, task_id: str, said: str) -> HttpResponse:
    if is_htmx(request):
        return page(request, "web/_task_row.html", {"t": task_detail(viewer(request), task_id)})
    notify(request, said)
    return HttpResponseRedirect(safe_next(request, "/tasks"))


@require_POST
@signed_in("member")
def done(request: HttpRequest, task_id: str) -> HttpResponse:
    task = complete_task(viewer=viewer(request), task_id=task_id[:40])
    return _row_or_back(request, task.id, f"Done: {task.title}")


@require_POST
@signed_in("member")
def snooze(request: HttpRequest, task_id: str) -> HttpResponse:
    until = text_input(request.POST, "until", max_len=20, label="until")
    task = snooze_task(viewer=viewer(request), task_id=task_id[:40], until=until or None)
    return _row_or_back(request, task.id, f"Snoozed until {until}: {task.title}")


@require_POST
@signed_in("member")
def cadence_task(request: HttpRequest, cadence_id: str) -> HttpResponse:
    """Open (or update) a cadence's task from the home, tasks or record page."""
    task = open_cadence_task(viewer=viewer(request), ref=cadence_id[:40])
    return _row_or_back(request, task.id, f"Task opened: {task.title}")


urlpatterns = [
    path("tasks", tasks_page, name="tasks"),
    path("tasks/add", add, name="task-add"),
    path("tasks/<str:task_id>/done", done, name="task-done"),
    path("tasks/<str:task_id>/snooze", snooze, name="task-snooze"),
    path("cadences/<str:cadence_id>/task", cadence_task, name="cadence-task"),
    path("records/<str:rid>/tasks", record_tasks, name="record-tasks"),
]
