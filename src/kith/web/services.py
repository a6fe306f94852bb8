"""Writes of the web app (saved list views, import jobs); one transaction each.

Two sections, each owned by one area of the web app; edit only your own.
"""

from __future__ import annotations

# -- saved list views -------------------------------------------------------------------------


# -- import jobs ------------------------------------------------------------------------------
