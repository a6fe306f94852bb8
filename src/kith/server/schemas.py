"""Schemas every app's API shares: the base of response shapes, references, errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    """Response shapes are plain pydantic models over dicts: cheaper than ninja.Schema,
    whose ORM getter runs per attribute (a third of a 100-relationship response)."""

    model_config = ConfigDict(populate_by_name=True)


class ErrorOut(Out):
    code: str
    message: str
    field: str | None = None


class ConflictOut(ErrorOut):
    current: dict[str, Any] | None = None


class Ref(Out):
    id: str
    name: str
    type: str


class PersonRef(Out):
    id: str
    name: str


# status -> schema for the errors every authenticated endpoint may answer
READ_ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    414: None,  # the HTTP server's answer to a request line too long (no JSON body)
    422: ErrorOut,
    429: ErrorOut,
}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: ErrorOut, 409: ConflictOut}
