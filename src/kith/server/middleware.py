"""Small middleware of the Kith server."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kith.core.context import from_ip
from kith.server.auth import client_ip, from_trusted_proxy


class SecureCookiesOverHttps:
    """Mark every cookie ``Secure`` when the request came over HTTPS.

    Behind a proxy that ends TLS, the request came over HTTPS when a trusted proxy
    (``KITH_TRUSTED_PROXIES``) says so in ``X-Forwarded-Proto``; from anyone else the header
    is ignored. The request is then secure for all that follows (HSTS, CSRF, cookies).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proto = str(request.META.get("HTTP_X_FORWARDED_PROTO", "")).split(",")[0].strip()
        if proto.lower() == "https" and from_trusted_proxy(request):
            request.META["wsgi.url_scheme"] = "https"
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response


class ClientAddress:
    """Attribute the audit entries a request writes to the client's address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with from_ip(client_ip(request)):
            return self.get_response(request)
