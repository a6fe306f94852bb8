"""Property-based run of schemathesis over the live OpenAPI document (in-process WSGI).

Every operation gets generated requests, valid and invalid, as an admin (who may call
everything); the checks: no server error, responses match the documented schemas, status
codes and content types.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kith.server.tests.conftest import make_caller

pytestmark = pytest.mark.slow


def _app():  # type: ignore[no-untyped-def]

    return WSGIHandler()


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app())
EXAMPLES = int(os.environ.get("KITH_SCHEMATHESIS_EXAMPLES", "20"))


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """Like Django's test client: requests must not close the test's DB connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token() -> str:
    caller = make_caller("fuzz@our.test", "admin")
    assert caller.token
    return caller.token


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms(case: schemathesis.Case, token: str) -> None:
    if case.path in {"/api/v1/auth/logout"}:
        return  # would end the caller's own session; covered in test_auth
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
        ]
    )
