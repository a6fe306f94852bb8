"""The API test fixtures (a user per role with a token) for webhook tests."""

from kith.server.tests.conftest import _no_rate_limit, admin, member  # noqa: F401
