"""Pages: the bell, the notifications list, mark read, preferences, one-click unsubscribe."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import KithError, NotFound
from kith.notifications import selectors, services
from kith.web.views.base import error_page, is_htmx, notify, page, safe_next, signed_in, viewer


@require_GET
@signed_in()
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's inside with the unread count (loaded by htmx into every page's header)."""
    return page(request, "web/_bell.html", {"unread": selectors.unread_count(viewer(request))})


@require_GET
@signed_in()
def notifications(request: HttpRequest) -> HttpResponse:
    who = viewer(request)
    unread = request.GET.get("unread") == "1"
    cursor = request.GET.get("cursor", "")[:500] or None
    items, nxt = selectors.notifications_page(who, unread=unread, cursor=cursor, limit=50)
    context = {
        "items": items,
        "next_cursor": nxt,
        "only_unread": unread,
        "unread": selectors.unread_count(who),
    }
    return page(request, "web/notifications.html", context)


@require_POST
@signed_in()
def read(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.mark_read(
        viewer=viewer(request),
        notification_id=notification_id,
        read=request.POST.get("read", "1") != "0",
    )
    return HttpResponseRedirect(safe_next(request, reverse("notifications")))


@require_POST
@signed_in()
def read_all(request: HttpRequest) -> HttpResponse:
    marked = services.mark_all_read(viewer=viewer(request))
    notify(request, f"Marked {marked} notification{'' if marked == 1 else 's'} read.")
    return HttpResponseRedirect(reverse("notifications"))


@require_http_methods(["GET", "POST"])
@signed_in()
def preferences(request: HttpRequest) -> HttpResponse:
    """Each kind's in-app and email choice (and the default for kinds not set)."""
    who = viewer(request)
    if request.method == "POST":
        current = selectors.preferences(who)
        wanted = [("*", "default")] + [(k["kind"], k["kind"]) for k in current["kinds"]]
        for kind, name in wanted:
            services.set_preference(
                viewer=who,
                kind=kind,
                in_app=request.POST.get(f"in_app:{name}") == "on",
                email=request.POST.get(f"email:{name}") == "on",
            )
        notify(request, "Notification settings saved.")
        return HttpResponseRedirect(reverse("notification-preferences"))
    return page(request, "web/notification_prefs.html", {"prefs": selectors.preferences(who)})


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", no session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe, no sign-in: GET asks to confirm, POST unsubscribes."""
    if request.method == "GET":
        return page(request, "web/unsubscribe.html", {"token": token, "done": None})
    try:
        done = services.unsubscribe(token=token)
    except NotFound as exc:
        return error_page(request, 404, "Not a valid link", exc.message)
    except KithError as exc:
        return error_page(request, 400, "That did not work", exc.message)
    if is_htmx(request) or request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse(status=200, content=b"unsubscribed\n", content_type="text/plain")
    return page(request, "web/unsubscribe.html", {"token": "", "done": done})


urlpatterns = [
    path("notifications", notifications, name="notifications"),
    path("notifications/bell", bell, name="notifications-bell"),
    path("notifications/read-all", read_all, name="notifications-read-all"),
    path("notifications/preferences", preferences, name="notification-preferences"),
    path("notifications/<int:notification_id>/read", read, name="notification-read"),
    path("unsubscribe/<str:token>", unsubscribe, name="unsubscribe"),
]
