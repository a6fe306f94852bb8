"""Pages: likely duplicates, two records side by side, merge and undo."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import Conflict, KithError
from kith.dedupe import pairs
from kith.dedupe.services import can_undo_merge, dismiss_pair, merge_records, unmerge
from kith.records.selectors import list_types
from kith.web.views.base import at_least, error_page, notify, page, signed_in, viewer


def _may_undo(request: HttpRequest) -> pairs.MayUndo:
    """A member or above, by the dedupe policy (admins any merge, members their own)."""
    member, who, actor = at_least(request, "member"), viewer(request), request.user.get_username()
    return lambda merge: member and can_undo_merge(who, merge, actor=actor)


SCORES = (90, 80, 70, 60, 50, 40, 30)


def _filters(request: HttpRequest) -> tuple[str, int, dict[str, str]]:

    errors: dict[str, str] = {}
    type_key = request.GET.get("type", "").strip()[:60]
    if type_key and type_key not in {t["key"] for t in list_types()}:
        errors["type"] = f"type: {type_key!r} is not a record type"
        type_key = ""
    raw = request.GET.get("min", "").strip()[:10] or "50"
    if not raw.isdigit() or not 0 <= int(raw) <= 100:
        errors["min"] = f"min: {raw!r} is not a score from 0 to 100"
        raw = "50"
    return type_key, int(raw), errors


@require_GET
@signed_in()
def duplicates(request: HttpRequest) -> HttpResponse:

    type_key, min_score, errors = _filters(request)
    who = viewer(request)
    after = request.GET.get("after", "").strip()[:200] or None
    try:
        found = pairs.duplicate_pairs(
            who, type_key=type_key or None, min_score=min_score, after=after
        )
    except KithError as exc:
        errors["after"], after = exc.message, None
        found = pairs.duplicate_pairs(who, type_key=type_key or None, min_score=min_score)
    context = {
        "found": found,
        "after": after,
        "merges": pairs.recent_merges(who, may_undo=_may_undo(request)),
        "types": [(t["key"], t["label"]) for t in list_types()],
        "type_key": type_key,
        "min_score": min_score,
        "scores": SCORES,
        "errors": errors,
    }
    return page(request, "web/dupes.html", context, status=400 if errors else 200)


@require_GET
@signed_in()
def pair(request: HttpRequest) -> HttpResponse:
    keep, other = request.GET.get("keep", ""), request.GET.get("other", "")
    if not keep.strip() or not other.strip():
        return error_page(request, 400, "Choose two records", "Open a pair from the list.")
    context = pairs.pair_sides(viewer(request), keep, other)
    return page(request, "web/dupe_pair.html", context)


@require_POST
@signed_in("member")
def merge(request: HttpRequest) -> HttpResponse:

    keep, other = request.POST.get("keep", "")[:320], request.POST.get("other", "")[:320]
    if not keep.strip() or not other.strip():
        return error_page(request, 400, "Choose two records", "Open a pair from the list.")
    try:
        done = merge_records(keep=keep, other=other, viewer=viewer(request))
    except Conflict as exc:
        return error_page(request, 409, "Not merged", exc.message)
    notify(request, f"Merged {done['other']['name']} into {done['keep']['name']}.")
    return HttpResponseRedirect(reverse("merge", args=[done["id"]]))


@require_POST
@signed_in("member")
def dismiss(request: HttpRequest) -> HttpResponse:
    """Not a duplicate: the pair leaves the list for good; back to the list."""
    a, b = request.POST.get("keep", "")[:320], request.POST.get("other", "")[:320]
    done = dismiss_pair(a=a, b=b, viewer=viewer(request))
    notify(request, f"{done['a']['name']} and {done['b']['name']}: not duplicates.")
    return HttpResponseRedirect(reverse("duplicates"))


@require_GET
@signed_in()
def merge_page(request: HttpRequest, merge_id: str) -> HttpResponse:
    shown = pairs.merge_detail(viewer(request), merge_id, may_undo=_may_undo(request))
    return page(request, "web/merge.html", {"merge": shown})


@require_POST
@signed_in("member")
def undo(request: HttpRequest, merge_id: str) -> HttpResponse:

    # 404 for a merge of hidden records
    shown = pairs.merge_detail(viewer(request), merge_id, may_undo=_may_undo(request))
    if shown["undone_at"] is None and not shown["can_undo"]:
        return error_page(
            request, 403, "Not allowed", "Only an admin can undo a merge someone else made."
        )
    try:
        done = unmerge(ref=shown["id"], viewer=viewer(request))
    except KithError as exc:
        return error_page(request, 409, "Not undone", exc.message)
    notify(
        request,
        f"Undone: {done['keep']['name']} and {done['other']['name']} are two records again.",
    )
    return HttpResponseRedirect(reverse("duplicates"))


urlpatterns = [
    path("duplicates", duplicates, name="duplicates"),
    path("duplicates/pair", pair, name="duplicate-pair"),
    path("duplicates/merge", merge, name="duplicate-merge"),
    path("duplicates/dismiss", dismiss, name="duplicate-dismiss"),
    path("duplicates/merges/<str:merge_id>", merge_page, name="merge"),
    path("duplicates/merges/<str:merge_id>/undo", undo, name="merge-undo"),
]
