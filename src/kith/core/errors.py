"""The errors every interface turns into one clear line (CLI) or a JSON body (API)."""

from __future__ import annotations

from collections.abc import Sequence


class KithError(Exception):
    """A problem the user can fix; its message is shown as-is."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(KithError):
    """Input that is malformed or not allowed; names the field and the value."""

    code = "invalid"


class NotFound(KithError):
    code = "not_found"


class Ambiguous(KithError):
    """A reference that matches several things; lists the candidates."""

    code = "ambiguous"

    def __init__(self, ref: str, candidates: Sequence[str], *, field: str | None = None) -> None:
        shown = "; ".join(candidates[:10])
        more = f" (and {len(candidates) - 10} more)" if len(candidates) > 10 else ""
        super().__init__(
            f"{ref!r} is ambiguous, it matches {len(candidates)}: {shown}{more}", field=field
        )
        self.candidates = list(candidates)


class Conflict(KithError):
    code = "conflict"
