"""Conformance: every file of ../shared/testdata imports, or fails with a clear KithError
naming the file and the record, and writes nothing. Skipped when the folder is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kith.core.errors import KithError
from kith.core.viewer import SYSTEM
from kith.imports.services import ImportFailed, import_file
from kith.interactions.models import Interaction
from kith.records.models import ContactPoint, Record
from kith.relationships.models import Relationship


def _corpus() -> Path:
    """KITH_TESTDATA, else ../shared/testdata beside the checkout, else the workplace's copy."""
    if env := os.environ.get("KITH_TESTDATA"):
        return Path(env)
    beside = Path(__file__).resolve().parents[5] / "shared" / "testdata"
    return beside if beside.is_dir() else Path("/work/shared/testdata")


CORPUS = _corpus()
SKIP_NAMES = {"README.md", "SOURCES.md"}


def _inputs() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    out: list[Path] = []
    for folder in ("csv", "vcard", "ics"):
        for f in sorted((CORPUS / folder).rglob("*")):
            if f.is_file() and f.name not in SKIP_NAMES and f.suffix in {".csv", ".vcf", ".ics"}:
                out.append(f)
    mail = CORPUS / "mail"
    if mail.is_dir():
        for f in sorted(mail.rglob("*")):
            wanted = f.suffix in {".eml", ".mbox", ".txt"} and "COPYING" not in f.name
            if f.is_file() and wanted and f.name not in SKIP_NAMES:
                out.append(f)
        out += [
            d
            for d in (
                mail / "notmuch_default_corpus",
                mail / "notmuch_broken_corpus",
                mail / "notmuch_threading_corpus",
            )
            if d.is_dir()
        ]
    return out


def _state() -> tuple[int, ...]:
    return (
        Record.objects.count(),
        ContactPoint.objects.count(),
        Relationship.objects.count(),
        Interaction.objects.count(),
    )


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/testdata is not here")
@pytest.mark.parametrize("path", _inputs(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file(path: Path) -> None:
    before = _state()
    try:
        report = import_file(viewer=SYSTEM, path=str(path))
    except ImportFailed as exc:
        assert path.name in exc.message and exc.report["bad"], exc.message
        assert all(b["where"] and b["reason"] for b in exc.report["bad"])
        assert _state() == before, "a failed import must write nothing"
        return
    except KithError as exc:
        assert path.name in exc.message, exc.message
        assert _state() == before, "a failed import must write nothing"
        return
    assert report["units"] >= 1
    again = _state()
    import_file(viewer=SYSTEM, path=str(path))  # a second import changes nothing
    assert _state() == again
