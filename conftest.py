"""Test-wide fixtures: every test gets a database (rolled back after it)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _database(db: None) -> None:
    """Give every test the database; pytest-django rolls it back afterwards."""


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the ``kith`` CLI in-process: ``code, out, err = cli("show", "x")``."""
    from kith.cli.main import run

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke
