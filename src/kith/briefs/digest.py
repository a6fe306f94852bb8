"""Reads: one user's digest for a window, built only from what that user may see.

Sections: my accounts that changed most, my relationships past cadence, my overdue tasks,
my meetings in the next 7 days (each with a link to its brief), and new inbound from
people at risk. Every line carries its evidence ids. A window is half-open, so two digests
that meet (the watermark) never repeat an item nor lose one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q

from kith.accounts.selectors import viewer_of
from kith.briefs import changes as ch
from kith.briefs.models import Digest, Subscription
from kith.briefs.surprises import surprises
from kith.core.errors import KithError, NotFound
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.interactions.models import Interaction, Participant
from kith.interactions.selectors import visible_interactions
from kith.plans.selectors import member_record
from kith.records.models import Record
from kith.records.selectors import effective_viewer, home_org
from kith.tasks.cadence_selectors import due as cadences_due
from kith.tasks.selectors import tasks_for

ACCOUNTS = 5
LOOKBACK_DAYS = 90  # "my accounts": where I talked with someone in this many days
AT_RISK_BELOW = 35.0  # a person's health under this (weak or cold) is at risk
SENDERS_CAP = 25
QUICK_SOURCES = {"fields", "relationships", "interactions", "unanswered", "tasks"}


def _line(text: str, evidence: list[str], link: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"text": text, "evidence": list(dict.fromkeys(evidence))[:20]}
    if link:
        out["link"] = link
    return out


def team_users(team: str) -> list[User]:
    """The active users of a team (``kith user add --team``), by email; none is an error."""
    name = (team or "").strip()
    users = list(User.objects.filter(kith_profile__team=name, is_active=True).order_by("username"))
    if not users:
        raise NotFound(f"team: no user is on the team {team!r}", field="team")
    return users


def me_of(viewer: Viewer, user: User) -> Record | None:
    """The user's own person record on our team (by their email), if there is one."""
    try:
        return member_record(viewer, user.get_username(), field="user")
    except KithError:
        return None


def my_accounts(viewer: Viewer, me: Record, until: dt.datetime) -> list[Record]:
    """Organisations whose people I had an interaction with in the look-back."""
    since = until - dt.timedelta(days=LOOKBACK_DAYS)
    mine = Participant.objects.filter(record=me, at__gte=since, at__lt=until).values(
        "interaction_id"
    )
    people = set(
        Participant.objects.filter(interaction_id__in=mine)
        .exclude(record=me)
        .values_list("record_id", flat=True)
    )
    day = (until - dt.timedelta(microseconds=1)).date()
    orgs = {o for p, o, _ in agg.employment(day, viewer=viewer) if p in people}
    home = set(ch.visible_team(viewer, day))
    return list(
        Record.objects.filter(pk__in=sorted(orgs), deleted_at=None)
        .exclude(pk__in=sorted(home))
        .order_by("name_key", "id")
    )


def _accounts(viewer: Viewer, me: Record, since: dt.datetime, until: dt.datetime) -> list[Any]:
    scored = []
    home = home_org()
    for org in my_accounts(viewer, me, until):
        if home is not None and org.id == home.id:
            continue
        w = ch.open_window(viewer, org, since, until)
        items = ch.collect(w, QUICK_SOURCES)
        if items:
            scored.append((org, items))
    scored.sort(key=lambda t: (-len(t[1]), t[0].name_key, t[0].id))
    lines = []
    for org, items in scored[:ACCOUNTS]:
        kinds: dict[str, int] = {}
        for i in items:
            kinds[i["kind"]] = kinds.get(i["kind"], 0) + 1
        said = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(kinds.items()))
        ev = [org.id, *[e for i in items for e in i["evidence"][:3]]]
        lines.append(_line(f"{org.name}: {said}", ev, f"/records/{org.id}/brief"))
        lines += [_line(f"  {i['text']}", i["evidence"]) for i in items[:5]]
    return lines


def _cadences(viewer: Viewer, me: Record, day: dt.date) -> list[dict[str, Any]]:
    out = []
    for c in cadences_due(viewer, as_of=day, member=me):
        last = c["last_contact"] or "never"
        text = f"{c['record']['name']}: {c['status']}, last contact {last}, every {c['every']} days"
        out.append(_line(text, [c["record"]["id"], c["id"]]))
    return out


def _tasks(viewer: Viewer, user: User, day: dt.date) -> list[dict[str, Any]]:
    rows, _ = tasks_for(viewer, owner=user.pk, overdue=True, as_of=day, limit=50)
    return [_line(f"{t['title']} (due {t['due']})", [t["id"]]) for t in rows]


def _meetings(viewer: Viewer, me: Record, until: dt.datetime) -> list[dict[str, Any]]:
    ahead = until + dt.timedelta(days=7)
    rows = (
        visible_interactions(viewer)
        .filter(kind="meeting", at__gte=until, at__lt=ahead, participants__record=me)
        .distinct()
        .order_by("at", "id")[:50]
    )
    out = []
    for m in rows:
        others = sorted(p.record.name for p in m.participants.all() if p.record_id != me.id)
        who = f" with {', '.join(others)}" if others else ""
        out.append(
            _line(
                f"{ch._iso(m.at)[:16].replace('T', ' ')} {m.subject or 'meeting'}{who}",
                [m.id],
                f"/meetings/{m.id}/brief",
            )
        )
    return out


