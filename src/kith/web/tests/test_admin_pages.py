"""Admin pages: record types and fields, relationship types, users and teams, API tokens,
webhooks with their deliveries, and the audit log; and everyone's own API tokens."""

from __future__ import annotations

import html as html_lib
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kith.accounts.models import ApiToken
from kith.accounts.selectors import get_user, role_of, token_user
from kith.accounts.services import add_user, audit, check_credentials, create_token
from kith.core import clock
from kith.records.models import FieldDef, RecordType
from kith.records.selectors import field_defs, get_type
from kith.records.services import define_type
from kith.relationships.models import RelationshipType
from kith.relationships.services import add_type
from kith.testing import make_org, make_person
from kith.web.tests.conftest import PASSWORD
from kith.webhooks.models import Delivery, Webhook
from kith.webhooks.outbox import deliver_due
from kith.webhooks.services import add_webhook

HX = {"HTTP_HX_REQUEST": "true"}
XSS = "<script>alert(1)</script>"
ADMIN_GETS = [
    "/admin",
    "/admin/types",
    "/admin/relationship-types",
    "/admin/users",
    "/admin/tokens",
    "/admin/webhooks",
    "/admin/webhooks/whk_nope",
    "/admin/audit",
]
ADMIN_POSTS = [
    ("/admin/types", {"key": "vendor", "f0-name": "tier", "f0-kind": "text"}),
    ("/admin/types/person/fields", {"name": "shoe", "kind": "number"}),
    ("/admin/relationship-types", {"name": "mentors", "inverse": "mentored_by"}),
    ("/admin/users", {"email": "new@our.test", "role": "admin"}),
    ("/admin/users/change", {"email": "admin1@our.test", "role": "viewer"}),
    ("/admin/users/disable", {"email": "admin1@our.test"}),
    ("/admin/users/enable", {"email": "admin1@our.test"}),
    ("/admin/users/password", {"email": "admin1@our.test"}),
    ("/admin/tokens", {"name": "x", "expires": "30"}),
    ("/admin/tokens/revoke", {"token_id": "tok_x"}),
    ("/admin/webhooks", {"url": "https://hooks.test/", "events": ["*"]}),
    ("/admin/webhooks/whk_x/active", {"active": "0"}),
    ("/admin/webhooks/whk_x/delete", {}),
    ("/admin/deliveries/dlv_x/redeliver", {}),
]


def _html(resp: Any) -> str:
    return str(resp.content.decode())


def _error_next_to(html: str, control_id: str) -> str:
    """The error text shown for the control with this id (it must point at it)."""
    tag = re.search(rf'<(input|select)[^>]*id="{re.escape(control_id)}"[^>]*>', html)
    assert tag, f"no control {control_id}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    assert f'aria-describedby="{control_id}-error' in tag.group(0)
    err = re.search(rf'<p class="field-error" id="{re.escape(control_id)}-error">([^<]*)</p>', html)
    assert err, f"no error next to {control_id}"
    return html_lib.unescape(err.group(1)).casefold()


def _audit_entries(html: str) -> str:
    """The audit log's entries card alone: the layout has tables of its own (the shortcuts list)."""
    found = re.search(
        r'<section class="card" aria-labelledby="audit-title">(.*?)</section>', html, re.S
    )
    assert found, "no audit entries section"
    return found.group(1)


def _secret(html: str) -> str:
    found = re.search(r'<code class="secret-value"[^>]*>([^<]+)</code>', html)
    assert found, "no secret shown"
    return found.group(1)


def _all_pages(client: Client) -> str:
    return "".join(_html(client.get(u)) for u in [*ADMIN_GETS, "/account/tokens"])


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_admin_pages_need_the_admin_role(make_client: Callable[..., Client], role: str) -> None:
    make_client("admin")
    client = make_client(role)
    before = (
        RecordType.objects.count(),
        FieldDef.objects.count(),
        RelationshipType.objects.count(),
        ApiToken.objects.count(),
        Webhook.objects.count(),
    )
    for url in ADMIN_GETS:
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert "needs the admin role" in _html(resp)
    for url, data in ADMIN_POSTS:
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, **HX).status_code == 403, url
    after = (
        RecordType.objects.count(),
        FieldDef.objects.count(),
        RelationshipType.objects.count(),
        ApiToken.objects.count(),
        Webhook.objects.count(),
    )
    assert after == before

    admin = get_user("admin1@our.test")
    assert admin.is_active and role_of(admin) == "admin"
    assert admin.check_password(PASSWORD)
    # the admin link is not offered to them either
    assert 'href="/admin"' not in _html(client.get("/account/tokens"))


