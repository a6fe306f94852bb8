"""The authorisation matrix: every endpoint tried as anonymous, viewer, member, owner, admin.

``need`` is the least role that may call it; a private record (``priv``) is reachable only
by its owner and admins, and is a plain 404 for everyone else. Each role's call runs in a
savepoint that is rolled back, so all see the same world.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from kith.accounts.models import ApiToken
from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import set_private
from kith.core.viewer import SYSTEM
from kith.dedupe.services import merge_records
from kith.interactions.services import delete_interaction, log_interaction
from kith.lists.services import save_view
from kith.pipelines.services import add_deal, save_dashboard
from kith.plans.services import (
    add_goal,
    add_initiative,
    add_measure,
    add_plan,
    add_stakeholder,
)
from kith.relationships.services import relate
from kith.rules.services import add_rule
from kith.server.api import api
from kith.server.tests.conftest import Caller, make_caller
from kith.surveys.services import add_survey
from kith.tasks.cadence_services import set_cadence
from kith.tasks.services import create_task
from kith.testing import make_home, make_org, make_person
from kith.webhooks.models import Delivery
from kith.webhooks.services import add_webhook

ROLES = ["anonymous", "viewer", "member", "owner", "admin"]
RANK = {"anonymous": 0, "viewer": 1, "member": 2, "owner": 2, "admin": 3}
NEED = {"any": 1, "read": 1, "write": 2, "admin": 3}

# (method, path, body, need, private target)
ENDPOINTS: list[tuple[str, str, Any, str, bool]] = [
    ("GET", "/auth/me", None, "any", False),
    ("GET", "/metrics", None, "read", False),
    ("GET", "/metrics/health/{shared}", None, "read", False),
    ("GET", "/metrics/health/{private}", None, "read", True),
    ("GET", "/metrics/interactions.two_way/views/Owner's", None, "read", True),
    ("GET", "/briefs/{shared}", None, "read", False),
    ("GET", "/briefs/{private}", None, "read", True),
    ("GET", "/changes/{shared}", None, "read", False),
    ("GET", "/changes/{private}", None, "read", True),
    ("GET", "/meetings/{interaction}/brief", None, "read", False),
    ("GET", "/meetings/{private_interaction}/brief", None, "read", True),
    ("GET", "/digest", None, "read", False),
    ("GET", "/digest/subscription", None, "read", False),
    ("PUT", "/digest/subscription", {"channels": ["in_app"]}, "read", False),
    ("GET", "/coach/team/sales", None, "read", False),
    ("PUT", "/coach/setting", {"mode": "on"}, "admin", False),
    ("GET", "/surprises", None, "read", False),
    ("GET", "/pipelines", None, "read", False),
    (
        "POST",
        "/pipelines",
        {
            "type": "person",
            "key": "life",
            "stages": [
                {"key": "lead", "probability": 10},
                {"key": "customer", "probability": 100, "category": "won"},
                {"key": "gone", "probability": 0, "category": "lost"},
            ],
        },
        "write",
        False,
    ),
    ("GET", "/deals", None, "read", False),
    ("POST", "/deals", {"account": "{shared}", "name": "A deal", "amount": 5}, "write", False),
    ("POST", "/deals", {"account": "{private}", "name": "A deal", "amount": 5}, "write", True),
    ("GET", "/deals/{deal}", None, "read", False),
    ("GET", "/deals/{private_deal}", None, "read", True),
    ("POST", "/deals/{deal}/moves", {"stage": "proposal"}, "write", False),
    ("POST", "/deals/{private_deal}/moves", {"stage": "proposal"}, "write", True),
    ("POST", "/deals/{deal}/win", {}, "write", False),
    ("POST", "/deals/{private_deal}/win", {}, "write", True),
    ("POST", "/deals/{deal}/lose", {"reason": "price"}, "write", False),
    ("POST", "/deals/{private_deal}/lose", {"reason": "price"}, "write", True),
    ("GET", "/funnel", None, "read", False),
    ("GET", "/dashboards", None, "read", False),
    ("POST", "/dashboards", {"key": "mine", "starter": "sales"}, "write", False),
    ("GET", "/dashboards/{dashboard}", None, "read", False),
    ("GET", "/dashboards/{private_dashboard}", None, "read", True),
    ("GET", "/plans", None, "read", False),
    ("GET", "/capture/mail", None, "read", False),
    ("GET", "/capture/calendars", None, "read", False),
    ("POST", "/plans", {"account": "{shared}", "name": "A plan"}, "write", False),
    ("POST", "/plans", {"account": "{private}", "name": "A plan"}, "write", True),
    ("GET", "/plans/{plan}", None, "read", False),
    ("GET", "/plans/{private_plan}", None, "read", True),
    ("POST", "/plans/{plan}/goals", {"text": "A goal"}, "write", False),
    ("POST", "/plans/{private_plan}/goals", {"text": "A goal"}, "write", True),
    (
        "POST",
        "/plans/{plan}/stakeholders",
        {"person": "{other}", "role": "champion"},
        "write",
        False,
    ),
    ("POST", "/plans/{plan}/reviews", {"notes": "ok"}, "write", False),
    ("GET", "/plans/{plan}/stakeholders", None, "read", False),
    ("GET", "/plans/{private_plan}/stakeholders", None, "read", True),
    ("GET", "/plan-templates", None, "read", False),
    (
        "POST",
        "/plan-templates",
        {"key": "mine", "body": {"name": "M", "goals": [{"text": "G"}]}},
        "write",
        False,
    ),
    ("GET", "/outcomes", None, "read", False),
    ("POST", "/outcomes", {"key": "churned", "polarity": "negative"}, "admin", False),
    ("POST", "/goals/{goal}/close", {"closure": "achieved"}, "write", False),
    (
        "POST",
        "/goals/{goal}/measures",
        {"target": 3, "by": "2030-01-01", "baseline": "0"},
        "write",
        False,
    ),
    ("POST", "/goals/{goal}/initiatives", {"title": "An initiative"}, "write", False),
    ("POST", "/initiatives/{initiative}/state", {"state": "in_progress"}, "write", False),
    ("POST", "/initiatives/{private_initiative}/state", {"state": "done"}, "write", True),
    ("GET", "/measures/{measure}/readings", None, "read", False),
    ("POST", "/measures/{measure}/readings", {"value": 1}, "write", False),
    ("GET", "/next", None, "read", False),
    ("POST", "/next/tasks", {"key": "{suggestion}"}, "write", False),
    ("POST", "/auth/logout", None, "any", False),
    ("GET", "/records", None, "read", False),
    ("GET", "/search?q=sam", None, "read", False),
    ("POST", "/records", {"name": "New One"}, "write", False),
    ("GET", "/records/{shared}", None, "read", False),
    ("PATCH", "/records/{shared}", {"set": {"name": "Changed"}}, "write", False),
    ("DELETE", "/records/{shared}", None, "write", False),
    ("POST", "/records/{deleted}/restore", None, "write", False),
    ("GET", "/records/{shared}/history", None, "read", False),
    ("GET", "/records/{shared}/relationships", None, "read", False),
    ("GET", "/records/{shared}/timeline", None, "read", False),
    ("GET", "/records/{private}", None, "read", True),
    ("PATCH", "/records/{private}", {"set": {"name": "Changed"}}, "write", True),
    ("DELETE", "/records/{private}", None, "write", True),
    ("GET", "/records/{private}/history", None, "read", True),
    ("GET", "/tags", None, "read", False),
    ("POST", "/records/{shared}/tags", {"tag": "vip"}, "write", False),
    ("POST", "/records/{private}/tags", {"tag": "vip"}, "write", True),
    ("DELETE", "/records/{private}/tags/vip", None, "write", True),
    ("GET", "/records/{private}/relationships", None, "read", True),
    ("GET", "/records/{private}/timeline", None, "read", True),
    ("GET", "/relationships/{private_rel}", None, "read", True),
    ("POST", "/relationships/{private_rel}/end", {}, "write", True),
    ("GET", "/types", None, "read", False),
    ("POST", "/types", {"key": "vendor"}, "admin", False),
    ("POST", "/types/person/fields", {"spec": "nickname:text"}, "admin", False),
    ("GET", "/relationship-types", None, "read", False),
    ("POST", "/relationship-types", {"name": "mentors", "inverse": "mentored_by"}, "admin", False),
    ("GET", "/relationships", None, "read", False),
    (
        "POST",
        "/relationships",
        {"a": "{shared}", "type": "knows", "b": "{other}", "role": "new"},
        "write",
        False,
    ),
    ("GET", "/relationships/{rel}", None, "read", False),
    ("POST", "/relationships/{rel}/end", {}, "write", False),
    ("GET", "/interactions", None, "read", False),
    (
        "POST",
        "/interactions",
        {"kind": "call", "participants": [{"ref": "{shared}"}]},
        "write",
        False,
    ),
    ("GET", "/interactions/{interaction}", None, "read", False),
    ("PATCH", "/interactions/{interaction}", {"set": {"subject": "Fixed"}}, "write", False),
    ("PATCH", "/interactions/{private_interaction}", {"set": {"subject": "x"}}, "write", True),
    ("DELETE", "/interactions/{interaction}", None, "write", False),
    ("DELETE", "/interactions/{private_interaction}", None, "write", True),
    ("POST", "/interactions/{gone_interaction}/restore", None, "write", False),
    ("GET", "/users", None, "admin", False),
    ("POST", "/users", {"email": "fresh@our.test", "role": "viewer"}, "admin", False),
    ("PATCH", "/users/{member_email}", {"team": "support"}, "admin", False),
    ("POST", "/users/{admin_email}/password", {"password": "another long one"}, "admin", False),
    ("GET", "/tokens", None, "any", False),
    ("POST", "/tokens", {}, "any", False),
    ("DELETE", "/tokens/{owner_token}", None, "any", True),
    ("GET", "/audit", None, "admin", False),
    ("GET", "/webhooks", None, "admin", False),
    ("POST", "/webhooks", {"url": "http://127.0.0.1:9/", "events": ["*"]}, "admin", False),
    ("PATCH", "/webhooks/{hook}", {"active": False}, "admin", False),
    ("DELETE", "/webhooks/{hook}", None, "admin", False),
    ("GET", "/webhooks/{hook}/deliveries", None, "admin", False),
    ("POST", "/deliveries/{delivery}/redeliver", None, "admin", False),
    # routers over kith.intelligence, kith.network, kith.dedupe, kith.imports
    ("GET", "/records/{shared}/health", None, "read", False),
    ("GET", "/records/{private}/health", None, "read", True),
    ("GET", "/strength?a={teammate}&b={shared}", None, "read", False),
    ("GET", "/best", None, "read", False),
    ("GET", "/at-risk", None, "read", False),
    ("GET", "/paths?to={shared}", None, "read", False),
    ("GET", "/paths?to={private}", None, "read", True),
    ("GET", "/mutual?a={shared}&b={other}", None, "read", False),
    ("GET", "/records/{shared}/map", None, "read", False),
    ("GET", "/records/{private}/map", None, "read", True),
    ("GET", "/records/{home}/orgchart", None, "read", False),
    ("GET", "/connectors", None, "read", False),
    ("GET", "/duplicates", None, "read", False),
    ("POST", "/merges", {"keep": "{shared}", "other": "{twin}"}, "write", False),
    ("POST", "/merges", {"keep": "{shared}", "other": "{private}"}, "write", True),
    ("GET", "/merges", None, "read", False),
    ("POST", "/duplicates/dismiss", {"a": "{shared}", "b": "{twin}"}, "write", False),
    ("POST", "/duplicates/dismiss", {"a": "{shared}", "b": "{private}"}, "write", True),
    ("POST", "/merges/{merged}/undo", None, "admin", False),
    ("GET", "/export", None, "admin", False),
    # kith.lists: the web's lists and saved views
    ("GET", "/lists/person?q=sam&sort=-health", None, "read", False),
    ("GET", "/lists/person/views", None, "read", False),
    (
        "POST",
        "/lists/person/bulk",
        {"action": "tag", "value": "vip", "params": {"q": ["sam"]}},
        "write",
        False,
    ),
    ("GET", "/lists/person/export?format=csv&q=sam", None, "read", False),
    ("GET", "/lists/person/export?format=xlsx", None, "read", False),
    ("POST", "/lists/person/views", {"name": "Mine", "params": {"q": ["sam"]}}, "write", False),
    ("DELETE", "/lists/views/{view}", None, "write", True),  # the owner's view
    # kith.tasks: tasks follow the privacy of the records they are about
    ("GET", "/tasks", None, "read", False),
    ("POST", "/tasks", {"title": "Call Sam", "about": ["{shared}"]}, "write", False),
    ("POST", "/tasks", {"title": "Peek", "about": ["{private}"]}, "write", True),
    ("GET", "/tasks/{task}", None, "read", False),
    ("GET", "/tasks/{private_task}", None, "read", True),
    ("GET", "/tasks/{task}/history", None, "read", False),
    ("PATCH", "/tasks/{task}", {"set": {"title": "Changed"}}, "write", False),
    ("PATCH", "/tasks/{private_task}", {"set": {"title": "Changed"}}, "write", True),
    ("POST", "/tasks/{task}/done", None, "write", False),
    ("POST", "/tasks/{private_task}/done", None, "write", True),
    ("POST", "/tasks/{task}/reopen", None, "write", False),
    ("POST", "/tasks/{task}/cancel", None, "write", False),
    ("POST", "/tasks/{task}/snooze", {"until": "2099-01-01"}, "write", False),
    ("GET", "/cadences", None, "read", False),
    ("POST", "/cadences", {"ref": "{shared}", "every": 30}, "write", False),
    ("POST", "/cadences", {"ref": "{private}", "every": 30}, "write", True),
    ("POST", "/cadences/{cadence}/pause", {"until": "2099-01-01"}, "write", False),
    ("POST", "/cadences/{cadence}/task", None, "write", False),
    ("DELETE", "/cadences/{cadence}", None, "write", False),
    ("GET", "/cadences/suggestions", None, "read", False),
    ("GET", "/due", None, "read", False),
    # kith.rules: workspace-wide automation, admins only
    ("GET", "/rules", None, "admin", False),
    (
        "POST",
        "/rules",
        {
            "rule": {
                "name": "new",
                "trigger": {"on": "record.created"},
                "actions": [{"do": "log_note", "body": "x"}],
            }
        },
        "admin",
        False,
    ),
    (
        "POST",
        "/rules/check",
        {
            "rule": {
                "name": "new",
                "trigger": {"on": "record.created"},
                "actions": [{"do": "log_note", "body": "x"}],
            }
        },
        "admin",
        False,
    ),
    ("GET", "/rules/{rule}", None, "admin", False),
    ("POST", "/rules/{rule}/enable", None, "admin", False),
    ("POST", "/rules/{rule}/disable", None, "admin", False),
    ("DELETE", "/rules/{rule}", None, "admin", False),
    ("GET", "/rules/{rule}/runs", None, "admin", False),
    ("GET", "/rules/{rule}/test?record={shared}", None, "admin", False),
    # kith.notifications: each caller's own (marking another's read: its tests, a 404)
    ("GET", "/notifications", None, "read", False),
    ("POST", "/notifications/read-all", None, "read", False),
    ("GET", "/notifications/preferences", None, "read", False),
    ("POST", "/notifications/preferences", {"kind": "task.due", "email": False}, "read", False),
    # kith.surveys
    ("GET", "/surveys", None, "read", False),
    ("POST", "/surveys", {"kind": "nps", "question": "Recommend us?", "name": "M"}, "write", False),
    ("GET", "/surveys/{survey}", None, "read", False),
    ("POST", "/surveys/{survey}/send", {"to": ["{shared}"], "dry_run": True}, "write", False),
    ("POST", "/surveys/{survey}/send", {"to": ["{private}"], "dry_run": True}, "write", True),
    ("POST", "/survey-responses", {"respondent": "{shared}", "score": 9}, "write", False),
    ("POST", "/survey-responses", {"respondent": "{private}", "score": 9}, "write", True),
    ("GET", "/voice", None, "read", False),
    ("GET", "/voice/{shared}", None, "read", False),
    ("GET", "/voice/{private}", None, "read", True),
    ("GET", "/interactions/{interaction}/sentiment", None, "read", False),
    ("GET", "/interactions/{private_interaction}/sentiment", None, "read", True),
]


@pytest.fixture
def world(settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    callers = {
        "anonymous": Caller(None, None),
        "viewer": make_caller("viewer@our.test", "viewer"),
        "member": make_caller("member@our.test", "member"),
        "owner": make_caller("owner@our.test", "member"),
        "admin": make_caller("admin@our.test", "admin"),
    }
    _, shared = callers["member"].call("POST", "/records", {"name": "Shared Sam"})
    _, other = callers["member"].call("POST", "/records", {"name": "Other Olga"})
    _, gone = callers["member"].call("POST", "/records", {"name": "Gone Gus"})
    callers["member"].call("DELETE", f"/records/{gone['id']}")
    _, private = callers["owner"].call("POST", "/records", {"name": "Private Pat", "private": True})
    rel = relate(a=shared["id"], type_name="knows", b=other["id"])

    home = make_home()
    teammate = make_person("Tina Team", org=home)
    relate(a=teammate.id, type_name="knows", b=shared["id"])
    _, twin = callers["member"].call("POST", "/records", {"name": "Shared Sam"})
    _, merged_away = callers["member"].call("POST", "/records", {"name": "Olga Other"})
    merge_records(keep=other["id"], other=merged_away["id"])
    private_rel = relate(a=private["id"], type_name="knows", b=other["id"])
    interaction, _ = log_interaction(kind="call", participants=[(shared["id"], None)])
    private_interaction, _ = log_interaction(kind="call", participants=[(private["id"], None)])
    gone_interaction, _ = log_interaction(kind="call", participants=[(other["id"], None)])
    delete_interaction(interaction_id=gone_interaction.id)
    hook, _ = add_webhook(url="http://127.0.0.1:9/", events=["*"])
    log_interaction(kind="note", participants=[(other["id"], None)])
    delivery = Delivery.objects.filter(webhook=hook).first()
    assert delivery is not None

    view = save_view(
        viewer=viewer_of(get_user("owner@our.test")), type_key="person", name="Owner's", query={}
    )
    task = create_task(viewer=SYSTEM, title="Call Sam", about=[shared["id"]])
    survey = add_survey(kind="nps", question="How likely are you to recommend us?", name="S")
    private_task = create_task(viewer=SYSTEM, title="Call Pat", about=[private["id"]])
    cadence = set_cadence(viewer=SYSTEM, ref=shared["id"], every=30)
    plan = add_plan(viewer=SYSTEM, account=shared["id"], name="Sam's plan")
    private_plan = add_plan(viewer=SYSTEM, account=private["id"], name="Pat's plan")
    deal = add_deal(viewer=SYSTEM, account=shared["id"], name="Sam's deal", amount=5)
    private_deal = add_deal(viewer=SYSTEM, account=shared["id"], name="Pat's deal", amount=5)
    set_private(record=private_deal, private=True, user=get_user("owner@our.test"))
    save_dashboard(key="shared-dash", starter="sales")
    save_dashboard(key="owners-dash", starter="sales", owner="owner@our.test", shared="private")
    goal = add_goal(viewer=SYSTEM, plan=plan.id, text="A goal")
    measure = add_measure(viewer=SYSTEM, goal=goal.id, target=5, by="2030-01-01", baseline=0)
    initiative = add_initiative(viewer=SYSTEM, goal=goal.id, title="An initiative")
    private_goal = add_goal(viewer=SYSTEM, plan=private_plan.id, text="A private goal")
    private_initiative = add_initiative(viewer=SYSTEM, goal=private_goal.id, title="Hidden")
    account = make_org("Matrix Co")
    buyer = make_person("Bea Buyer", org=account)
    account_plan = add_plan(viewer=SYSTEM, account=account.id, name="Matrix plan")
    add_stakeholder(
        viewer=SYSTEM, plan=account_plan.id, person=buyer.id, role="champion", owner=teammate.id
    )
    rule = add_rule(
        doc={
            "name": "m",
            "trigger": {"on": "record.created"},
            "actions": [{"do": "log_note", "body": "x"}],
        }
    )
    ids = {
        "task": task.id,
        "survey": survey.id,
        "private_task": private_task.id,
        "cadence": cadence.id,
        "plan": plan.id,
        "private_plan": private_plan.id,
        "deal": deal.id,
        "private_deal": private_deal.id,
        "dashboard": "shared-dash",
        "private_dashboard": "owners-dash",
        "goal": goal.id,
        "measure": measure.id,
        "initiative": initiative.id,
        "private_initiative": private_initiative.id,
        "suggestion": f"next:{account_plan.id}:{buyer.id}:gap",
        "rule": rule.id,
        "shared": shared["id"],
        "other": other["id"],
        "deleted": gone["id"],
        "private": private["id"],
        "rel": rel.id,
        "private_rel": private_rel.id,
        "interaction": interaction.id,
        "private_interaction": private_interaction.id,
        "gone_interaction": gone_interaction.id,
        "hook": hook.id,
        "delivery": delivery.id,
        "member_email": "member@our.test",
        "home": home.id,
        "teammate": teammate.id,
        "twin": twin["id"],
        "merged": merged_away["id"],
        "admin_email": "admin@our.test",
        "owner_token": ApiToken.objects.get(user__username="owner@our.test").id,
        "view": str(view.id),
    }
    return {"callers": callers, "ids": ids}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def expected(role: str, need: str, private: bool) -> int | str:
    if role == "anonymous":
        return 401
    if RANK[role] < NEED[need]:
        return 403
    if private and role not in ("owner", "admin"):
        return 404
    return "ok"


@pytest.mark.parametrize(
    ("method", "path", "body", "need", "private"),
    ENDPOINTS,
    ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS],
)
def test_matrix(
    world: dict[str, Any], method: str, path: str, body: Any, need: str, private: bool
) -> None:
    results = {}
    for role in ROLES:
        sid = transaction.savepoint()
        try:
            full = _fill(path, world["ids"])
            route, _, query = full.partition("?")
            params = dict(p.split("=", 1) for p in query.split("&")) if query else {}
            code, answer = world["callers"][role].call(
                method, route, _fill(body, world["ids"]), **params
            )
        finally:
            transaction.savepoint_rollback(sid)
        want = expected(role, need, private)
        got_ok = 200 <= code < 300
        results[role] = (code, want)
        if want == "ok":
            assert got_ok, f"{role}: {method} {path} -> {code} {answer}"
        else:
            assert code == want, f"{role}: {method} {path} -> {code} {answer}"
            assert set(answer) >= {"code", "message", "field"}


def test_every_endpoint_is_in_the_matrix() -> None:
    schema = api.get_openapi_schema()
    listed = {(m, p.split("?")[0]) for m, p, *_ in ENDPOINTS}
    open_paths = {"/auth/csrf", "/auth/login", "/imports"}  # /imports: test_import_matrix
    open_paths.add("/notifications/{notification_id}/read")  # one's own only: its own tests
    open_paths.add("/coach")  # the person, their lead, admins: kith.briefs' own tests
    missing = []
    for path, ops in schema["paths"].items():
        rel = path.removeprefix("/api/v1")
        if rel in open_paths:
            continue
        for method in ops:
            shape = {(m, p) for m, p in listed if _same(p, rel) and m == method.upper()}
            if not shape:
                missing.append(f"{method.upper()} {rel}")
    assert not missing, f"endpoints not in the authorisation matrix: {missing}"


def _same(template: str, path: str) -> bool:
    a, b = template.strip("/").split("/"), path.strip("/").split("/")
    return len(a) == len(b) and all(x == y or y.startswith("{") for x, y in zip(a, b, strict=True))


def test_import_matrix(world: dict[str, Any]) -> None:
    for role in ROLES:
        caller = world["callers"][role]
        sid = transaction.savepoint()
        try:
            upload = SimpleUploadedFile("people.csv", b"name,email\nIvy Import,ivy@imp.test\n")
            headers = {"HTTP_AUTHORIZATION": f"Bearer {caller.token}"} if caller.token else {}
            resp = Client().post("/api/v1/imports", {"file": upload}, **headers)
        finally:
            transaction.savepoint_rollback(sid)
        want = expected(role, "write", False)
        if want == "ok":
            assert resp.status_code == 200, (role, resp.content)
        else:
            assert resp.status_code == want, (role, resp.content)
