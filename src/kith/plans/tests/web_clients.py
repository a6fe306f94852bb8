"""The web page tests' signed-in clients, for the tasks pages."""

from kith.web.tests.conftest import _no_rate_limit, make_client, member, viewer

__all__ = ["_no_rate_limit", "make_client", "member", "viewer"]