def test_signed_out_goes_to_sign_in() -> None:
    resp = Client().get("/admin/users")
    assert resp.status_code == 302 and resp["Location"].startswith("/login?next=")
    assert Client().post("/admin/users", {"email": "x@our.test"}).status_code == 302


def test_csrf_is_enforced(make_client: Callable[..., Client]) -> None:
    client = make_client("admin", csrf=True)
    page = client.get("/admin/types")
    assert page.status_code == 200
    for url, data in ADMIN_POSTS:
        assert client.post(url, data).status_code == 403, url
    assert not RecordType.objects.filter(key="vendor").exists()
    token = client.cookies["csrftoken"].value
    resp = client.post("/admin/types", {"key": "vendor", "csrfmiddlewaretoken": token})
    assert resp.status_code == 302
    assert RecordType.objects.filter(key="vendor").exists()
    # htmx sends the token as a header, from <body hx-headers>
    assert 'hx-headers=\'{"X-CSRFToken": "' in _html(page)
    resp = client.post(
        "/admin/relationship-types",
        {"name": "mentors", "inverse": "mentored_by"},
        HTTP_X_CSRFTOKEN=token,
        **HX,
    )
    assert resp.status_code == 200


# -- overview ---------------------------------------------------------------------------------


def test_overview_counts_and_links(admin: Client, django_assert_max_num_queries: Any) -> None:
    define_type(key="vendor", fields=["tier:choice:gold|silver", "since:date"])
    add_type(name="mentors", inverse="mentored_by")
    add_user(email="sam@our.test", role="member", team="sales")
    add_webhook(url="https://hooks.test/in", events=["*"])
    with django_assert_max_num_queries(12):
        resp = admin.get("/admin")
    html = _html(resp)
    assert resp.status_code == 200
    for section in ["types", "relationship-types", "users", "tokens", "webhooks", "audit"]:
        assert f'href="/admin/{section}"' in html
    assert re.search(r'<span class="score">1</span> custom type\b', html)
    assert re.search(r'<span class="score">2</span> active users', html)
    assert "1 team" in html and "user.added" in html


# -- record types and fields ------------------------------------------------------------------


