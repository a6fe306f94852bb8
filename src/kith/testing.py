"""Typed helpers that build test data through the real services (no fixtures by hand)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kith.bulk.services import load
from kith.interactions.models import Interaction
from kith.interactions.services import log_interaction
from kith.records.models import Record
from kith.records.normalize import normalize_domain, normalize_email, normalize_phone
from kith.records.selectors import home_org
from kith.records.services import add_organization, init_workspace
from kith.relationships.models import Relationship
from kith.relationships.services import add_person_at
from kith.relationships.services import relate as _relate


def make_org(name: str = "Acme", *, domains: tuple[str, ...] = (), **fields: Any) -> Record:
    return add_organization(name=name, domains=domains, fields=fields)


def make_person(
    name: str = "Jane Doe",
    *,
    email: str | None = None,
    org: Record | None = None,
    role: str = "",
    since: dt.date | str | None = None,
    **fields: Any,
) -> Record:
    return add_person_at(
        name=name,
        emails=[email] if email else [],
        fields=fields,
        org=org.id if org else None,
        role=role or None,
        since=since,
    )


def make_home(name: str = "Our Co", domain: str = "our.test") -> Record:
    init_workspace(home=name, domains=[domain])
    home = home_org()
    assert home is not None
    return home


def relate(
    a: Record,
    type_name: str,
    b: Record,
    *,
    since: str | None = None,
    until: str | None = None,
    role: str = "",
) -> Relationship:
    return _relate(a=a.id, type_name=type_name, b=b.id, since=since, until=until, role=role)


def log(
    kind: str,
    *people: Record,
    at: str | dt.datetime | None = None,
    links: tuple[Record, ...] = (),
    **extra: Any,
) -> Interaction:
    interaction, _ = log_interaction(
        kind=kind,
        participants=[(p.id, None) for p in people],
        links=[r.id for r in links],
        at=at,
        **extra,
    )
    return interaction


def load_contact(record: Record, kind: str, value: str) -> None:
    """Attach a contact point through the bulk loader, unchecked.

    The record services refuse an email another live record has; a bulk load, or a
    workspace from before that check, can still hold such duplicates, which is what the
    duplicate finder and merge are for.
    """
    normal = {"email": normalize_email, "phone": normalize_phone, "domain": normalize_domain}
    normalized = normal[kind](value, field=kind)
    shown = normalized if kind == "email" else value.strip()
    primary = not record.contacts.filter(kind=kind).exists()
    load(contacts=[(record.id, kind, shown, normalized, primary)])
