"""The API test fixtures (a user per role with a token) for the accounts tests."""

from kith.server.tests.conftest import _no_rate_limit, admin, member  # noqa: F401
