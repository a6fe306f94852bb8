"""Matching incoming people to existing ones, and writing in batches inside one transaction.

New records, contact points, relationships, interactions and their history rows are
collected per chunk and inserted with ``executemany`` (the bulk path's pattern); records
that match existing ones are merged through the ORM with field-level history.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from kith.core import clock
from kith.core.bulk import insert_changes, time_adapter, to_json
from kith.core.context import current_actor
from kith.core.errors import KithError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.services import record_change
from kith.core.viewer import Viewer
from kith.imports.items import BadRow, InteractionIn, PersonRef, RecordIn
from kith.interactions.models import Interaction
from kith.interactions.services import insert_interactions
from kith.records.batch import extend_records, insert_contacts, insert_records, insert_tags
from kith.records.models import ContactPoint, Record, RecordType
from kith.records.normalize import name_key
from kith.records.selectors import can_see, home_org, visible_q
from kith.relationships.models import Relationship
from kith.relationships.services import insert_relationships, relate

FREE_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com",
    "aol.com", "icloud.com", "me.com", "mac.com", "gmx.com", "gmx.de", "gmx.net", "web.de",
    "proton.me", "protonmail.com", "pm.me", "yandex.ru", "yandex.com", "mail.ru", "qq.com",
    "163.com", "126.com", "zoho.com", "fastmail.com", "fastmail.fm", "hey.com", "comcast.net",
    "att.net", "verizon.net", "orange.fr", "free.fr", "laposte.net", "t-online.de",
    "libero.it", "btinternet.com", "sbcglobal.net", "mail.com", "inbox.com", "tutanota.com",
}  # fmt: skip
LOOKUP = 500  # keys per IN (...) query
AUTOMATED = re.compile(
    r"^(?:no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|bounces?|"
    r"notifications?|newsletters?|news|updates|alerts?|info-noreply)(?:[+._-].*)?$"
)


def automated(email: str) -> bool:
    """Whether an address is a machine's (noreply@, mailer-daemon@, notifications@ ...)."""
    return bool(AUTOMATED.match(email.split("@", 1)[0]))


def personal_domain(email: str, name: str) -> bool:
    """Whether a domain is one person's own (jane@janedoe.com, jane@jane.dev): no
    organisation is made of it."""
    local, domain = email.lower().split("@", 1)
    label = domain.split(".")[0]
    words = [w for w in re.split(r"[^a-z]+", (name or "").lower()) if len(w) > 1]
    if label == re.sub(r"[^a-z0-9]", "", local):
        return True
    return len(words) >= 2 and all(w in label for w in words)


def _chunks(items: Sequence[Any], size: int = LOOKUP) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def org_name_from_domain(domain: str) -> str:
    parts = domain.split(".")
    core = parts[-2] if len(parts) >= 2 else parts[0]
    if len(parts) >= 3 and len(core) <= 3:  # acme.co.uk
        core = parts[-3]
    return core.replace("-", " ").title() or domain


@dataclass
class Pending:
    rec: RecordIn
    id: str


@dataclass
class Snap:
    """What an existing record already has, to tell whether an import adds anything."""

    fields: dict[str, Any]
    contacts: set[tuple[str, str]] = field(default_factory=set)
    works: set[tuple[str, str]] = field(default_factory=set)  # (org id, role)


