"""Whole-workspace backup and restore: a streamed, versioned JSON-lines file (gzip).

File layout, one JSON value per line:

1. header ``{"format": "kith-backup", "version": 1, "tables": {label: rows}, ...}``
2. per table, in dependency order: ``{"table": label, "columns": [...]}``, then one JSON
   array per row, then ``{"end": label, "rows": n}``
3. trailer ``{"done": true, "rows": total}`` (a file without it is truncated)

The tables are those of every app in ``KITH_APPS`` plus whatever they point at (Django's
users, groups, permissions and content types), so tables added by later apps are covered
without changes here. Backup reads one consistent snapshot (one transaction); restore is
one transaction into an empty workspace, streaming in batches in bounded memory.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder

from kith.backup.codec import columns, db_adapters, encode_row, encoders
from kith.backup.files import GZIP_MAGIC
from kith.conf import KITH_APPS
from kith.conf import VERSION as __version__
from kith.core import clock
from kith.core.errors import Conflict, KithError, ValidationError

FORMAT = "kith-backup"
VERSION = 1
BATCH = 2_000
# Rows a brand-new workspace already has (made by migrations or at start-up): a restore
# replaces them with the backup's. Models with a ``builtin`` flag count when all are built in.
SEEDED = {
    "contenttypes.contenttype",
    "auth.permission",
    "accounts.ratecounter",
    "accounts.serversecret",
    "records.workspacesettings",
    "interactions.outcometype",  # the outcome vocabulary a migration seeds
    "dedupe.dupstate",  # when the kept duplicate pairs were last rebuilt (one row)
}

Progress = Callable[[str, int], None]
Model = type[models.Model]


def _deps(model: Model) -> list[Model]:
    out = []
    for f in model._meta.concrete_fields:
        target = f.related_model if f.is_relation else None
        if isinstance(target, type) and target is not model:
            out.append(target)
    return out


def backup_models() -> list[Model]:
    """Every model to save, parents before children (tables of later apps included)."""
    labels = [name.rsplit(".", 1)[-1] for name in KITH_APPS]
    found: list[Model] = []
    for label in labels:
        try:
            found.extend(apps.get_app_config(label).get_models())
        except LookupError:
            continue
    i = 0
    while i < len(found):  # pull in what they point at (users, groups, content types ...)
        targets = _deps(found[i]) + [
            m.related_model
            for m in found[i]._meta.local_many_to_many
            if isinstance(m.related_model, type)
        ]
        for dep in targets:
            if dep not in found:
                found.append(dep)
        i += 1
    for model in list(found):  # many-to-many tables between saved models
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            if through is None or not through._meta.auto_created or through in found:
                continue
            if all(d in found for d in _deps(through)):
                found.append(through)
    ordered: list[Model] = []
    visiting: set[Model] = set()

    def visit(model: Model) -> None:
        if model in ordered or model in visiting:
            return
        visiting.add(model)
        for dep in _deps(model):
            if dep in found:
                visit(dep)
        visiting.discard(model)
        ordered.append(model)

    for model in found:
        visit(model)
    return ordered


def _label(model: Model) -> str:
    return model._meta.label_lower


def _applied_migrations() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        out.setdefault(app, []).append(name)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _is_seeded(model: Model) -> bool:
    if _label(model) in SEEDED:
        return True
    names = {f.name for f in model._meta.concrete_fields}
    if "builtin" in names:
        return not model._default_manager.filter(builtin=False).exists()
    return False


def _write_line(out: IO[str], value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    out.write("\n")


def create_backup(
    path: str | Path, *, overwrite: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """Write every table of the workspace to ``path``; return what was written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValidationError(f"file: {str(target)!r} is a directory", field="file")
    if target.exists() and not overwrite:
        raise Conflict(
            f"file: {str(target)!r} exists; choose another name or --force", field="file"
        )
    if not target.parent.is_dir():
        raise ValidationError(f"file: folder {str(target.parent)!r} does not exist", field="file")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    counts: dict[str, int] = {}
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":  # one snapshot for all tables
                with connection.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            todo = backup_models()
            sizes = {_label(m): m._default_manager.count() for m in todo}
            # a backup holds password hashes, token digests and the signing secret: only
            # its owner may read it (0600), from the first byte on
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            os.chmod(tmp, 0o600)
            with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as out:
                _write_line(
                    out,
                    {
                        "format": FORMAT,
                        "version": VERSION,
                        "kith": __version__,
                        "created_at": clock.now().isoformat(),
                        "vendor": connection.vendor,
                        "migrations": _applied_migrations(),
                        "tables": sizes,
                    },
                )
                for model in todo:
                    counts[_label(model)] = _dump_table(out, model, progress)
                _write_line(out, {"done": True, "rows": sum(counts.values())})
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return {
        "file": str(target),
        "bytes": target.stat().st_size,
        "mode": f"{target.stat().st_mode & 0o777:04o}",  # 0600: it holds secrets
        "tables": counts,
        "rows": sum(counts.values()),
    }


