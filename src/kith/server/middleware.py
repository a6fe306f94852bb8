"""Small middleware of the Kith server."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kith.core.context import from_ip
from kith.server.auth import client_ip


class SecureCookiesOverHttps:
    """Mark every cookie ``Secure`` when the request came over HTTPS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
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
