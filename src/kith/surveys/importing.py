"""Import survey responses exported from survey tools (CSV or XLSX), idempotent by response id.

Presets: ``google-forms`` (a Google Forms response sheet: ``Timestamp``, ``Email Address``,
then one column per question, named by the question) and ``generic`` (columns ``score``,
``comment``, ``email``, ``date`` and ``id``/``response_id``; ``name`` optional). The preset
is found from the header when not named; ``--map "Column=target"`` (targets: score,
comment, email, name, date, id, ignore) sets or overrides a column. Other columns are kept
as the response's answers. Every row is checked before anything is written: a bad row is
one line naming the file, the line, the column and the value, and nothing is imported.
A row without an id is identified by a hash of its time, respondent and score column, so
importing the same export again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from kith.core.errors import KithError, ValidationError
from kith.core.parse import parse_datetime
from kith.core.viewer import Viewer
from kith.imports.tabular import Sheet, csv_sheet, xlsx_sheet
from kith.surveys.models import Survey
from kith.surveys.services import get_survey, parse_score, record_response

PRESETS = ("google-forms", "generic")
TARGETS = ("score", "comment", "email", "name", "date", "id", "ignore")
_GENERIC = {
    "score": "score", "rating": "score", "nps": "score", "csat": "score", "comment": "comment",
    "comments": "comment", "feedback": "comment", "email": "email", "email address": "email",
    "e-mail": "email", "date": "date", "submitted": "date", "submitted at": "date",
    "timestamp": "date", "id": "id", "response id": "id", "response_id": "id", "name": "name",
}  # fmt: skip
_SCORE_WORDS = re.compile(r"recommend|likely|satisf|score|rating|rate |easy|effort", re.I)
_COMMENT_WORDS = re.compile(r"why|comment|feedback|reason|tell us|anything|improve", re.I)
_US_TIMES = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")


def _sheet(path: str) -> Sheet:
    name = Path(path).name
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ValidationError(
            f"file: cannot read {path!r} ({exc.strerror})", field="file"
        ) from None
    if head.startswith(b"PK") or name.lower().endswith(".xlsx"):
        return xlsx_sheet(path, name=name)
    return csv_sheet(path, name=name)


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


def columns_for(
    headers: list[str], preset: str | None, survey: Survey | None, mapping: list[str]
) -> tuple[str, dict[int, str]]:
    """(preset, column index -> target) for a header row; errors name the column."""
    norm = [_norm(h) for h in headers]
    chosen = preset or ("google-forms" if "timestamp" in norm else "generic")
    if chosen not in PRESETS:
        raise ValidationError(
            f"preset: {preset!r} is not one of {', '.join(PRESETS)}", field="preset"
        )
    cols: dict[int, str] = {}
    if chosen == "generic":
        for i, h in enumerate(norm):
            if h in _GENERIC and _GENERIC[h] not in cols.values():
                cols[i] = _GENERIC[h]
    else:
        for i, h in enumerate(norm):
            if h == "timestamp":
                cols[i] = "date"
            elif h in ("email address", "email", "username"):
                cols[i] = "email"
        question = _norm(survey.question) if survey else ""
        score = next((i for i, h in enumerate(norm) if question and h == question), None)
        if score is None:
            score = next(
                (i for i, h in enumerate(headers) if i not in cols and _SCORE_WORDS.search(h)),
                None,
            )
        if score is not None:
            cols[score] = "score"
            comment = next(
                (i for i, h in enumerate(headers) if i not in cols and _COMMENT_WORDS.search(h)),
                None,
            )
            if comment is None and score + 1 < len(headers) and score + 1 not in cols:
                comment = score + 1
            if comment is not None:
                cols[comment] = "comment"
    by_name = {_norm(h): i for i, h in enumerate(headers)}
    for item in mapping:
        column, sep, target = item.rpartition("=")
        t = target.strip().lower()
        if not sep or not column.strip():
            raise ValidationError(f"map: {item!r} is not of the form 'Column=target'", field="map")
        if t not in TARGETS:
            raise ValidationError(
                f"map: {target!r} is not one of {', '.join(TARGETS)}", field="map"
            )
        idx = by_name.get(_norm(column))
        if idx is None:
            raise ValidationError(f"map: the file has no column {column.strip()!r}", field="map")
        for k in [k for k, v in cols.items() if v == t and t != "ignore"]:
            del cols[k]
        cols[idx] = t
    if "score" not in cols.values():
        raise ValidationError(
            f"file: no score column found in {', '.join(headers)}; name it with --map "
            "'Column=score'",
            field="map",
        )
    if "email" not in cols.values() and "name" not in cols.values():
        raise ValidationError(
            "file: no email (or name) column to tell who answered; name it with --map "
            "'Column=email'",
            field="map",
        )
    return chosen, cols


def _when(text: str, field: str) -> dt.datetime | None:
    value = text.strip()
    if not value:
        return None
    for fmt in _US_TIMES:  # Google Forms' own export, in a US locale
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    return parse_datetime(value, field=field)


def import_responses(
    *,
    viewer: Viewer,
    path: str,
    survey: str | None = None,
    preset: str | None = None,
    mapping: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Import every row, or none (see the module); returns the counts."""
    s = get_survey(survey) if survey else None
    sheet = _sheet(path)
    rows = iter(sheet.rows)
    headers: list[str] = []
    for _, row in rows:
        if any(c.strip() for c in row):
            headers = [c.strip() for c in row]
            break
    if not headers:
        raise ValidationError(f"{sheet.name}: the file has no rows", field="file")
    chosen, cols = columns_for(headers, preset, s, mapping or [])
    lo, hi = (s.scale_min, s.scale_max) if s else (0, 10)
    parsed: list[dict[str, Any]] = []
    for number, row in rows:
        if not any(c.strip() for c in row):
            continue
        where = f"{sheet.name}: {sheet.label} {number}"
        item: dict[str, Any] = {"answers": {}}
        for i, value in enumerate(row):
            target = cols.get(i)
            col = headers[i] if i < len(headers) else f"column {i + 1}"
            if target is None:
                if value.strip() and i < len(headers):
                    item["answers"][col] = value.strip()
                continue
            if target == "ignore":
                continue
            try:
                if target == "score":
                    item["score"] = parse_score(value, lo, hi, field=col)
                elif target == "date":
                    item["at"] = _when(value, col)
                else:
                    item[target] = value.strip()
            except KithError as exc:
                raise ValidationError(f"{where}: {exc.message}", field="file") from None
        if "score" not in item:
            raise ValidationError(f"{where}: no score", field="file")
        who = item.get("email") or item.get("name")
        if not who:
            raise ValidationError(f"{where}: no email or name of who answered", field="file")
        raw_id = (
            item.get("id")
            or hashlib.sha256(
                f"{item.get('at')}|{who.lower()}|{item['score']}".encode()
            ).hexdigest()[:24]
        )
        item["external_id"] = f"survey-import:{s.id if s else chosen}:{raw_id}"[:500]
        item["who"] = who
        parsed.append(item)
    created = existing = 0
    with transaction.atomic():
        for k, item in enumerate(parsed, 1):
            try:
                _, new = record_response(
                    viewer=viewer,
                    respondent=item["who"],
                    score=item["score"],
                    survey=s.id if s else None,
                    comment=item.get("comment", ""),
                    at=item.get("at"),
                    external_id=item["external_id"],
                    answers=item["answers"],
                    source=f"import:{chosen}",
                )
            except KithError as exc:
                raise ValidationError(
                    f"{sheet.name}: row {k}: {exc.message}", field="file"
                ) from None
            created += new
            existing += not new
            if progress is not None:
                progress(1)
    return {
        "file": sheet.name,
        "preset": chosen,
        "survey": s.id if s else None,
        "columns": {headers[i]: t for i, t in sorted(cols.items())},
        "rows": len(parsed),
        "imported": created,
        "already_there": existing,
    }
