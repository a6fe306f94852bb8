"""What is left of the API's own reads while they move into the apps (see issue 10).

Lists, pages and history are the apps' selectors now; visibility is decided by
``kith.records.selectors.resolve``, given the viewer of the calling user.
"""

from __future__ import annotations

from typing import Any

from kith.accounts.selectors import viewer_of
from kith.records.models import Record
from kith.records.selectors import resolve


def visible_record(user: Any, ref: str, *, field: str = "ref", deleted: bool = False) -> Record:
    """Resolve ``ref`` among the records ``user`` may see (a hidden one is not found)."""
    return resolve(viewer_of(user), ref, include_deleted=deleted, field=field)
