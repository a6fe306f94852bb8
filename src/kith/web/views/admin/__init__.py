"""Admin pages: record types and fields, relationship types, users and teams, API tokens,
webhooks and the audit log; and every user's own API tokens.

Each section is one fragment (``web/_admin_<section>.html``) inside ``web/admin.html``.
htmx forms post to the section and swap in the fresh fragment; plain forms get the page
(after a change without a secret: a redirect). Secrets (one-time passwords, API tokens,
signing secrets) appear once, in the answer to the POST that made them, sent with
``Cache-Control: no-store``: never in a URL, a flash message, a log or a later page.
"""

from __future__ import annotations

from django.urls import path

from kith.web.views.admin.hooks import (
    audit_log,
    deliveries,
    redeliver,
    webhook_active,
    webhook_delete,
    webhooks_page,
)
from kith.web.views.admin.people import (
    admin_revoke,
    admin_tokens,
    change_user,
    disable_user,
    enable_user,
    own_revoke,
    own_tokens,
    reset_password,
    users_page,
)
from kith.web.views.admin.schema import add_field, overview, reltypes_page, types_page

urlpatterns = [
    path("admin", overview, name="admin-home"),
    path("admin/types", types_page, name="admin-types"),
    path("admin/types/<str:key>/fields", add_field, name="admin-type-field"),
    path("admin/relationship-types", reltypes_page, name="admin-reltypes"),
    path("admin/users", users_page, name="admin-users"),
    path("admin/users/change", change_user, name="admin-user-change"),
    path("admin/users/disable", disable_user, name="admin-user-disable"),
    path("admin/users/enable", enable_user, name="admin-user-enable"),
    path("admin/users/password", reset_password, name="admin-user-password"),
    path("admin/tokens", admin_tokens, name="admin-tokens"),
    path("admin/tokens/revoke", admin_revoke, name="admin-token-revoke"),
    path("account/tokens", own_tokens, name="account-tokens"),
    path("account/tokens/revoke", own_revoke, name="account-token-revoke"),
    path("admin/webhooks", webhooks_page, name="admin-webhooks"),
    path("admin/webhooks/<str:hook_id>", deliveries, name="admin-webhook"),
    path("admin/webhooks/<str:hook_id>/active", webhook_active, name="admin-webhook-active"),
    path("admin/webhooks/<str:hook_id>/delete", webhook_delete, name="admin-webhook-delete"),
    path("admin/deliveries/<str:delivery_id>/redeliver", redeliver, name="admin-redeliver"),
    path("admin/audit", audit_log, name="admin-audit"),
]