def test_define_a_type_with_fields(admin: Client) -> None:
    resp = admin.post(
        "/admin/types",
        {
            "key": "Vendor",
            "label": "Supplier",
            "f0-name": "tier",
            "f0-kind": "choice",
            "f0-choices": "gold|silver",
            "f0-required": "1",
            "f1-name": "",
            "f2-name": "website",
            "f2-kind": "url",
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/admin/types"
    assert get_type("vendor").label == "Supplier"
    fields = {f.name: f for f in field_defs("vendor")}
    assert set(fields) == {"tier", "website"}
    assert fields["tier"].choices == ["gold", "silver"] and fields["tier"].required
    assert fields["website"].kind == "url" and not fields["website"].required
    html = _html(admin.get("/admin/types"))
    assert "Record type Supplier (vendor) defined with 2 field(s)." in html
    assert "Supplier" in html and '<span class="tag">gold</span>' in html
    assert "required" in html and "<td>url</td>" in html


def test_type_errors_show_next_to_the_field(admin: Client) -> None:
    cases = [
        ({"key": ""}, "type-new-key", "Name the type"),
        ({"key": "9lives"}, "type-new-key", "must start with a letter"),
        ({"key": "person"}, "type-new-key", "already exists"),
        ({"key": "vendor", "label": "x" * 81}, "type-new-label", "longer than 80"),
        (
            {"key": "vendor", "f0-name": "tier", "f0-kind": "choice"},
            "type-new-f0-choices",
            "list the options",
        ),
        (
            {
                "key": "vendor",
                "f0-name": "a",
                "f1-name": "size",
                "f1-kind": "text",
                "f1-choices": "x",
            },
            "type-new-f1-choices",
            "only choice fields",
        ),
        ({"key": "vendor", "f1-name": "size", "f2-name": "Size"}, "type-new-f2-name", "already"),
        ({"key": "vendor", "f0-name": "email"}, "type-new-f0-name", "built-in attribute"),
        ({"key": "vendor", "f0-name": "a:b"}, "type-new-f0-name", "must start with a letter"),
        ({"key": "vendor", "f0-name": "tier", "f0-kind": "blob"}, "type-new-f0-kind", "not a"),
        ({"key": "vendor\x00"}, "type-new-key", "NUL"),
        ({"key": "v" * 100_000}, "type-new-key", "longer than 40"),
    ]
    for data, control, text in cases:
        resp = admin.post("/admin/types", data)
        assert resp.status_code in (400, 409), data
        assert text.casefold() in _error_next_to(_html(resp), control), data
    assert not RecordType.objects.filter(builtin=False).exists()
    # the values typed stay in the form
    resp = admin.post(
        "/admin/types", {"key": "vendor", "label": "Vend", "f0-name": "t", "f0-kind": "choice"}
    )
    assert 'value="Vend"' in _html(resp)


def test_add_a_field_to_a_type(admin: Client) -> None:
    define_type(key="vendor")
    resp = admin.post("/admin/types/vendor/fields", {"name": "rating", "kind": "number"}, **HX)
    assert resp.status_code == 200
    html = _html(resp)
    assert "<html" not in html  # the fragment, for htmx
    assert "Field rating (number) added to vendor." in html and "<td>rating</td>" in html
    assert [f.name for f in field_defs("vendor")] == ["rating"]
    resp = admin.post("/admin/types/vendor/fields", {"name": "rating", "kind": "text"})
    assert resp.status_code == 409
    assert "already has a field" in _error_next_to(_html(resp), "field-vendor-name")
    make_org("Acme")
    resp = admin.post(
        "/admin/types/organization/fields", {"name": "tier", "kind": "text", "required": "1"}
    )
    assert resp.status_code == 400
    assert "records exist without it" in _error_next_to(_html(resp), "field-organization-name")
    resp = admin.post("/admin/types/vendor/fields", {"name": "", "kind": "text"})
    assert "name the field" in _error_next_to(_html(resp), "field-vendor-name")
    resp = admin.post("/admin/types/nosuch/fields", {"name": "x", "kind": "text"})
    assert resp.status_code == 404 and "unknown record type" in _html(resp).lower()
    assert [f.name for f in field_defs("vendor")] == ["rating"]


def test_type_names_are_escaped(admin: Client) -> None:
    admin.post(
        "/admin/types", {"key": "vendor", "label": XSS, "f0-name": "tier", "f0-kind": "text"}
    )
    for url in ["/admin/types", "/admin/relationship-types"]:
        html = _html(admin.get(url))
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_types_list_query_count(admin: Client, django_assert_max_num_queries: Any) -> None:
    for i in range(15):
        define_type(key=f"kind{i}", fields=["a:text", "b:number", "c:choice:x|y"])
    with django_assert_max_num_queries(7):
        resp = admin.get("/admin/types")
    assert resp.status_code == 200
    assert _html(resp).count("Add a field to") == RecordType.objects.count()  # 15 and built-ins


# -- relationship types -----------------------------------------------------------------------


def test_add_relationship_types(admin: Client, django_assert_max_num_queries: Any) -> None:
    define_type(key="vendor")
    resp = admin.post(
        "/admin/relationship-types",
        {"name": "supplies", "inverse": "supplied_by", "from": ["vendor"], "to": ["organization"]},
    )
    assert resp.status_code == 302
    t = RelationshipType.objects.get(key="supplies")
    assert (t.inverse, t.from_types, t.to_types, t.rollup) == (
        "supplied_by",
        ["vendor"],
        ["organization"],
        False,
    )
    resp = admin.post(
        "/admin/relationship-types", {"name": "mentors_with", "symmetric": "1", "rollup": "1"}, **HX
    )
    assert resp.status_code == 200 and "Relationship type mentors_with added." in _html(resp)
    assert RelationshipType.objects.get(key="mentors_with").symmetric
    with django_assert_max_num_queries(6):
        html = _html(admin.get("/admin/relationship-types"))
    assert "works_at" in html and "employs" in html  # built in
    assert "supplied_by" in html and '<span class="tag">vendor</span>' in html
    assert '<span class="tag">symmetric</span>' in html and "custom" in html


def test_relationship_type_errors(admin: Client) -> None:
    before = RelationshipType.objects.count()
    cases = [
        ({"name": ""}, "reltype-new-name", "Name the type"),
        ({"name": "mentors"}, "reltype-new-inverse", "either"),
        ({"name": "mentors", "inverse": "x", "symmetric": "1"}, "reltype-new-inverse", "either"),
        ({"name": "mentors", "inverse": "mentors"}, "reltype-new-inverse", "symmetric"),
        ({"name": "works_at", "inverse": "x"}, "reltype-new-name", "already exists"),
        ({"name": "a b!", "inverse": "x"}, "reltype-new-name", "must start with a letter"),
        ({"name": "n" * 61, "inverse": "x"}, "reltype-new-name", "longer than 60"),
    ]
    for data, control, text in cases:
        resp = admin.post("/admin/relationship-types", data)
        assert resp.status_code in (400, 409), data
        assert text.casefold() in _error_next_to(_html(resp), control), data
    resp = admin.post(
        "/admin/relationship-types", {"name": "mentors", "inverse": "x", "from": ["ghost"]}
    )
    assert resp.status_code == 404
    assert re.search(
        r'<fieldset aria-invalid="true" aria-describedby="reltype-new-from-error"', _html(resp)
    )
    assert 'id="reltype-new-from-error"' in _html(resp)
    assert RelationshipType.objects.count() == before


# -- users and teams --------------------------------------------------------------------------


def test_add_a_user_shows_the_password_once(admin: Client) -> None:
    resp = admin.post("/admin/users", {"email": "Sam@Our.test", "role": "member", "team": "Sales"})
    assert resp.status_code == 200  # an answer, not a redirect: nothing in a URL
    assert resp["Cache-Control"] == "no-store"
    password = _secret(_html(resp))
    assert "One-time password for sam@our.test" in _html(resp)
    user = get_user("sam@our.test")
    assert role_of(user) == "member" and user.kith_profile.team == "sales"
    assert check_credentials(email="sam@our.test", password=password) is not None
    assert password not in _all_pages(admin)
    html = _html(admin.get("/admin/users"))
    assert re.search(r"<h3>sales <span[^>]*>\(1\)</span></h3>\s*<ul[^>]*>\s*<li>sam@our.test", html)


def test_user_errors_show_next_to_the_field(admin: Client) -> None:
    before = User.objects.count()
    cases = [
        ({"email": "", "role": "member"}, "user-new-email", "Enter the user's email"),
        ({"email": "not-an-email", "role": "member"}, "user-new-email", "not a valid email"),
        ({"email": "admin1@our.test", "role": "member"}, "user-new-email", "already exists"),
        ({"email": f"{'a' * 150}@our.test", "role": "member"}, "user-new-email", "longer than"),
        ({"email": "x@our.test", "role": "boss"}, "user-new-role", "not one of"),
        ({"email": "x@our.test", "role": "member", "team": "t" * 61}, "user-new-team", "longer"),
    ]
    for data, control, text in cases:
        resp = admin.post("/admin/users", data)
        assert resp.status_code in (400, 409), data
        assert text.casefold() in _error_next_to(_html(resp), control), data
        assert "secret-value" not in _html(resp)
    assert User.objects.count() == before


def test_change_role_and_team_disable_enable(admin: Client) -> None:
    add_user(email="sam@our.test", role="member")
    resp = admin.post(
        "/admin/users/change", {"email": "sam@our.test", "role": "viewer", "team": "Support"}
    )
    assert resp.status_code == 302
    sam = get_user("sam@our.test")
    assert role_of(sam) == "viewer" and sam.kith_profile.team == "support"
    resp = admin.post("/admin/users/change", {"email": "sam@our.test", "role": "king"}, **HX)
    assert resp.status_code == 400
    row_id = f"user-{sam.pk}"
    assert "not one of" in _error_next_to(_html(resp), f"{row_id}-role")
    resp = admin.post("/admin/users/disable", {"email": "sam@our.test"}, **HX)
    assert resp.status_code == 200 and "Disabled sam@our.test." in _html(resp)
    assert not get_user("sam@our.test").is_active
    assert '<span class="tag">disabled</span>' in _html(resp)
    resp = admin.post("/admin/users/enable", {"email": "sam@our.test"})
    assert resp.status_code == 302 and get_user("sam@our.test").is_active
    resp = admin.post("/admin/users/disable", {"email": "ghost@our.test"})
    assert resp.status_code == 404 and "no user" in _html(resp).lower()


def test_the_last_admin_stays(admin: Client) -> None:
    me = get_user("admin1@our.test")
    for url, data in [
        ("/admin/users/change", {"email": me.username, "role": "member"}),
        ("/admin/users/disable", {"email": me.username}),
    ]:
        resp = admin.post(url, data)
        assert resp.status_code == 409
        assert re.search(
            rf'id="user-{me.pk}-error">Cannot remove the last active admin<', _html(resp)
        )
    me = get_user("admin1@our.test")
    assert me.is_active and role_of(me) == "admin"


def test_reset_password_shows_the_new_one_once(admin: Client) -> None:
    add_user(email="sam@our.test", role="member", password=PASSWORD)
    resp = admin.post("/admin/users/password", {"email": "sam@our.test"})
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    password = _secret(_html(resp))
    assert check_credentials(email="sam@our.test", password=password) is not None
    assert check_credentials(email="sam@our.test", password=PASSWORD) is None
    assert password not in _all_pages(admin)


def test_users_list_query_count_and_escaping(
    admin: Client, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        add_user(email=f"u{i}@our.test", role="member", team=["sales", "support", XSS][i % 3])
    with django_assert_max_num_queries(6):
        resp = admin.get("/admin/users")
    html = _html(resp)
    assert html.count('action="/admin/users/change"') == 31
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- API tokens -------------------------------------------------------------------------------


def test_tokens_secret_shown_once(admin: Client) -> None:
    resp = admin.post("/admin/tokens", {"name": "laptop", "expires": "30"})
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    secret = _secret(_html(resp))
    found = token_user(secret)
    assert found is not None and found[1].username == "admin1@our.test"
    assert found[0].name == "laptop" and found[0].expires_at is not None
    assert secret not in _all_pages(admin)
    html = _html(admin.get("/admin/tokens"))
    assert "laptop" in html and found[0].id in html and "admin1@our.test" in html
    resp = admin.post("/admin/tokens", {"name": "forever", "never": "1", "expires": ""}, **HX)
    assert resp.status_code == 200 and "<html" not in _html(resp)
    forever = token_user(_secret(_html(resp)))
    assert forever is not None and forever[0].expires_at is None


def test_token_errors(admin: Client) -> None:
    for value, text in [
        ("", "whole number"),
        ("abc", "whole number"),
        ("-3", "whole number"),
        ("0", "between 1 and 3650"),
        ("99999", "between 1 and 3650"),
        ("9" * 50, "longer than 10"),
    ]:
        resp = admin.post("/admin/tokens", {"name": "x", "expires": value})
        assert resp.status_code == 400, value
        assert text.casefold() in _error_next_to(_html(resp), "token-new-expires"), value
    resp = admin.post("/admin/tokens", {"name": "n" * 101, "expires": "3"})
    assert "longer than 100" in _error_next_to(_html(resp), "token-new-name")
    assert not ApiToken.objects.exists()


def test_members_and_viewers_manage_only_their_own_tokens(
    make_client: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    admin = make_client("admin")
    member = make_client("member")
    viewer = make_client("viewer")
    theirs, _ = create_token(email="admin1@our.test", name="admins-token")
    resp = viewer.post("/account/tokens", {"name": "viewer-token", "expires": "7"})
    assert resp.status_code == 200
    secret = _secret(_html(resp))
    resp = member.post("/account/tokens", {"name": "member-token", "expires": "7"})
    member_secret = _secret(_html(resp))
    with django_assert_max_num_queries(5):
        html = _html(member.get("/account/tokens"))
    assert "member-token" in html
    assert "admins-token" not in html and "viewer-token" not in html
    assert member_secret not in html and secret not in _html(viewer.get("/account/tokens"))
    assert 'href="/admin' not in html  # no admin links for them
    # revoking someone else's token is refused and changes nothing
    resp = member.post("/account/tokens/revoke", {"token_id": theirs.id})
    assert resp.status_code == 404 and "no token" in _html(resp).lower()
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    mine = ApiToken.objects.get(name="member-token")
    resp = member.post("/account/tokens/revoke", {"token_id": mine.id})
    assert resp.status_code == 302 and resp["Location"] == "/account/tokens"
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert "revoked" in _html(member.get("/account/tokens"))
    resp = member.post("/account/tokens/revoke", {"token_id": mine.id}, **HX)
    assert resp.status_code == 409 and "already revoked" in _html(resp).lower()
    # admins see every token and may revoke any
    html = _html(admin.get("/admin/tokens"))
    assert all(n in html for n in ["admins-token", "viewer-token", "member-token"])
    viewer_token = ApiToken.objects.get(name="viewer-token")
    resp = admin.post("/admin/tokens/revoke", {"token_id": viewer_token.id}, **HX)
    assert resp.status_code == 200 and f"Revoked token {viewer_token.id}." in _html(resp)
    assert ApiToken.objects.get(pk=viewer_token.pk).revoked_at is not None


def test_tokens_list_query_count_and_escaping(
    admin: Client, django_assert_max_num_queries: Any
) -> None:
    for i in range(20):
        add_user(email=f"u{i}@our.test", role="member")
        create_token(email=f"u{i}@our.test", name=f"{XSS} {i}")
    with django_assert_max_num_queries(5):
        html = _html(admin.get("/admin/tokens"))
    assert html.count('action="/admin/tokens/revoke"') == 20
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt; 7" in html


# -- webhooks ---------------------------------------------------------------------------------


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_webhook_secret_shown_once_and_changes(admin: Client) -> None:
    resp = admin.post(
        "/admin/webhooks",
        {"url": "https://hooks.test/kith", "events": ["record.created", "interaction.logged"]},
    )
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    secret = _secret(_html(resp))
    hook = Webhook.objects.get()
    assert hook.secret == secret and hook.events == ["record.created", "interaction.logged"]
    assert secret not in _all_pages(admin)
    resp = admin.post(f"/admin/webhooks/{hook.id}/active", {"active": "0"}, **HX)
    assert resp.status_code == 200 and f"Webhook {hook.id} disabled." in _html(resp)
    assert not Webhook.objects.get().active
    resp = admin.post(f"/admin/webhooks/{hook.id}/active", {"active": "1"})
    assert resp.status_code == 302 and Webhook.objects.get().active
    resp = admin.post("/admin/webhooks/whk_nope/delete", {}, **HX)
    assert resp.status_code == 404 and "no webhook" in _html(resp).lower()
    resp = admin.post(f"/admin/webhooks/{hook.id}/delete", {})
    assert resp.status_code == 302 and not Webhook.objects.exists()
    audit = _html(admin.get("/admin/audit"))
    assert "webhook.added" in audit and "webhook.changed" in audit and "webhook.deleted" in audit


def test_webhook_errors(admin: Client) -> None:
    cases = [
        ({"url": "ftp://x.test/", "events": ["*"]}, "webhook-new-url", "not an http(s) URL"),
        ({"url": "https://x.test/" + "a" * 500, "events": ["*"]}, "webhook-new-url", "longer"),
        ({"url": "https://x.test/", "events": []}, None, "name at least one event"),
        ({"url": "https://x.test/", "events": ["nope"]}, None, "is not an event"),
    ]
    for data, control, text in cases:
        resp = admin.post("/admin/webhooks", data)
        assert resp.status_code == 400, data
        html = _html(resp)
        if control:
            assert text.casefold() in _error_next_to(html, control)
        else:
            assert (
                '<fieldset aria-invalid="true" aria-describedby="webhook-new-events-error"' in html
            )
            assert re.search(rf'id="webhook-new-events-error">[^<]*{re.escape(text)}', html, re.I)
    assert not Webhook.objects.exists()


def test_deliveries_with_attempts_and_redeliver(
    admin: Client, django_assert_max_num_queries: Any
) -> None:

    url = f"http://127.0.0.1:{_closed_port()}/in?q={XSS}"
    hook, _ = add_webhook(url=url, events=["record.created"])
    for i in range(8):
        make_person(f"Person {i}")
    # one failure per round for a dead receiver: the rest wait for the next round
    assert [deliver_due() for _ in range(9)] == [1] * 8 + [0]
    with django_assert_max_num_queries(6):
        resp = admin.get(f"/admin/webhooks/{hook.id}")
    html = _html(resp)
    assert resp.status_code == 200
    assert html.count("record.created<br>") == 8 and html.count("1 attempt and") == 8
    assert XSS not in html and "&lt;script&gt;" in html
    assert html.count("Connection refused") == 8 or html.count("refused") >= 8
    d = Delivery.objects.order_by("created_at", "id").first()
    assert d is not None and d.attempts == 1
    resp = admin.post(f"/admin/deliveries/{d.id}/redeliver", {})
    assert resp.status_code == 302 and resp["Location"] == f"/admin/webhooks/{hook.id}"
    d.refresh_from_db()
    assert d.status == "pending" and d.next_attempt_at <= clock.now()
    resp = admin.post(f"/admin/deliveries/{d.id}/redeliver", {}, **HX)
    assert resp.status_code == 200 and f"Delivery {d.id} is queued" in _html(resp)
    assert admin.post("/admin/deliveries/dlv_nope/redeliver", {}).status_code == 404
    assert "delivery.redelivered" in _html(admin.get("/admin/audit"))
    # filter by status, page with a cursor, and bad filters
    assert "No deliveries with this status" in _html(
        admin.get(f"/admin/webhooks/{hook.id}?status=delivered")
    )
    resp = admin.get(f"/admin/webhooks/{hook.id}?status=lost")
    assert resp.status_code == 400
    assert "not pending, delivered or failed" in _error_next_to(_html(resp), "deliveries-status")
    resp = admin.get(f"/admin/webhooks/{hook.id}?cursor=garbage!")
    assert resp.status_code == 400 and "not a cursor" in _html(resp).lower()
    assert admin.get("/admin/webhooks/whk_nope").status_code == 404


def test_deliveries_page_by_cursor(admin: Client) -> None:
    hook, _ = add_webhook(url="https://hooks.test/", events=["*"])
    for i in range(30):
        make_person(f"Person {i}")
    html = _html(admin.get(f"/admin/webhooks/{hook.id}"))
    assert html.count('<code class="small">dlv_') == 25
    nxt = re.search(r'href="(/admin/webhooks/[^"]+cursor=[^"]+)">Older deliveries', html)
    assert nxt
    html = _html(admin.get(nxt.group(1).replace("&amp;", "&")))
    assert html.count('<code class="small">dlv_') == 5


def test_webhooks_list_query_count(admin: Client, django_assert_max_num_queries: Any) -> None:
    for i in range(20):
        add_webhook(url=f"https://hooks.test/{i}?q={XSS}", events=["*"])
    with django_assert_max_num_queries(5):
        html = _html(admin.get("/admin/webhooks"))
    assert html.count("Deliveries</a>") == 20
    assert XSS not in html and "&lt;script&gt;" in html


# -- audit log --------------------------------------------------------------------------------


def test_audit_log_filters_and_pages(admin: Client, django_assert_max_num_queries: Any) -> None:
    for i in range(60):
        audit("export", actor="robot@our.test", target=f"{XSS}{i}")
    add_user(email="sam@our.test", role="member")
    with django_assert_max_num_queries(5):
        resp = admin.get("/admin/audit")
    html = _html(resp)
    entries = _audit_entries(html)
    assert resp.status_code == 200 and entries.count("<tr>") == 51  # header + one page of 50
    assert XSS not in html and "&lt;script&gt;" in html
    nxt = re.search(r'href="(/admin/audit\?[^"]*cursor=[^"]+)">Older entries', entries)
    assert nxt
    older = _audit_entries(_html(admin.get(nxt.group(1).replace("&amp;", "&"))))
    assert older.count("<tr>") == 1 + 12  # 60 exports and two users added
    html = _audit_entries(_html(admin.get("/admin/audit?action=user.added")))
    assert html.count("<tr>") == 3 and "sam@our.test" in html and "admin1@our.test" in html
    html = _audit_entries(_html(admin.get("/admin/audit?actor=robot@our.test&action=export")))
    assert html.count("<tr>") == 51 and "user.added" not in html.split("<tbody>")[1]
    html = _audit_entries(_html(admin.get("/admin/audit?actor=nobody@our.test")))
    assert "No entries match" in html
    assert "<tr>" not in html
    html = _html(admin.get("/admin/audit?since=2999-01-01"))
    assert "No entries match" in html


def test_audit_log_bad_filters(admin: Client) -> None:
    resp = admin.get("/admin/audit?since=yesterday-ish")
    assert resp.status_code == 400
    assert _error_next_to(_html(resp), "audit-since")
    resp = admin.get("/admin/audit?cursor=%%%")
    assert resp.status_code == 400 and "not a cursor" in _html(resp).lower()
    resp = admin.get("/admin/audit?action=" + "a" * 5000)
    assert resp.status_code == 400
    assert "longer than 40" in _error_next_to(_html(resp), "audit-action")
    resp = admin.get("/admin/audit?actor=%00")
    assert resp.status_code == 400 and "nul character" in _error_next_to(_html(resp), "audit-actor")


def test_admin_changes_reach_the_audit_log(admin: Client) -> None:
    admin.post("/admin/types", {"key": "vendor", "f0-name": "tier", "f0-kind": "text"})
    admin.post("/admin/types/vendor/fields", {"name": "score", "kind": "number"})
    admin.post("/admin/relationship-types", {"name": "mentors", "inverse": "mentored_by"})
    admin.post("/admin/users", {"email": "sam@our.test", "role": "member"})
    admin.post("/admin/tokens", {"name": "ci", "expires": "5"})
    html = _html(admin.get("/admin/audit?actor=admin1@our.test"))
    for action in [
        "type.defined",
        "type.field_added",
        "reltype.added",
        "user.added",
        "token.created",
    ]:
        assert f">{action}</a>" in html, action
    assert "127.0.0.1" in html


def test_every_field_row_error_shows_at_once(admin: Client) -> None:
    resp = admin.post(
        "/admin/types",
        {
            "key": "",
            "f0-name": "tier",
            "f0-kind": "text",
            "f1-name": "9x",
            "f2-name": "size",
            "f2-kind": "text",
            "f2-choices": "a|b",
            "f3-name": "Tier",
            "f4-name": "level",
            "f4-kind": "choice",
        },
    )
    assert resp.status_code == 400
    html = _html(resp)
    assert "name the type" in _error_next_to(html, "type-new-key")
    assert "list the options" in _error_next_to(html, "type-new-f4-choices")
    assert "aria-invalid" not in re.search(r'<input id="type-new-f0-name"[^>]*>', html).group(0)
    assert "must start with a letter" in _error_next_to(html, "type-new-f1-name")
    assert "only choice fields" in _error_next_to(html, "type-new-f2-choices")
    assert "already has this field" in _error_next_to(html, "type-new-f3-name")
    assert html.count("data-field-row>") == 5  # the rows sent come back, with their values
    assert 'value="Tier"' in html