class Writer:
    def __init__(
        self,
        *,
        viewer: Viewer,
        source: str,
        write: Callable[[], bool],
        exclude_domains: Iterable[str] = (),
        exclude_addresses: Iterable[str] = (),
    ) -> None:

        self.viewer = viewer  # matches only records this viewer may see
        self.source = source
        self.write = write  # False once a bad unit makes the import fail: validate only
        self.prefix = dict(RecordType.objects.values_list("key", "id_prefix"))
        self.counts: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.email_ids: dict[str, str] = {}
        self.phone_ids: dict[str, str] = {}
        self.nameorg_ids: dict[tuple[str, str], str] = {}
        self.name_only: dict[str, str | None] = {}
        self.typed_names: dict[tuple[str, str], str] = {}  # (type, name key) -> id
        self.org_by_domain: dict[str, str] = {}
        self.uid_ids: dict[str, str] = {}
        self.known_ext: set[str] = set()
        self.created: set[str] = set()
        # the participants of what it imported, for a pair refresh of just them; None once
        # it changed our team (a works_at to the home organisation: a full rebuild)
        self.touched: set[str] | None = set()
        self.pending: dict[str, Pending] = {}
        self.rels: list[tuple[str, str, str, str]] = []  # (id, from, to, role) works_at
        self.related: list[tuple[str, str, str, str]] = []  # (from id, type, target, where)
        self.tags: list[tuple[str, str]] = []  # (record id, tag) from Labels, CATEGORIES
        self.interactions: list[tuple[InteractionIn, str, list[tuple[str, str]]]] = []
        self.snaps: dict[str, Snap] = {}
        self.extensions: list[tuple[str, list[tuple[str, str, str]], dict[str, Any]]] = []
        self.batch_created: list[str] = []  # records made since the last end_batch
        self.batch_updated: set[str] = set()  # existing records changed since then
        self.names: dict[str, str] = {}  # names of the records this import matched or made
        self.warned: set[str] = set()
        # mail: addresses (and every address of a domain or its subdomains) that make no
        # new person or organisation; and what mail made, for the dry run's list
        self.exclude_domains = {d.lower().strip(".") for d in exclude_domains}
        self.exclude_addresses = {a.lower() for a in exclude_addresses}
        self.new_orgs: dict[str, tuple[str, str]] = {}  # org id -> (domain, name)
        self.new_people: dict[str, tuple[str, str | None]] = {}  # email -> (name, org id)
        self.our_domain: dict[str, bool] = {}  # domain -> is it the home organisation's
        home = home_org()
        if home is not None and not can_see(viewer, home):
            home = None
        self.home_id = home.id if home else None
        self.home_domains: set[str] = set()
        if home is not None:
            self.home_domains = set(
                home.contacts.filter(kind="domain").values_list("normalized", flat=True)
            )
            for d in self.home_domains:
                self.org_by_domain[d] = home.id

    # ----- lookups: one query per kind and chunk -----------------------------------------
    def prefetch(self, records: Sequence[RecordIn], interactions: Sequence[InteractionIn]) -> None:

        seen = visible_q(self.viewer)
        seen_cp = visible_q(self.viewer, "record__")
        emails = {e for r in records for e in r.emails}
        domains = {d for r in records for d in r.domains}
        domains |= {e.rsplit("@", 1)[1] for e in emails if "@" in e}
        # an address known already never needs its domain (person_for), nor does a domain
        # known already need its organisation's name: only what is new is looked up
        new_people = {p.email for i in interactions for p, _ in i.people} - self.email_ids.keys()
        emails |= new_people
        domains |= {e.rsplit("@", 1)[1] for e in new_people if "@" in e} - self.org_by_domain.keys()
        phones = {p[1] for r in records for p in r.phones}
        names = {name_key(r.name) for r in records}
        orgs = {name_key(r.org) for r in records if r.org}
        orgs |= {name_key(org_name_from_domain(d)) for d in domains}
        alive = {"record__deleted_at__isnull": True, "record__merged_into__isnull": True}
        found: set[str] = set()
        for kind, keys, target in (
            ("email", emails - self.email_ids.keys(), self.email_ids),
            ("phone", phones - self.phone_ids.keys(), self.phone_ids),
            ("domain", domains - self.org_by_domain.keys(), self.org_by_domain),
        ):
            for part in _chunks(sorted(keys)):
                rows = ContactPoint.objects.filter(seen_cp, kind=kind, normalized__in=part, **alive)
                for norm, rid in rows.order_by("record_id").values_list("normalized", "record_id"):
                    target.setdefault(norm, rid)
                    found.add(rid)
        todo = sorted((names | orgs) - {k for _, k in self.typed_names})
        for part in _chunks(todo):
            qs = Record.objects.filter(
                seen, name_key__in=part, deleted_at__isnull=True, merged_into__isnull=True
            ).order_by("id")
            counts: Counter[str] = Counter()
            for rid, tkey, nkey in qs.values_list("id", "type_id", "name_key"):
                self.typed_names.setdefault((tkey, nkey), rid)
                if tkey == "person":
                    counts[nkey] += 1
                    self.name_only.setdefault(nkey, rid)
            for nkey, n in counts.items():
                if n > 1:
                    self.name_only[nkey] = None  # ambiguous: never matched by name alone
        pairs = [n for n in names if n]
        for part in _chunks(sorted(pairs)):
            # people by name first (name index), then their jobs (from_record index): a
            # single join lets SQLite scan every works_at row instead
            people = list(
                Record.objects.filter(
                    seen, name_key__in=part, type_id="person", deleted_at__isnull=True
                ).values_list("id", flat=True)
            )
            rels = Relationship.objects.filter(
                visible_q(self.viewer, "to_record__"),
                type_id="works_at",
                from_record_id__in=people,
                until__isnull=True,
            ).values_list("from_record_id", "from_record__name_key", "to_record__name_key")
            for pid, pkey, okey in rels:
                self.nameorg_ids.setdefault((pkey, okey), pid)
                found.add(pid)
        ext = sorted({i.external_id for i in interactions} - self.known_ext)
        for part in _chunks(ext):
            found_ext = Interaction.objects.filter(external_id__in=part).values_list(
                "external_id", flat=True
            )
            self.known_ext.update(e for e in found_ext if e)
        self._load_snaps(sorted(found - self.created - self.snaps.keys()))

    def _load_snaps(self, ids: Sequence[str]) -> None:

        for part in _chunks(ids):
            for rid, fields in Record.objects.filter(pk__in=part).values_list("id", "fields"):
                self.snaps[rid] = Snap(fields=dict(fields or {}))
            for rid, kind, norm in ContactPoint.objects.filter(record_id__in=part).values_list(
                "record_id", "kind", "normalized"
            ):
                self.snaps[rid].contacts.add((kind, norm))
            for rid, org, role in Relationship.objects.filter(
                from_record_id__in=part, type_id="works_at", until__isnull=True
            ).values_list("from_record_id", "to_record_id", "role"):
                self.snaps[rid].works.add((org, role))

    # ----- records -----------------------------------------------------------------------
    def match(self, rec: RecordIn) -> str | None:
        if rec.uid and rec.uid in self.uid_ids:
            return self.uid_ids[rec.uid]
        for e in rec.emails:
            if e in self.email_ids:
                return self.email_ids[e]
        for _, p in rec.phones:
            if p in self.phone_ids:
                return self.phone_ids[p]
        key = name_key(rec.name)
        if rec.type_key != "person":
            for d in rec.domains:
                if d in self.org_by_domain:
                    return self.org_by_domain[d]
            return self.typed_names.get((rec.type_key, key))
        if rec.org:
            return self.nameorg_ids.get((key, name_key(rec.org)))
        if not rec.emails and not rec.phones:
            found = self.name_only.get(key)
            return found if found and found not in self.created else None
        return None

    def conflict(self, rec: RecordIn, where: str) -> BadRow | None:
        """Why ``rec`` cannot be written: its emails are held by two different records.

        Writing it would match one of them and put the other's email on it too, leaving
        one email on two live records; the row is refused instead, naming both.
        """
        target = self.match(rec)
        holders: dict[str, str] = {}  # record id -> the first of its emails in the row
        for e in rec.emails:
            if e in self.email_ids:
                holders.setdefault(self.email_ids[e], e)
        ids = set(holders) | ({target} if target and holders else set())
        if len(ids) < 2:
            return None
        names = self._names(sorted(ids))
        shown = [
            f"{holders[i]} is {names.get(i, i)}'s ({i})" if i in holders
            else f"it matches {names.get(i, i)} ({i})"
            for i in sorted(ids)
        ]  # fmt: skip
        return BadRow(
            where,
            f"{' and '.join(shown)}: one row cannot be two records; merge them first "
            "(kith merge) or split the row",
            column="email",
            value=", ".join(holders[i] for i in sorted(holders)),
        )

    def _names(self, ids: Sequence[str]) -> dict[str, str]:

        out = {i: self.names[i] for i in ids if i in self.names}  # new in this import
        out.update(Record.objects.filter(pk__in=ids).values_list("id", "name"))
        return out

    def add_record(self, rec: RecordIn, where: str) -> str:
        """Match or create ``rec``; returns the record id."""
        rid = self.match(rec)
        org_id = self.org_for(rec.org) if rec.org and rec.type_key == "person" else None
        if rid is None:
            rid = new_id(self.prefix.get(rec.type_key, rec.type_key[:3]))
            self.pending[rid] = Pending(rec=rec, id=rid)
            self.counts[f"{rec.type_key}_created"] += 1
            if org_id:
                self.rels.append((new_id("rel"), rid, org_id, rec.title))
        elif rid in self.pending:
            self._merge_pending(self.pending[rid].rec, rec)
            self.counts[f"{rec.type_key}_matched"] += 1
            if org_id and (org_id, rec.title) not in {
                (r[2], r[3]) for r in self.rels if r[1] == rid
            }:
                self.rels.append((new_id("rel"), rid, org_id, rec.title))
        else:
            self.counts[f"{rec.type_key}_matched"] += 1
            self._merge_existing(rid, rec, org_id)
        self._remember(rid, rec)
        for reltype, target in rec.related:
            self.related.append((rid, reltype, target, where))
        self.tags.extend((rid, tag) for tag in rec.tags)
        return rid

    def _remember(self, rid: str, rec: RecordIn) -> None:
        self.names.setdefault(rid, rec.name)
        for e in rec.emails:
            self.email_ids.setdefault(e, rid)
        for _, p in rec.phones:
            self.phone_ids.setdefault(p, rid)
        for d in rec.domains:
            self.org_by_domain.setdefault(d, rid)
        key = name_key(rec.name)
        self.typed_names.setdefault((rec.type_key, key), rid)
        if rec.org:
            self.nameorg_ids.setdefault((key, name_key(rec.org)), rid)
        if rec.uid:
            self.uid_ids[rec.uid] = rid

    @staticmethod
    def _merge_pending(into: RecordIn, rec: RecordIn) -> None:
        into.emails += [e for e in rec.emails if e not in into.emails]
        known = {p[1] for p in into.phones}
        into.phones += [p for p in rec.phones if p[1] not in known]
        into.domains += [d for d in rec.domains if d not in into.domains]
        into.urls += [u for u in rec.urls if u not in into.urls]
        for k, v in rec.fields.items():
            into.fields.setdefault(k, v)
        into.org = into.org or rec.org
        into.title = into.title or rec.title

    def _snap(self, rid: str) -> Snap:
        if rid not in self.snaps:
            self._load_snaps([rid])
        return self.snaps[rid]

    def _merge_existing(self, rid: str, rec: RecordIn, org_id: str | None) -> None:
        """Queue what ``rec`` adds to the existing record ``rid`` (written at the next flush)."""
        snap = self._snap(rid)
        wanted = [("email", e, e) for e in rec.emails]
        wanted += [("phone", shown, norm) for shown, norm in rec.phones]
        wanted += [("domain", d, d) for d in rec.domains]
        wanted += [("url", u, u) for u in rec.urls]
        new_contacts = [w for w in wanted if (w[0], w[2]) not in snap.contacts]
        new_fields = {k: v for k, v in rec.fields.items() if k not in snap.fields}
        if (new_contacts or new_fields) and self.write():
            self.extensions.append((rid, new_contacts, new_fields))
            snap.contacts.update((kind, norm) for kind, _, norm in new_contacts)
            snap.fields.update(new_fields)
            self.counts["records_updated"] += 1
        if org_id and (org_id, rec.title) not in snap.works and self.write():
            self.rels.append((new_id("rel"), rid, org_id, rec.title))
            snap.works.add((org_id, rec.title))

    def org_for(self, name: str, domain: str | None = None) -> str:
        """The organisation named ``name`` (or owning ``domain``), created when missing."""
        if domain and domain in self.org_by_domain:
            return self.org_by_domain[domain]
        key = ("organization", name_key(name))
        if key in self.typed_names:
            return self.typed_names[key]
        rec = RecordIn(
            type_key="organization",
            name=" ".join(name.split())[:300],
            domains=[domain] if domain else [],
        )
        rid = new_id(self.prefix["organization"])
        self.pending[rid] = Pending(rec=rec, id=rid)
        self.counts["organization_created"] += 1
        self._remember(rid, rec)
        if domain:
            self.new_orgs[rid] = (domain, rec.name)
        return rid

    # ----- interactions ------------------------------------------------------------------
    def person_for(self, who: PersonRef) -> str:
        if who.email in self.email_ids:
            return self.email_ids[who.email]
        domain = who.email.rsplit("@", 1)[1]
        org_id = None
        if domain in self.org_by_domain:
            org_id = self.org_by_domain[domain]
        elif domain not in FREE_MAIL and not personal_domain(who.email, who.name):
            org_id = self.org_for(org_name_from_domain(domain), domain)
        local = who.email.split("@")[0]
        name = who.name or local.replace(".", " ").replace("_", " ").title() or who.email
        rec = RecordIn(type_key="person", name=" ".join(name.split())[:300], emails=[who.email])
        rid = new_id(self.prefix["person"])
        self.pending[rid] = Pending(rec=rec, id=rid)
        self.counts["person_created"] += 1
        self.new_people[who.email] = (rec.name, org_id)
        if org_id:
            self.rels.append((new_id("rel"), rid, org_id, ""))
        self.email_ids[who.email] = rid
        self.names[rid] = rec.name
        return rid

    def excluded(self, email: str) -> bool:
        """Whether ``--exclude-address`` or ``--exclude-domain`` leaves a new address out."""
        if email in self.exclude_addresses:
            return True
        domain = email.rsplit("@", 1)[-1]
        return any(domain == d or domain.endswith("." + d) for d in self.exclude_domains)

    def mail_creations(self, limit: int) -> dict[str, Any]:
        """The organisations (by domain, most people first) and people that mail made."""
        per_org = Counter(org for _, org in self.new_people.values() if org in self.new_orgs)
        orgs = sorted(self.new_orgs.items(), key=lambda kv: (-per_org[kv[0]], kv[1][0]))
        people = sorted(self.new_people.items())
        return {
            "organizations_count": len(orgs),
            "organizations": [
                {"domain": d, "name": n, "people": per_org[rid]} for rid, (d, n) in orgs[:limit]
            ],
            "people_count": len(people),
            "people": [
                {
                    "email": e,
                    "name": n,
                    "organization": self.new_orgs[o][1] if o in self.new_orgs else "",
                }
                for e, (n, o) in people[:limit]
            ],
        }

    def ours(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1]
        found = self.our_domain.get(domain)
        if found is None:
            found = any(domain == d or domain.endswith("." + d) for d in self.home_domains)
            self.our_domain[domain] = found
        return found

    def add_interaction(self, item: InteractionIn) -> None:
        if item.external_id in self.known_ext or (item.cancelled and item.meta.get("series")):
            if item.cancelled and self.write():
                self._cancel(item.external_id, series=bool(item.meta.get("series")))
            else:
                self.counts["interactions_already_there"] += 1
            return
        self.known_ext.add(item.external_id)
        if item.cancelled:
            self.counts["interactions_cancelled_skipped"] += 1
            return
        if not item.people:
            uid = str(item.meta.get("uid") or item.external_id)
            if uid not in self.warned:
                self.warned.add(uid)
                self.warnings.append(f"{uid}: no participants with an email; skipped")
            self.counts["interactions_skipped"] += 1
            return
        people: dict[tuple[str, str], None] = {}
        senders = [who.email for who, role in item.people if role == "from"]
        if item.meta.get("bulk") or any(automated(e) for e in senders):
            # a mailing list, bulk mail or a noreply sender is no contact: no interaction,
            # and none of its addresses becomes a person (the same on every import)
            self.counts["mail_from_lists_and_machines_skipped"] += 1
            return
        for who, role in item.people:
            if who.email not in self.email_ids and automated(who.email):
                self.counts["automated_addresses_left_out"] += 1
                continue
            if who.email not in self.email_ids and self.excluded(who.email):
                self.counts["excluded_addresses_left_out"] += 1
                continue
            people[(self.person_for(who), role)] = None
        if not people:
            self.counts["interactions_skipped"] += 1
            return
        if item.direction is None:
            sender = [p.email for p, r in item.people if r == "from"]
            others = [p.email for p, r in item.people if r != "from"]
            if sender and self.ours(sender[0]):
                item.direction = "out"
            elif any(self.ours(e) for e in others):
                item.direction = "in"
            else:
                item.direction = ""
        self.interactions.append((item, new_id("int"), list(people)))
        self.counts["interactions_created"] += 1

    def _cancel(self, external_id: str, *, series: bool = False) -> None:
        """Mark a meeting (or a whole series) cancelled; it stays as history."""

        self.flush()
        match = Q(external_id=external_id)
        if series:
            match |= Q(external_id__startswith=external_id + "/")
        found = list(Interaction.objects.filter(match).exclude(outcome="cancelled")[:10_000])
        if not found:
            self.counts["interactions_cancelled_skipped"] += 1
            return
        for inter in found:
            old = inter.outcome
            inter.outcome = "cancelled"
            inter.save(update_fields=["outcome"])
            record_change(
                entity_id=inter.id,
                entity_kind="interaction",
                action="update",
                field="outcome",
                old=old,
                new="cancelled",
                note=self.source,
            )
            self.counts["interactions_cancelled"] += 1

    # ----- writing -----------------------------------------------------------------------
    def flush(self) -> None:
        """Insert everything pending through the owning apps' batch inserts."""
        if not self.write():
            self.created.update(self.pending)
            self.pending.clear()
            self.rels.clear()
            self.interactions.clear()
            self.extensions.clear()
            self.tags.clear()
            return
        if not (self.pending or self.rels or self.interactions or self.extensions or self.tags):
            return

        when = time_adapter()
        now_db = when(clock.now())
        actor = current_actor()
        note = self.source[:300]
        records: list[tuple[str, str, str, dict[str, Any]]] = []
        contacts: list[tuple[str, str, str, str, bool]] = []
        snapshots: dict[str, dict[str, Any]] = {}
        for p in self.pending.values():
            r = p.rec
            records.append((p.id, r.type_key, r.name, r.fields))
            snapshot: dict[str, Any] = {"name": r.name}
            for kind, items in (
                ("email", [(e, e) for e in r.emails]),
                ("phone", r.phones),
                ("domain", [(d, d) for d in r.domains]),
                ("url", [(u, u) for u in r.urls]),
            ):
                for i, (shown, norm) in enumerate(items):
                    contacts.append((p.id, kind, shown, norm, i == 0))
                if items:
                    snapshot[kind + "s"] = [s for s, _ in items]
            snapshot.update({f"fields.{k}": v for k, v in r.fields.items()})
            if r.tags:
                snapshot["tags"] = sorted(r.tags, key=str.casefold)
            snapshots[p.id] = snapshot
        inters: list[tuple[Any, ...]] = []
        parts: list[tuple[str, str, str, Any]] = []
        changes: list[tuple[Any, ...]] = []
        for item, iid, people in self.interactions:
            at = when(item.at)
            inters.append(
                (iid, item.kind, at, item.duration, item.subject, item.body,
                 item.direction or "", None, None, "", item.external_id, item.thread_id,
                 self.source, to_json(item.meta), now_db)
            )  # fmt: skip
            parts.extend((iid, rid, role, at) for rid, role in people)
            if self.touched is not None:
                self.touched.update(rid for rid, _ in people)
            new = {"kind": item.kind, "at": item.at.isoformat(), "with": [r for r, _ in people]}
            changes.append(
                (iid, "interaction", "create", "", None, to_json(new), actor, now_db, note)
            )
        insert_records(records, at=now_db, actor=actor, source=self.source, snapshots=snapshots)
        insert_contacts(contacts)
        self.batch_updated.update(
            extend_records(
                self.extensions, viewer=self.viewer, at=now_db, actor=actor, source=self.source
            )
        )
        rels = [(rid, "works_at", src, dst, role, None, None) for rid, src, dst, role in self.rels]
        if self.home_id is not None and any(dst == self.home_id for *_, dst, _ in self.rels):
            self.touched = None
        insert_relationships(rels, at=now_db, actor=actor, source=self.source)
        if self.tags:
            self.counts["tags_added"] += insert_tags(self.tags)
            self.tags.clear()
        if inters:
            insert_interactions(inters, parts)
            insert_changes(changes)
        if rels:
            self.counts["relationships_created"] += len(rels)
        self.batch_created.extend(self.pending)
        self.created.update(self.pending)
        self.pending.clear()
        self.rels.clear()
        self.interactions.clear()
        self.extensions.clear()

    def end_batch(self) -> None:
        """Write what is pending and tell subscribers once which records the batch touched."""

        self.flush()
        if self.write() and (self.batch_created or self.batch_updated):
            publish(
                "records.imported",
                created_ids=sorted(self.batch_created),
                updated_ids=sorted(self.batch_updated),
                source=self.source,
            )
        self.batch_created, self.batch_updated = [], set()

    def finish(self) -> None:
        """Write what is left and resolve RELATED links (targets may come later in a file)."""
        self.end_batch()
        if not self.related:
            return

        for src, reltype, target, where in self.related:
            if target.startswith("relation:"):  # Google's "Relation N": free text
                self._relation(src, reltype, target, where)
                continue
            text = target.removeprefix("urn:uuid:") if target.startswith("urn:uuid:") else target
            dst = self.uid_ids.get(target) or self.uid_ids.get(text)
            if dst is None and ("@" in text or text.startswith("mailto:")):
                dst = self.email_ids.get(text.removeprefix("mailto:").lower())
            if dst is None:
                dst = self.typed_names.get(("person", name_key(text)))
            if dst is None:
                self.warnings.append(f"{where}: RELATED {target!r} matches no record; kept out")
                continue
            if not self.write():
                continue
            try:
                relate(a=src, type_name=reltype, b=dst, source=self.source, if_exists="return")
                self.counts["relationships_created"] += 1
            except KithError as exc:
                self.warnings.append(f"{where}: RELATED {target!r}: {exc.message}")

    def _relation(self, src: str, reltype: str, target: str, where: str) -> None:
        """A Google relation: a relationship to the one person its value names (in the
        file, or a person this viewer sees in Kith); otherwise a line of the notes, so
        neither the name nor its label is lost and no person is made up from free text."""
        _, label, text = target.split(":", 2)
        key = name_key(text)
        dst = self.typed_names.get(("person", key))
        if dst is None:
            found = list(
                Record.objects.filter(
                    visible_q(self.viewer),
                    type_id="person",
                    name_key=key,
                    deleted_at__isnull=True,
                    merged_into__isnull=True,
                ).values_list("id", flat=True)[:2]
            )
            dst = found[0] if len(found) == 1 else None
        if dst == src:
            dst = None
        if not self.write():
            return
        if dst is not None:
            try:
                relate(a=src, type_name=reltype, b=dst, source=self.source, if_exists="return")
                self.counts["relationships_created"] += 1
                return
            except KithError as exc:
                self.warnings.append(f"{where}: relation {text!r}: {exc.message}")
        from kith.records.services import update_record  # noqa: PLC0415

        notes = str(Record.objects.filter(pk=src).values_list("fields", flat=True)[0].get(
            "notes") or "")  # fmt: skip
        line = f"Relation ({label or 'other'}): {text}"
        if line not in notes.splitlines():
            update_record(ref=src, values={"notes": "\n".join(filter(None, [notes, line]))})
            self.counts["relations_kept_as_notes"] += 1
