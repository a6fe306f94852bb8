"""Every error as JSON ``{code, message, field}`` with the right status; never a 500 page."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaError

from kith.core import dberrors
from kith.core.errors import Ambiguous, Conflict, KithError, NotFound, ValidationError
from kith.server.auth import Forbidden

log = logging.getLogger("kith.server")


def body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, **extra}


def _kith_status(exc: KithError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, Ambiguous):
        return 400
    if isinstance(exc, ValidationError):
        return 422
    return 400


def _schema_field(loc: list[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    if parts and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts) or None


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``."""

    def respond(request: HttpRequest, status: int, data: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, data, status=status)

    def on_kith(request: HttpRequest, exc: Any) -> HttpResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, Ambiguous):
            extra["candidates"] = exc.candidates
        current = getattr(exc, "current", None)
        if current is not None:
            extra["current"] = current
        return respond(request, _kith_status(exc), body(exc.code, exc.message, exc.field, **extra))

    def on_schema(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = list(exc.errors)
        first = errors[0] if errors else {}
        field = _schema_field(list(first.get("loc", [])))
        msg = str(first.get("msg", "invalid input"))
        message = f"{field}: {msg}" if field else msg
        return respond(request, 422, body("invalid", message, field, errors=_clean(errors)))

    def on_auth(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(
            request,
            401,
            body("unauthenticated", "sign in, or send Authorization: Bearer TOKEN"),
        )

    def on_forbidden(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 403, body("forbidden", str(exc) or "not allowed"))

    def on_throttled(request: HttpRequest, exc: Any) -> HttpResponse:
        resp = respond(request, 429, body("rate_limited", "too many requests; retry later"))
        resp["Retry-After"] = "60"
        return resp

    def on_http(request: HttpRequest, exc: Any) -> HttpResponse:
        codes = {
            400: "bad_request",
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "too_large",
            429: "rate_limited",
        }
        return respond(
            request, exc.status_code, body(codes.get(exc.status_code, "error"), str(exc))
        )

    def on_404(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, body("not_found", "not found"))

    def on_bad_request(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 400, body("bad_request", str(exc)[:300] or "bad request"))

    def on_integrity(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 409, body("conflict", "the change conflicts with stored data"))

    def on_data(request: HttpRequest, exc: Any) -> HttpResponse:
        # the database refused a value: a NUL character, a date or number out of its range
        reason = str(exc).splitlines()[0][:200] if str(exc) else "value out of range"
        return respond(request, 422, body("invalid", f"a value cannot be stored: {reason}"))

    def on_database(request: HttpRequest, exc: Any) -> HttpResponse:
        log.exception("database error", exc_info=exc)
        return respond(request, 503, body("unavailable", dberrors.message(exc)))

    def on_other(request: HttpRequest, exc: Any) -> HttpResponse:
        log.exception("unexpected error", exc_info=exc)
        return respond(request, 500, body("internal", f"internal error ({type(exc).__name__})"))

    api.add_exception_handler(KithError, on_kith)
    api.add_exception_handler(SchemaError, on_schema)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(Forbidden, on_forbidden)
    api.add_exception_handler(PermissionDenied, on_forbidden)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(HttpError, on_http)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(SuspiciousOperation, on_bad_request)
    api.add_exception_handler(RequestDataTooBig, on_bad_request)
    api.add_exception_handler(MultiPartParserError, on_bad_request)  # e.g. no boundary
    api.add_exception_handler(IntegrityError, on_integrity)
    api.add_exception_handler(DataError, on_data)
    api.add_exception_handler(DatabaseError, on_database)
    api.add_exception_handler(Exception, on_other)


def _clean(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in errors[:20]:
        out.append({"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))})
    return out
