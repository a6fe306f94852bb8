"""Pages for 404, 403 and 500 outside the API: plain words, never a traceback."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from kith.web.views.base import error_page

log = logging.getLogger("kith.web")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404, "Not found", "There is no page at this address.")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403, "Not allowed", "You may not do this here.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400, "Bad request", "The request could not be understood.")


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return error_page(
            request, 500, "Something went wrong", "Kith hit an internal error; nothing was saved."
        )
    except Exception:  # the error page itself failed: a plain answer, still no traceback
        log.exception("error page failed")
        return HttpResponse("Kith hit an internal error.", status=500, content_type="text/plain")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(
        request, 403, "Form expired", "The form was stale or not sent by Kith; reload and retry."
    )
