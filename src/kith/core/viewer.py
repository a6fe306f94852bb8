"""Who is reading: every selector takes a ``Viewer`` and applies visibility in its query."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Viewer:
    """The acting reader: a user, or the system (the CLI and background jobs).

    A user sees every public record and the private records they own; an admin and the
    system see everything. Built by the shells (``kith.accounts.selectors.viewer_of``)
    and passed down; the domain never looks at a request or a Django user.
    """

    user_id: int | None = None
    admin: bool = False
    label: str = "system"

    @property
    def sees_everything(self) -> bool:
        """True when no record is hidden from this viewer."""
        return self.admin

    @property
    def is_system(self) -> bool:
        """True for the CLI and background jobs, which act for the whole workspace."""
        return self.admin and self.user_id is None


SYSTEM = Viewer(user_id=None, admin=True, label="system")
