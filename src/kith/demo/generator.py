"""A realistic, deterministic data set for trying Kith and for the benchmarks.

Everything comes from one seeded ``random.Random`` and a fixed end date, so the same
arguments always give the same workspace. Rows are produced as the bulk loader's tuples,
as they are read: each kind (records, contact points, relationships, interactions) replays
the seed, so a million people and ten million interactions stream in memory that grows
with the number of ids (who works where), not with the rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kith.bulk.rows import ContactRow, InteractionBundle, RecordRow, RelationshipRow
from kith.core import clock
from kith.core.ids import new_id
from kith.demo import names

T = TypeVar("T")

KIND_WEIGHTS = [
    ("email", 50),
    ("call", 14),
    ("meeting", 14),
    ("message", 9),
    ("note", 5),
    ("ticket", 5),
    ("purchase", 2),
    ("survey", 1),
]


@dataclass
class Spec:
    people: int = 1_500
    orgs: int = 150
    team: int = 12
    relationships: int = 4_500
    interactions: int = 20_000
    days: int = 730
    seed: int = 7
    end: dt.date = field(default_factory=clock.today)
    home_id: str | None = None  # an existing home organisation to attach the team to
    anchor_size: int = 0  # employees of the largest org; 0 picks people // 15 (max 1000)


class Stream(Iterable[T]):
    """Rows of one kind, produced again from the seed each time they are iterated.

    Nothing is kept between passes: a million-record data set streams in memory that
    grows with the number of ids (who works where), not with the rows.
    """

    def __init__(self, produce: Callable[[], Iterator[T]]) -> None:
        self._produce = produce

    def __iter__(self) -> Iterator[T]:
        return self._produce()


@dataclass
class Dataset:
    home_id: str
    records: Stream[RecordRow]
    contacts: Stream[ContactRow]
    relationships: Stream[RelationshipRow]
    interactions: Stream[InteractionBundle]
    team: list[str]
    anchor_org: str


@dataclass
class _People:
    """What the interactions are drawn from, once the structure has been walked."""

    rng: random.Random
    team: list[str]
    people: list[str]
    employer: dict[str, str]
    start: dt.date


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def generate(spec: Spec) -> Dataset:
    """Describe the demo data set of ``spec``; its rows are produced as they are read."""
    home, anchor = spec.home_id or "", ""
    team: list[str] = []
    for tag, row in _walk(spec):  # the team and the anchor come early: stop there
        if tag == "people" or (row[1] == "person" and len(team) >= spec.team):
            break
        if tag != "record":
            continue
        if row[1] == "person":
            team.append(row[0])
        elif not home:
            home = row[0]
        elif not anchor:
            anchor = row[0]

    def rows(kind: str) -> Callable[[], Iterator[Any]]:
        def produce() -> Iterator[Any]:
            for tag, row in _walk(spec):
                if tag == kind:
                    yield row
                elif tag == "people" and kind != "rel":
                    return  # records and contact points are all out by now

        return produce

    def interactions() -> Iterator[InteractionBundle]:
        state: list[_People] = []
        for _ in _walk(spec, state):
            pass
        s = state[0]
        yield from _interactions(spec, s.rng, s.team, s.people, s.employer, s.start)

    return Dataset(
        home_id=home,
        records=Stream(rows("record")),
        contacts=Stream(rows("contact")),
        relationships=Stream(rows("rel")),
        interactions=Stream(interactions),
        team=team,
        anchor_org=anchor or home,
    )


def _walk(spec: Spec, state: list[_People] | None = None) -> Iterator[tuple[str, Any]]:
    """Records, contact points and relationships, tagged, in the seed's one order.

    ``("people", None)`` marks the end of the records and contact points; at the end,
    ``state`` receives what the interactions need (the generator's state included).
    """
    rng = random.Random(spec.seed)
    start = spec.end - dt.timedelta(days=spec.days)
    made = 0  # relationships drawn; past ``limit`` they are drawn (the seed's order) unkept
    limit = -1

    def rel(
        kind: str,
        a: str,
        b: str,
        role: str = "",
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> tuple[str, Any] | None:
        nonlocal made
        row = (new_id("rel", rng), kind, a, b, role, since, until)
        made += 1
        return ("rel", row) if limit < 0 or made <= limit else None

    def day_between(lo: dt.date, hi: dt.date) -> dt.date:
        return lo + dt.timedelta(days=rng.randrange(max((hi - lo).days, 1)))

    # organisations: the home organisation first, then unique invented names
    home_domain = "kith-demo.example"
    if spec.home_id:
        home = spec.home_id
    else:
        home = new_id("org", rng)
        yield ("record", (home, "organization", "Northwind Relations", {"industry": "consulting"}))
        yield ("contact", (home, "domain", home_domain, home_domain, True))
    combos = [(a, b) for a in names.ORG_A for b in names.ORG_B]
    rng.shuffle(combos)
    orgs: list[str] = []
    org_domain: dict[str, str] = {}
    used: set[str] = set()
    for i in range(spec.orgs):
        a, b = combos[i % len(combos)]
        suffix = rng.choice(names.ORG_C)
        name = " ".join(x for x in (a, b, suffix) if x)
        if i >= len(combos):
            name = f"{name} {i // len(combos) + 1}"
        oid = new_id("org", rng)
        domain = f"{_slug(a)}{_slug(b)}{'' if i < len(combos) else i // len(combos) + 1}.example"
        while domain in used:
            domain = "x" + domain
        used.add(domain)
        orgs.append(oid)
        org_domain[oid] = domain
        fields = {
            "industry": rng.choice(names.INDUSTRIES),
            "size": rng.choice([10, 50, 200, 1000, 5000]),
        }
        yield ("record", (oid, "organization", name, fields))
        yield ("contact", (oid, "domain", domain, domain, True))
    del used

    # people: our team at the home organisation, the rest spread over the organisations
    team: list[str] = []
    people: list[str] = []
    employer: dict[str, str] = {}
    anchor_size = spec.anchor_size or min(1_000, max(spec.people // 15, 1))
    for i in range(spec.people):
        first, last = rng.choice(names.FIRST), rng.choice(names.LAST)
        pid = new_id("per", rng)
        title = rng.choice(names.JOB_TITLES)
        yield ("record", (pid, "person", f"{first} {last}", {"title": title}))
        made_rels = []
        if i < spec.team:
            team.append(pid)
            email = f"{first}.{last}{i}@{home_domain}".lower()
            made_rels.append(
                rel(
                    "works_at", pid, home, title, day_between(start - dt.timedelta(days=900), start)
                )
            )
        else:
            people.append(pid)
            org = orgs[0] if len(people) <= anchor_size else rng.choice(orgs)
            employer[pid] = org
            email = f"{first}.{last}{i}@{org_domain[org]}".lower()
            since = day_between(start - dt.timedelta(days=2000), spec.end - dt.timedelta(days=30))
            role = rng.choice(names.KEY_ROLES) if rng.random() < 0.08 else title
            made_rels.append(rel("works_at", pid, org, role, since))
            if rng.random() < 0.15:  # an earlier job, ended
                prev = rng.choice(orgs)
                if prev != org:
                    began = since - dt.timedelta(days=rng.randrange(200, 2000))
                    made_rels.append(
                        rel("works_at", pid, prev, rng.choice(names.JOB_TITLES), began, since)
                    )
            if rng.random() < 0.05:  # a second organisation at the same time
                other = rng.choice(orgs)
                if other != org:
                    made_rels.append(
                        rel(
                            rng.choice(["board_member_of", "advisor_to"]),
                            pid,
                            other,
                            "board member",
                            day_between(start, spec.end),
                        )
                    )
        yield ("contact", (pid, "email", email, email, True))
        if rng.random() < 0.3:
            phone = f"+1202555{rng.randrange(10_000):04d}"
            yield ("contact", (pid, "phone", phone, phone, True))
        yield from (r for r in made_rels if r)
    del org_domain
    yield ("people", None)

    # everyone's employment is kept whatever --relationships says (it only bounds the rest)
    limit = max(spec.relationships, made)

    def kept(*made_rels: tuple[str, Any] | None) -> Iterator[tuple[str, Any]]:
        return (r for r in made_rels if r)

    # structure between people and between organisations
    by_org: dict[str, list[str]] = {}
    for pid in people:
        by_org.setdefault(employer[pid], []).append(pid)
    for i, member in enumerate(team[1:], 1):
        yield from kept(rel("reports_to", member, team[(i - 1) // 3]))
    for members in by_org.values():
        boss = members[0]
        for pid in members[1:]:
            if rng.random() < 0.4:
                yield from kept(rel("reports_to", pid, boss))
    del by_org
    for pid in people:
        if rng.random() < 0.03:
            friend = rng.choice(people)
            if friend != pid:  # nobody refers themself
                yield from kept(rel("referred", pid, friend, since=day_between(start, spec.end)))
    for oid in orgs:
        if rng.random() < 0.3:
            since = day_between(start - dt.timedelta(days=700), spec.end)
            yield from kept(rel("customer_of", oid, home, since=since))
        if rng.random() < 0.03:
            parent = rng.choice(orgs)
            if parent != oid:
                yield from kept(rel("subsidiary_of", oid, parent))
        if rng.random() < 0.03:
            partner = rng.choice(orgs)
            if partner != oid:
                yield from kept(rel("partner_of", oid, partner))
    for member in team:  # our people know some of theirs
        for pid in rng.sample(people, min(len(people), 5)):
            since = day_between(start - dt.timedelta(days=700), start)
            yield from kept(rel("knows", member, pid, since=since))
    fillers = ["knows", "knows", "colleague_of", "friend_of"]
    while made < spec.relationships and len(people) > 1:
        a, b = rng.sample(people, 2)
        kind = rng.choice(fillers)
        if kind == "colleague_of" and employer[a] != employer[b]:
            kind = "knows"
        since = day_between(start - dt.timedelta(days=1500), spec.end)
        yield from kept(rel(kind, a, b, since=since))
    if state is not None:
        state.append(_People(rng, team, people, employer, start))


def _interactions(
    spec: Spec,
    rng: random.Random,
    team: list[str],
    people: list[str],
    employer: dict[str, str],
    start: dt.date,
) -> Iterator[InteractionBundle]:
    kinds = [k for k, _ in KIND_WEIGHTS]
    weights = [w for _, w in KIND_WEIGHTS]
    seconds = spec.days * 86_400
    origin = dt.datetime.combine(start, dt.time(8, 0), tzinfo=dt.UTC)
    # each team member has a book of accounts, so pairs repeat and cadences emerge
    books = {
        t: rng.sample(people, min(len(people), max(len(people) // max(len(team), 1), 1)))
        for t in team
    }
    for _ in range(spec.interactions if team and people else 0):
        member = rng.choice(team)
        other = rng.choice(books[member]) if rng.random() < 0.7 else rng.choice(people)
        kind = rng.choices(kinds, weights)[0]
        at = origin + dt.timedelta(seconds=rng.randrange(seconds))
        direction = rng.choice(["in", "out"]) if kind in {"email", "message", "call"} else ""
        if kind in {"ticket", "survey", "purchase"}:
            direction = "in"
        sentiment = round(rng.uniform(-1, 1), 2) if rng.random() < 0.2 else None
        score = float(rng.randrange(0, 11)) if kind == "survey" else None
        if kind in {"email", "message"}:
            roles = (
                [(member, "from"), (other, "to")]
                if direction == "out"
                else [(other, "from"), (member, "to")]
            )
        elif kind == "meeting":
            roles = [(member, "organiser"), (other, "attendee")]
        else:
            roles = [(member, "attendee"), (other, "attendee")]
        links = [employer[other]] if kind in {"meeting", "ticket", "purchase"} else []
        subject = rng.choice(names.SUBJECTS[kind])
        yield ((new_id("int", rng), kind, at, subject, direction, sentiment, score), roles, links)
