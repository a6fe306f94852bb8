"""Kith, a relationship-first CRM.

import kith
ws = kith.open("sqlite:///crm.db")
acme = ws.records.add_organization(name="Acme", domains=["acme.com"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kith.conf import VERSION as __version__

if TYPE_CHECKING:
    from kith.workspace import Workspace

__all__ = ["__version__", "open"]


def open(url: str | None = None) -> Workspace:
    """Open (creating or migrating as needed) the workspace at ``url``.

    ``url`` is ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``; without it,
    ``KITH_DB`` or the default file in the user's data directory is used.
    """
    from kith.bootstrap import setup
    from kith.workspace import Workspace

    return Workspace(setup(url))