def _inbound_at_risk(
    viewer: Viewer, me: Record, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    inbound = list(
        Interaction.objects.filter(
            deleted_at__isnull=True, direction="in", at__gte=since, at__lt=until
        )
        .filter(participants__record=me)
        .order_by("at", "id")
        .values_list("id", "at", "subject")[:500]
    )
    if not inbound:
        return []
    senders: dict[str, str] = {}
    for iid, rid in (
        Participant.objects.filter(interaction_id__in=[i[0] for i in inbound])
        .filter(Q(role="from"))
        .exclude(record=me)
        .values_list("interaction_id", "record_id")
    ):
        senders.setdefault(iid, rid)
    people = sorted(set(senders.values()))[:SENDERS_CAP]
    names = agg.names(set(people), viewer=viewer)
    cfg, day = model_config(), (until - dt.timedelta(microseconds=1)).date()
    risky: dict[str, float] = {}
    for pid in people:
        if pid not in names:
            continue  # hidden from this user
        snap = compute(cfg, day, ("person", pid), viewer=viewer)
        score = snap.person_score.get(pid, 0.0)
        if score < AT_RISK_BELOW:
            risky[pid] = score
    out = []
    for iid, at, subject in inbound:
        pid = senders.get(iid, "")
        if pid in risky:
            said = f" {subject!r}" if subject else ""
            out.append(
                _line(
                    f"{names[pid]} (health {risky[pid]:.0f}) wrote on {at.date()}{said}",
                    [iid, pid],
                )
            )
    return out


def _surprises(viewer: Viewer, me: Record, since: dt.datetime, until: dt.datetime) -> list[Any]:
    day = (until - dt.timedelta(microseconds=1)).date()
    days = min(max(7, (until - since).days), 366)
    home = home_org()
    orgs = [o for o in my_accounts(viewer, me, until) if home is None or o.id != home.id]
    found = surprises(viewer, records=orgs, since_days=days, as_of=day)["items"]
    return [_line(i["text"], i["evidence"], f"/records/{i['about']['id']}/brief") for i in found]


def digest(user: User, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """The digest of ``user`` for ``[since, until)``: sections of lines with evidence."""
    viewer = effective_viewer(viewer_of(user))
    me = me_of(viewer, user)
    day = (until - dt.timedelta(microseconds=1)).date()
    sections = []
    if me is not None:
        sections.append(
            ("accounts", "My accounts that changed most", _accounts(viewer, me, since, until))
        )
        sections.append(("cadence", "My relationships past cadence", _cadences(viewer, me, day)))
    sections.append(("tasks", "My overdue tasks", _tasks(viewer, user, day)))
    if me is not None:
        sections.append(
            ("meetings", "My meetings in the next 7 days", _meetings(viewer, me, until))
        )
        sections.append(
            (
                "inbound",
                "New inbound from people at risk",
                _inbound_at_risk(viewer, me, since, until),
            )
        )
        found = _surprises(viewer, me, since, until)
        sections.append(("surprises", "Surprises at my accounts", found))
    shown = [{"key": k, "title": t, "lines": lines} for k, t, lines in sections if lines]
    return {
        "user": user.get_username(),
        "since": ch._iso(since),
        "until": ch._iso(until),
        "as_of": day.isoformat(),
        "sections": shown,
        "items": sum(len(s["lines"]) for s in shown),
    }


def subscription_view(user: User) -> dict[str, Any]:
    """The user's digest subscription, or the defaults they would get (not subscribed)."""
    sub = Subscription.objects.filter(user=user).first()
    return {
        "user": user.get_username(),
        "rrule": sub.rrule if sub else "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7",
        "zone": sub.zone if sub else "UTC",
        "channels": list(sub.channels) if sub else [],
        "active": sub.active if sub else False,
        "watermark": sub.watermark.isoformat() if sub and sub.watermark else None,
        "next_at": sub.next_at.isoformat() if sub and sub.next_at else None,
    }


def team_cards(team: str) -> list[dict[str, Any]]:
    """A team's members, alphabetically, as neutral cards: who and a link; no figures
    (an unknown team has no members)."""
    try:
        users = team_users(team)
    except NotFound:
        return []
    return [{"email": u.get_username(), "link": f"/coach?user={u.get_username()}"} for u in users]


def digests_of(user: User, *, limit: int = 20) -> list[dict[str, Any]]:
    """The user's last digests, newest first (the in-app list and the Atom feed)."""
    return [
        {
            "id": d.pk,
            "since": d.since.isoformat(),
            "until": d.until.isoformat(),
            "items": d.items,
            "body": d.body,
            "text": d.text,
        }
        for d in Digest.objects.filter(user=user).order_by("-until", "-id")[:limit]
    ]
