"""An export holds what its viewer may see: no hidden record, nor a hidden employer's name."""

from __future__ import annotations

import io
import json

from django.contrib.auth import get_user_model

from kith.core.viewer import SYSTEM, Viewer
from kith.imports.selectors import export
from kith.records.models import Record
from kith.testing import make_org, make_person


def test_the_export_of_a_viewer_leaves_hidden_records_out() -> None:
    users = get_user_model().objects
    owner = Viewer(user_id=users.create_user(username="owner@our.test").pk)
    other = Viewer(user_id=users.create_user(username="other@our.test").pk)
    hush = make_org("Hush Ltd")
    make_person("Ann Public", org=hush, role="CFO")
    make_person("Secret Sam", email="sam@hidden.test")
    Record.objects.filter(name__in=["Hush Ltd", "Secret Sam"]).update(
        private=True, owner_id=owner.user_id
    )

    def names(viewer: Viewer) -> tuple[int, str]:
        out = io.StringIO()
        n = export(viewer, out, fmt="json")
        return n, out.getvalue()

    n_all, everything = names(SYSTEM)
    assert n_all == 3 and "Hush Ltd" in everything and "sam@hidden.test" in everything
    n, seen = names(other)
    assert n == 1 and "Hush" not in seen and "Secret" not in seen and "sam@" not in seen
    assert [r["name"] for r in json.loads(seen)["records"]] == ["Ann Public"]
    assert names(owner) == (n_all, everything)
