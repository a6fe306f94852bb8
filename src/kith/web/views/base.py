"""What every page handler shares: sign-in and role checks, rendering, errors, htmx."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from kith.accounts.selectors import role_of, viewer_of
from kith.core.context import acting_as
from kith.core.errors import KithError, NotFound
from kith.core.viewer import Viewer
from kith.server.auth import ROLE_RANK

View = Callable[..., HttpResponse]


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent this request (it wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def role(request: HttpRequest) -> str | None:
    """The signed-in user's role, or None."""
    return role_of(getattr(request, "user", None))


def viewer(request: HttpRequest) -> Viewer:
    """The ``Viewer`` of the signed-in user, which every read is given."""

    return viewer_of(getattr(request, "user", None))


def at_least(request: HttpRequest, min_role: str) -> bool:
    """Whether the signed-in user's role is ``min_role`` or above."""
    have = role(request)
    return have is not None and ROLE_RANK[have] >= ROLE_RANK[min_role]


def page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render a Jinja2 template with what every page needs (user, role, nav)."""
    user = getattr(request, "user", None)
    have = role(request)
    ctx = {
        "user": user if have else None,
        "role": have,
        "can_write": at_least(request, "member"),
        "is_admin": have == "admin",
        "path": request.path,
        "messages": _messages(request),
        **(context or {}),
    }
    return render(request, template, ctx, status=status, using="jinja2")


def _messages(request: HttpRequest) -> list[Any]:
    return list(messages.get_messages(request))


def notify(request: HttpRequest, text: str) -> None:
    """A one-line notice shown on the next page."""
    messages.success(request, text)


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """The ``next`` parameter if it points inside this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    """A page (or, for htmx, a fragment) that says what went wrong, with the right status."""
    template = "web/_error.html" if is_htmx(request) else "web/error.html"
    return page(request, template, {"title": title, "message": message}, status=status)


def signed_in(min_role: str = "viewer") -> Callable[[View], View]:
    """Require a signed-in user with at least ``min_role``; writes are attributed to them.

    Not signed in: to the sign-in page (htmx: 401). Signed in without the role: 403.
    A :class:`KithError` that escapes the handler becomes a clear error page, never a
    traceback: 404 for NotFound, 400 otherwise.
    """

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            have = role(request)
            if have is None:
                if is_htmx(request):
                    resp = HttpResponse("sign in again", status=401)
                    resp["HX-Redirect"] = "/login"
                    return resp
                return HttpResponseRedirect(
                    "/login?" + urlencode({"next": request.get_full_path()})
                )
            if ROLE_RANK[have] < ROLE_RANK[min_role]:
                return error_page(
                    request, 403, "Not allowed", f"This needs the {min_role} role; you are {have}."
                )
            try:
                with acting_as(request.user.get_username()):
                    return view(request, *args, **kwargs)
            except NotFound as exc:
                return error_page(request, 404, "Not found", exc.message)
            except KithError as exc:
                return error_page(request, 400, "That did not work", exc.message)

        return handler

    return wrap


def form_errors(exc: KithError) -> dict[str, str]:
    """Field name to message, for showing an error next to the control at fault."""
    return {exc.field or "__all__": exc.message}