def _dump_table(out: IO[str], model: Model, progress: Progress | None) -> int:
    fields = columns(model)
    names = [f.attname for f in fields]
    encs = encoders(fields)
    label = _label(model)
    _write_line(out, {"table": label, "columns": names})
    n = 0
    rows = model._default_manager.order_by("pk").values_list(*names).iterator(chunk_size=BATCH)
    for row in rows:
        _write_line(out, encode_row(row, encs))
        n += 1
        if progress and n % BATCH == 0:
            progress(label, BATCH)
    if progress and n % BATCH:
        progress(label, n % BATCH)
    _write_line(out, {"end": label, "rows": n})
    return n


class _Reader:
    """Lines of a backup file as JSON values, with clear errors for damaged files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line = 0
        self._fh: IO[str] = gzip.open(path, "rt", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        self._fh.close()

    def __iter__(self) -> Iterator[Any]:
        try:
            for text in self._fh:
                self.line += 1
                try:
                    yield json.loads(text)
                except json.JSONDecodeError as exc:
                    raise self.error(f"not JSON ({exc.msg})") from None
        except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            raise self.error(f"the file is damaged or truncated ({exc})") from None

    def error(self, why: str) -> KithError:
        return ValidationError(f"file: {self.path} line {self.line + 0}: {why}", field="file")


def _check_file(path: str | Path) -> Path:
    source = Path(path).expanduser()
    if not source.is_file():
        raise ValidationError(f"file: no backup file {str(source)!r}", field="file")
    with source.open("rb") as fh:
        if fh.read(2) != GZIP_MAGIC:
            raise ValidationError(
                f"file: {str(source)!r} is not a Kith backup (not gzip)", field="file"
            )
    return source


def _check_header(reader: _Reader, header: Any) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise reader.error("not a Kith backup (no kith-backup header)")
    if header.get("version") != VERSION:
        raise reader.error(
            f"backup format version {header.get('version')!r}; this Kith reads version {VERSION}"
        )
    mine = _applied_migrations()
    newer = [
        f"{app}.{name}"
        for app, names in header.get("migrations", {}).items()
        for name in names
        if name not in mine.get(app, [])
    ]
    if newer:
        raise reader.error(
            f"the backup was made by a newer Kith (unknown migrations: {', '.join(newer[:5])})"
        )
    return header


def _check_empty(todo: list[Model]) -> list[Model]:
    """Refuse a workspace with data; return the tables whose seeded rows will be replaced."""
    busy, seeded = [], []
    for model in todo:
        if not model._default_manager.exists():
            continue
        if _is_seeded(model):
            seeded.append(model)
        else:
            busy.append(f"{model._meta.label} has {model._default_manager.count()} rows")
    if busy:
        raise Conflict(
            "restore: the workspace is not empty (" + "; ".join(busy[:5]) + "); "
            "restore into a new database, e.g. --db sqlite:///restored.db",
            field="file",
        )
    return seeded


def restore_backup(path: str | Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Load a backup into this (empty) workspace: everything or, on any problem, nothing."""
    source = _check_file(path)
    reader = _Reader(source)
    try:
        with transaction.atomic():
            counts = _restore(reader, progress)
    except DatabaseError as exc:
        raise ValidationError(
            f"file: {source} line {reader.line}: the database refused a row ({exc}); "
            "nothing was restored",
            field="file",
        ) from exc
    finally:
        reader.close()

    ContentType.objects.clear_cache()
    return {"file": str(source), "tables": counts, "rows": sum(counts.values())}


