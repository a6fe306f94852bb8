"""Pages (admins): the rules, the rule builder (a form that makes the rule's JSON, checked
by the server like a rule file) and each rule's runs with their traces."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import KithError
from kith.records.conditions import ALL_OPS
from kith.rules.builder import ROWS, document
from kith.rules.selectors import get_rule_view, list_rules, runs
from kith.rules.services import add_rule, set_enabled
from kith.rules.spec import ACTIONS, TRIGGERS
from kith.web.views.base import notify, page, signed_in, viewer
from kith.web.views.record_data import text_input


@require_GET
@signed_in("admin")
def rules_page(request: HttpRequest) -> HttpResponse:
    return page(request, "web/rules.html", {"rules": list_rules(viewer(request))})


def _builder(
    request: HttpRequest, values: dict[str, str], error: str = "", status: int = 200
) -> HttpResponse:
    ctx = {
        "values": values,
        "error": error,
        "rows": range(ROWS),
        "triggers": TRIGGERS,
        "actions": list(ACTIONS),
        "ops": ALL_OPS,
        "preview": values.get("__preview", ""),
    }
    return page(request, "web/rule_new.html", ctx, status=status)


@require_http_methods(["GET", "POST"])
@signed_in("admin")
def rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _builder(request, {"trigger.on": "record.created", "match": "all"})
    values = {
        k: text_input(request.POST, k, max_len=5000)
        for k in request.POST
        if k != "csrfmiddlewaretoken"
    }
    try:
        doc = document(values)
        values["__preview"] = json.dumps(doc, indent=2)
        rule = add_rule(doc=doc)
    except KithError as exc:
        return _builder(request, values, exc.message, status=400)
    notify(request, f"Rule {rule.name} added")
    return HttpResponseRedirect(f"/rules/{rule.name}/runs")


@require_POST
@signed_in("admin")
def rule_toggle(request: HttpRequest, ref: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    rule = set_enabled(ref=ref, enabled=enabled)
    notify(request, f"Rule {rule.name} {'enabled' if enabled else 'disabled'}")
    return HttpResponseRedirect("/rules")


@require_GET
@signed_in("admin")
def rule_runs(request: HttpRequest, ref: str) -> HttpResponse:
    who = viewer(request)
    failed = request.GET.get("failed") == "1"
    rows = runs(who, ref, failed=failed, limit=100)
    for r in rows:
        r["trace_json"] = json.dumps(r["trace"], indent=2, default=str)
    ctx = {"rule": get_rule_view(who, ref), "runs": rows, "failed": failed}
    return page(request, "web/rule_runs.html", ctx)


urlpatterns = [
    path("rules", rules_page, name="rules"),
    path("rules/new", rule_new, name="rule-new"),
    path("rules/<str:ref>/toggle", rule_toggle, name="rule-toggle"),
    path("rules/<str:ref>/runs", rule_runs, name="rule-runs"),
]
