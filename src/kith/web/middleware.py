"""Security headers of the web pages."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from kith.core import dberrors

# Everything is served by Kith itself: no inline scripts or styles, no third-party origins.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicy:
    """Send the Content-Security-Policy on every page (the API's docs page included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        page = response.get("Content-Type", "").startswith("text/html")
        if page or not request.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


class DatabaseTrouble:
    """A page whose database is down or locked says so (503), not a bare internal error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, DatabaseError) or request.path.startswith("/api/"):
            return None
        text = dberrors.message(exc)
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Kith: database "
            "unavailable</title></head><body><main><h1>Database unavailable</h1>"
            f"<p>{text[0].upper()}"
            f"{text[1:]}.</p></main></body></html>"
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = "5"
        return response