def _restore(reader: _Reader, progress: Progress | None) -> dict[str, int]:
    lines = iter(reader)
    header = _check_header(reader, next(lines, None))
    todo = {_label(m): m for m in backup_models()}
    for model in reversed(_check_empty(list(todo.values()))):
        model._default_manager.all().delete()
    counts: dict[str, int] = {}
    done = False
    for item in lines:
        if isinstance(item, dict) and "table" in item:
            label = item["table"]
            found = todo.get(label)
            if found is None:
                raise reader.error(f"table {label!r} is unknown to this Kith")
            counts[label] = _load_table(reader, lines, found, item["columns"], progress)
            expected = header.get("tables", {}).get(label, counts[label])
            if counts[label] != expected:
                raise reader.error(f"{label}: {counts[label]} rows, the header says {expected}")
        elif isinstance(item, dict) and item.get("done"):
            if item.get("rows") != sum(counts.values()):
                raise reader.error("row count differs from the trailer")
            done = True
            break
        else:
            raise reader.error("expected a table header")
    if not done:
        raise reader.error("the file ends early (truncated backup); nothing was restored")
    _reset_sequences([todo[label] for label in counts])
    return counts


def _load_table(
    reader: _Reader,
    lines: Iterator[Any],
    model: Model,
    names: list[str],
    progress: Progress | None,
) -> int:
    fields = {f.attname: f for f in columns(model)}
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise reader.error(f"{_label(model)}: unknown columns {', '.join(unknown)}")
    chosen = [fields[n] for n in names]
    missing = [f for f in fields.values() if f.attname not in names]
    for f in missing:
        if not f.has_default() and not f.null:
            raise reader.error(f"{_label(model)}: column {f.attname!r} is missing")
    adapt = db_adapters(chosen, connection)
    qn = connection.ops.quote_name
    cols = [*chosen, *missing]
    table = qn(model._meta.db_table)
    names_sql = ", ".join(qn(str(f.column)) for f in cols)
    insert = f"INSERT INTO {table} ({names_sql}) VALUES ({', '.join(['%s'] * len(cols))})"
    copy_sql = f"COPY {table} ({names_sql}) FROM STDIN"

    def flush(cur: Any, rows: list[list[Any]]) -> None:
        if connection.vendor == "postgresql":  # COPY: the fast path into PostgreSQL
            with connection.wrap_database_errors, cur.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur.executemany(insert, rows)
        if progress:
            progress(_label(model), len(rows))

    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in missing]
    batch: list[list[Any]] = []
    n = 0
    with connection.cursor() as cur:
        for item in lines:
            if isinstance(item, dict):
                if item.get("end") != _label(model) or item.get("rows") != n:
                    raise reader.error(f"{_label(model)}: expected the end of the table")
                break
            if not isinstance(item, list) or len(item) != len(names):
                raise reader.error(f"{_label(model)}: a row of {len(names)} values expected")
            try:
                row = [
                    None if v is None else to_db(v) for v, to_db in zip(item, adapt, strict=True)
                ]
            except (TypeError, ValueError, AttributeError) as exc:
                raise reader.error(f"{_label(model)}: bad value ({exc})") from None
            batch.append(row + defaults)
            n += 1
            if len(batch) >= BATCH:
                flush(cur, batch)
                batch = []
        else:
            raise reader.error("the file ends early (truncated backup); nothing was restored")
        if batch:
            flush(cur, batch)
    return n


def _reset_sequences(done: list[Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), done)
    if statements:
        with connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)


def read_header(path: str | Path) -> dict[str, Any]:
    """The header of a backup file (what it holds), without loading it."""
    reader = _Reader(_check_file(path))
    try:
        header = next(iter(reader), None)
    finally:
        reader.close()
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValidationError(f"file: {path} is not a Kith backup", field="file")
    return header
