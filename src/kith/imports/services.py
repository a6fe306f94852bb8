"""``import_file``: read any supported file, validate it all, match, and write in one go.

All-or-nothing by default: every unit is validated, and if any is bad nothing is written
and the error lists each bad one. ``skip_bad`` writes the good ones and puts the bad ones
in a reject file of the same format; ``dry_run`` reports and writes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from kith.core.errors import KithError, ValidationError
from kith.core.events import publish
from kith.core.viewer import Viewer
from kith.imports import detect as detecting
from kith.imports import ical, mail
from kith.imports.budget import Budget
from kith.imports.cells import safe_cell
from kith.imports.items import BadRow, RecordIn, Unit
from kith.imports.reading import (
    MAX_LISTED,
    UNIT_NOUN,
    parse_map,
    unit_chunks,
)
from kith.imports.tabular import encoding_note
from kith.imports.validate import FieldSpecs, reltype_for, validate
from kith.imports.writer import Writer
from kith.records.normalize import normalize_domain, normalize_email

Progress = Callable[[int], None]


class ImportFailed(ValidationError):
    """Bad units found; nothing was written. ``report`` holds the details."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message, field="file")
        self.report = report


class _Rejects:
    """Bad units written back out in their own format, so they can be fixed and re-imported."""

    def __init__(self, path: str, fmt: str, header: list[str] | None) -> None:
        self.path, self.fmt, self.header = path, fmt, header
        self.items: list[Any] = []

    def add(self, unit: Unit) -> None:
        self.items.append(unit.raw)

    def write(self) -> None:

        if self.fmt == "xlsx":
            from openpyxl import Workbook  # noqa: PLC0415 - openpyxl costs 125 ms to import

            wb = Workbook(write_only=True)
            ws = wb.create_sheet("rejects")
            ws.append([safe_cell(str(c)) for c in self.header or []])
            for row in self.items:
                ws.append([safe_cell(str(c)) for c in row])
            wb.save(self.path)
        elif self.fmt in ("mbox", "maildir", "eml"):
            with open(self.path, "wb") as fb:
                for raw in self.items:
                    fb.write(mail.mbox_entry(raw))
        elif self.fmt == "vcard":
            with open(self.path, "w", encoding="utf-8", newline="") as fh:
                fh.write("".join(self.items))
        elif self.fmt == "ics":
            with open(self.path, "w", encoding="utf-8", newline="") as fh:
                fh.write(ical.wrap_events(self.items))
        elif self.fmt == "json":
            with open(self.path, "w", encoding="utf-8") as fh:
                json.dump({"records": self.items}, fh, ensure_ascii=False, indent=1)
        else:
            with open(self.path, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow([safe_cell(str(c)) for c in self.header or []])
                writer.writerows([safe_cell(str(c)) for c in row] for row in self.items)


def default_reject_path(path: str, fmt: str) -> str:
    ext = {"maildir": ".mbox", "eml": ".mbox", "mbox": ".mbox", "vcard": ".vcf", "ics": ".ics",
           "xlsx": ".xlsx", "json": ".json"}.get(fmt, ".csv")  # fmt: skip
    base = Path(path.rstrip("/"))
    return str(base.with_name(base.stem + ".rejects" + ext))


def import_file(
    *,
    viewer: Viewer,
    path: str,
    fmt: str | None = None,
    mapping: list[str] | None = None,
    dry_run: bool = False,
    skip_bad: bool = False,
    reject: str | None = None,
    bodies: bool = False,
    progress: Progress | None = None,
    exclude_domains: list[str] | None = None,
    exclude_addresses: list[str] | None = None,
) -> dict[str, Any]:
    """Import ``path`` as ``viewer``; returns a report. Raises ImportFailed on bad units.

    Incoming rows match only records ``viewer`` may see: an import never writes into
    (nor ties new records to) another user's private record, and its counts say nothing
    of them. The CLI imports as ``SYSTEM``.
    """
    name = detecting.check_path(path)
    fmt = detecting.normalize_format(fmt) if fmt else detecting.detect(path)
    report: dict[str, Any] = {"file": name, "format": fmt, "dry_run": dry_run}
    excludes = _excludes(exclude_domains or [], exclude_addresses or [])
    try:
        return _run(
            viewer,
            path,
            name,
            fmt,
            mapping or [],
            dry_run,
            skip_bad,
            reject,
            bodies,
            progress,
            report,
            excludes,
        )
    except ImportFailed:
        raise
    except KithError as exc:
        msg = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        raise ValidationError(msg, field=exc.field) from None
    except (OSError, UnicodeError, ValueError, LookupError, RuntimeError) as exc:
        raise ValidationError(
            f"{name}: could not be read ({type(exc).__name__}: {exc})", field="file"
        ) from None


def _run(
    viewer: Viewer,
    path: str,
    name: str,
    fmt: str,
    map_items: list[str],
    dry_run: bool,
    skip_bad: bool,
    reject: str | None,
    bodies: bool,
    progress: Progress | None,
    report: dict[str, Any],
    excludes: tuple[list[str], list[str]] = ([], []),
) -> dict[str, Any]:
    specs = FieldSpecs()
    mapping = parse_map(map_items, specs)
    bad: list[BadRow] = []
    bad_count = 0
    units_seen = 0
    rejects: _Rejects | None = None
    failing = False
    source = f"import:{name}"[:200]
    chunks = unit_chunks(fmt, path, name, specs, mapping, bodies, report)  # lazy
    budget = Budget(name)

    def refuse(unit: Unit) -> None:
        """Count a bad unit: listed, put in the reject file, or failing the import."""
        nonlocal bad_count, rejects, failing
        assert unit.error is not None
        bad_count += 1
        if len(bad) < MAX_LISTED:
            bad.append(unit.error)
        if skip_bad:
            if rejects is None:
                rejects = _Rejects(
                    reject or default_reject_path(path, fmt), fmt, report.get("header")
                )
            rejects.add(unit)
        else:
            failing = True

    with transaction.atomic(), contextlib.closing(chunks):  # closing stops a helper process
        writer = Writer(
            viewer=viewer,
            source=source,
            write=lambda: not failing,
            exclude_domains=excludes[0],
            exclude_addresses=excludes[1],
        )
        for chunk in chunks:
            good: list[tuple[Unit, RecordIn | None]] = []
            for unit in chunk:
                units_seen += 1
                notes = unit.notes + (unit.record.notes() if unit.record is not None else [])
                writer.warnings.extend(f"{unit.where}: {note}" for note in notes)
                result: RecordIn | BadRow | None = None
                if unit.error is None and unit.record is not None:
                    result = validate(unit.record, specs, unit.where)
                    if isinstance(result, BadRow):
                        unit.error = result
                    elif result is None:
                        writer.counts["skipped_empty"] += 1
                        writer.warnings.append(f"{unit.where}: nothing identifies it; skipped")
                        continue
                if unit.error is not None:
                    refuse(unit)
                    continue
                good.append((unit, result if isinstance(result, RecordIn) else None))
            records = [r for _, r in good if r is not None]
            inters = [i for u, _ in good for i in u.interactions]
            writer.prefetch(records, inters)
            for unit, rec in good:
                if rec is not None:
                    unit.error = writer.conflict(rec, unit.where)
                    if unit.error is not None:
                        refuse(unit)
                        continue
                    writer.add_record(rec, unit.where)
                for item in unit.interactions:
                    writer.add_interaction(item)
            writer.end_batch()
            budget.check(units_seen)
            if progress:
                progress(len(chunk))
        writer.finish()
        if units_seen == 0:
            raise ValidationError(
                f"{name}: nothing to import (no rows, cards, events or messages found)",
                field="file",
            )
        counts = dict(sorted(writer.counts.items()))
        report.update(
            units=units_seen,
            imported=units_seen - bad_count,
            bad_count=bad_count,
            bad=[b.as_dict() for b in bad],
            counts=counts,
            warnings=encoding_note(report) + writer.warnings[:MAX_LISTED],
        )
        report.pop("header", None)
        if dry_run and fmt in ("mbox", "maildir", "eml"):
            report["would_create"] = writer.mail_creations(MAX_LISTED)
        if bad_count and not skip_bad:
            noun = UNIT_NOUN.get(fmt, "row")
            listed = "; ".join(b.line() for b in bad[:5])
            more = f" (and {bad_count - 5} more)" if bad_count > 5 else ""
            raise ImportFailed(
                f"{name}: {bad_count} bad {noun}{'s' if bad_count != 1 else ''}, nothing "
                f"imported (--skip-bad imports the rest): {listed}{more}",
                report,
            )
        if dry_run:
            transaction.set_rollback(True)
        else:
            report["created_ids"] = sorted(writer.created)[:MAX_LISTED]  # a sample, to open
            touched = sorted(writer.touched) if writer.touched is not None else None
            publish("bulk.loaded", counts=counts, people=touched)
            if rejects is not None:
                rejects.write()
                report["reject_file"] = rejects.path
    return report


def _excludes(domains: list[str], addresses: list[str]) -> tuple[list[str], list[str]]:
    """``--exclude-domain`` and ``--exclude-address`` values, normalised, or a one-line
    error naming the bad one."""
    out_domains = [normalize_domain(d, field="--exclude-domain") for d in domains]
    out_addresses = [normalize_email(a, field="--exclude-address") for a in addresses]
    return out_domains, out_addresses


def rejects_io(text: str) -> io.StringIO:  # small helper for tests reading reject files
    return io.StringIO(text)


__all__ = ["ImportFailed", "import_file", "reltype_for"]
