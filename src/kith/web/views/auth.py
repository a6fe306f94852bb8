"""Sign in and sign out."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from kith.accounts.services import SignInThrottled, check_credentials, note_sign_out
from kith.server.auth import client_ip
from kith.web.views.base import page, role, safe_next


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:

    if role(request) is not None and request.method == "GET":
        return HttpResponseRedirect(safe_next(request))
    email = request.POST.get("email", "").strip()[:320]
    error = ""
    if request.method == "POST":
        password = request.POST.get("password", "")[:1000]
        if not email or not password:
            error = "Enter your email and password."
        else:
            try:
                user = check_credentials(email=email, password=password, ip=client_ip(request))
            except SignInThrottled:
                user, error = None, "Too many failed attempts; wait 15 minutes and try again."
            else:
                if user is None:
                    error = "That email and password do not match an active user."
            if user is not None:
                login(request, user)
                return HttpResponseRedirect(safe_next(request))
    status = 429 if "Too many" in error else (400 if error else 200)
    context = {"email": email, "error": error, "next": safe_next(request, "")}
    return page(request, "web/login.html", context, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:

    if request.user.is_authenticated:
        note_sign_out(username=request.user.get_username(), ip=client_ip(request))
    logout(request)
    return HttpResponseRedirect("/login")


urlpatterns = [
    path("login", sign_in, name="login"),
    path("logout", sign_out, name="logout"),
]
