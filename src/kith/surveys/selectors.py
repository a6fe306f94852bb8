"""Reads of surveys, given a Viewer: the list, one survey's invites and response rate, and
where an interaction's sentiment came from. Invites of people the viewer may not see are
left out in the query, counts included."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from kith.core.errors import NotFound
from kith.core.viewer import Viewer
from kith.interactions.models import Interaction, Participant
from kith.records.selectors import can_see, hidden_records, visible_q
from kith.surveys import stats
from kith.surveys.models import Invite, InviteStatus, SentimentMark, Survey
from kith.surveys.scoring import provenance
from kith.surveys.services import find_invite, get_survey

ASKED = (InviteStatus.SENT, InviteStatus.RESPONDED, InviteStatus.EXPIRED, InviteStatus.BOUNCED)


def _counts(viewer: Viewer, surveys: list[str]) -> dict[str, dict[str, int]]:
    rows = (
        Invite.objects.filter(visible_q(viewer, "person__"), survey_id__in=surveys)
        .values("survey_id", "status")
        .annotate(n=Count("id"))
    )
    out: dict[str, dict[str, int]] = {s: {} for s in surveys}
    for r in rows:
        out[r["survey_id"]][r["status"]] = r["n"]
    return out


def _rate(counts: dict[str, int]) -> dict[str, Any]:
    asked = sum(counts.get(s, 0) for s in ASKED)
    answered = counts.get(InviteStatus.RESPONDED, 0)
    return {"asked": asked, "answered": answered, **stats.share(answered, asked).view()}


def survey_view(s: Survey, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "kind": s.kind,
        "question": s.question,
        "followup": s.followup,
        "scale": [s.scale_min, s.scale_max],
        "throttle_days": s.throttle_days,
        "per_account_quarter": s.per_account_quarter,
        "audience": s.audience,
        "trigger": s.trigger,
        "remind_after_days": s.remind_after_days,
        "expire_after_days": s.expire_after_days,
        "active": s.active,
        "created_at": s.created_at.isoformat(),
        "invites": {k: counts.get(k, 0) for k in InviteStatus.values},
        "response_rate": _rate(counts),
    }


def list_surveys(viewer: Viewer) -> list[dict[str, Any]]:
    """Every survey with its invite counts and response rate (two queries)."""
    surveys = list(Survey.objects.order_by("-created_at", "id"))
    counts = _counts(viewer, [s.id for s in surveys])
    return [survey_view(s, counts[s.id]) for s in surveys]


def survey_detail(viewer: Viewer, ref: str, *, limit: int = 200) -> dict[str, Any]:
    """One survey: its counts, the suppressions by reason, and its latest invites."""
    s = get_survey(ref)
    counts = _counts(viewer, [s.id])[s.id]
    mine = Invite.objects.filter(visible_q(viewer, "person__"), survey=s)
    reasons = mine.filter(status=InviteStatus.SUPPRESSED).values("reason").annotate(n=Count("id"))
    invites = [
        {
            "id": i.id,
            "person": i.person_id,
            "name": i.person.name,
            "account": i.account_id if i.account_id and _seen(viewer, i) else None,
            "status": i.status,
            "reason": i.reason,
            "created_at": i.created_at.isoformat(),
            "sent_at": i.sent_at.isoformat() if i.sent_at else None,
            "responded_at": i.responded_at.isoformat() if i.responded_at else None,
            "expires_at": i.expires_at.isoformat() if i.expires_at else None,
        }
        for i in mine.select_related("person", "account").order_by("-created_at", "id")[:limit]
    ]
    return {
        **survey_view(s, counts),
        "suppressed_by_reason": {r["reason"]: r["n"] for r in reasons.order_by("reason")},
        "latest": invites,
    }


def _seen(viewer: Viewer, i: Invite) -> bool:
    a = i.account
    return a is not None and can_see(viewer, a)


def public_invite(token: str) -> dict[str, Any]:
    """What the public answer page shows for a link (no sign-in): the question only."""
    inv = find_invite(token)
    s = inv.survey
    return {
        "question": s.question,
        "followup": s.followup,
        "scale": list(range(s.scale_min, s.scale_max + 1)),
        "low_label": "Not at all likely" if s.kind == "nps" else "Very unsatisfied",
        "high_label": "Extremely likely" if s.kind == "nps" else "Very satisfied",
        "status": inv.status,
        "answered": inv.status == InviteStatus.RESPONDED,
        "expired": inv.status == InviteStatus.EXPIRED,
    }


def sentiment_of(viewer: Viewer, interaction_id: str) -> dict[str, Any]:
    """An interaction's sentiment, where it came from and its evidence."""
    hidden = Participant.objects.filter(record__in=hidden_records(viewer))
    i = (
        Interaction.objects.filter(pk=interaction_id, deleted_at=None)
        .exclude(pk__in=hidden.values("interaction_id"))
        .first()
    )
    if i is None:
        raise NotFound(f"interaction: no interaction {interaction_id!r}", field="interaction")
    mark = SentimentMark.objects.filter(pk=i.id).first()
    return {"interaction": i.id, **provenance(i, mark)}
