"""Every write of surveys: define, plan and send invites, take responses, close the loop.

A response is an interaction of kind ``survey`` logged through
``kith.interactions.services.log_interaction`` (score, comment as body, answers in meta,
the respondent as participant ``from``, the account linked), so it is on timelines and in
health like any other. Its ``meta`` names the survey, its kind and the invite and
interaction that caused it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dateutil.rrule import rrule, rrulestr
from django.db import transaction
from django.db.models import Q

from kith.accounts import throttle
from kith.core import clock, jobs
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.services import audit, record_change
from kith.core.viewer import SYSTEM, Viewer
from kith.interactions.models import Interaction
from kith.interactions.services import log_interaction
from kith.records.models import ContactPoint, Record
from kith.records.selectors import resolve
from kith.surveys import audience as aud
from kith.surveys import conf
from kith.surveys.models import Invite, InviteStatus, Kind, OptOut, Survey
from kith.surveys.stats import csat_satisfied, nps_group

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "custom": (1, 5)}
TRIGGERS = ("manual", "schedule", "rule")


def token_hash(token: str) -> str:
    """The stored form of an invite's link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _int(value: Any, field: str, low: int, high: int) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a whole number", field=field) from None
    if not low <= n <= high:
        raise ValidationError(f"{field}: {n} is outside {low}..{high}", field=field)
    return n


def parse_scale(kind: str, scale: str | None) -> tuple[int, int]:
    """``LOW-HIGH`` (``0-10``); the kind's own scale when not given."""
    if not scale:
        return SCALES[kind]
    low, sep, high = str(scale).partition("-")
    if not sep:
        raise ValidationError(f"scale: {scale!r} is not LOW-HIGH (e.g. 1-5)", field="scale")
    lo, hi = _int(low, "scale", 0, 100), _int(high, "scale", 0, 100)
    if hi <= lo:
        raise ValidationError(f"scale: {scale!r} must go from low to high", field="scale")
    if kind == "nps" and (lo, hi) != (0, 10):
        raise ValidationError(f"scale: NPS is asked 0-10, not {scale!r}", field="scale")
    return lo, hi


def parse_trigger(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"on": "manual"}``, ``{"on": "schedule", "rrule": ...}`` or ``{"on": "rule",
    "kind": "ticket", "outcome": "resolved", "delay_hours": 24}``."""
    doc = dict(value or {"on": "manual"})
    on = str(doc.get("on", "manual"))
    if on not in TRIGGERS:
        raise ValidationError(
            f"trigger.on: {on!r} is not one of {', '.join(TRIGGERS)}", field="trigger"
        )
    if on == "schedule":
        rule = str(doc.get("rrule", "")).strip().removeprefix("RRULE:").upper()
        try:
            parsed = rrulestr(rule, dtstart=clock.now(), forceset=False)
        except (ValueError, TypeError):
            parsed = None
        if not isinstance(parsed, rrule) or "FREQ=" not in rule:
            raise ValidationError(f"trigger.rrule: {rule!r} is not one RRULE", field="trigger")
        return {"on": on, "rrule": rule}
    if on == "rule":
        kind = str(doc.get("kind", "")).strip().lower()
        if not kind:
            raise ValidationError("trigger.kind: a rule trigger names a kind", field="trigger")
        delay = _int(doc.get("delay_hours", 24), "trigger.delay_hours", 0, 24 * 90)
        return {
            "on": on,
            "kind": kind,
            "outcome": str(doc.get("outcome", "")),
            "delay_hours": delay,
        }
    return {"on": "manual"}


@transaction.atomic
def add_survey(
    *,
    kind: str,
    question: str,
    name: str | None = None,
    scale: str | None = None,
    followup: str = "",
    throttle_days: int = 90,
    per_account_quarter: int | None = None,
    audience: Mapping[str, Any] | None = None,
    trigger: Mapping[str, Any] | None = None,
    remind_after_days: int | None = 3,
    expire_after_days: int = 14,
) -> Survey:
    """Define a survey; every value is checked and a bad one named."""
    k = (kind or "").strip().lower()
    if k not in Kind.values:
        raise ValidationError(
            f"kind: {kind!r} is not one of {', '.join(Kind.values)}", field="kind"
        )
    text = " ".join((question or "").split())
    if not text:
        raise ValidationError("question: a survey asks a question", field="question")
    if len(text) > 500:
        raise ValidationError("question: longer than 500 characters", field="question")
    lo, hi = parse_scale(k, scale)
    label = " ".join((name or "").split()) or f"{k.upper()} {clock.today():%Y-%m}"
    if Survey.objects.filter(name=label).exists():
        raise Conflict(f"name: a survey called {label!r} exists", field="name")
    remind = None if remind_after_days is None else _int(remind_after_days, "remind", 1, 365)
    survey = Survey.objects.create(
        id=new_id("srv"),
        name=label,
        kind=k,
        question=text,
        followup=" ".join((followup or "").split())[:500],
        scale_min=lo,
        scale_max=hi,
        throttle_days=_int(throttle_days, "throttle", 0, 3650),
        per_account_quarter=(
            None
            if per_account_quarter is None
            else _int(per_account_quarter, "per_account_quarter", 1, 10_000)
        ),
        audience=aud.check_audience(audience),
        trigger=parse_trigger(trigger),
        remind_after_days=remind,
        expire_after_days=_int(expire_after_days, "expire", 1, 365),
    )
    record_change(entity_id=survey.id, entity_kind="survey", action="create",
                  new={"name": survey.name, "kind": k, "question": text})  # fmt: skip
    audit("survey.created", target=survey.id, detail={"name": survey.name, "kind": k})
    return survey


def get_survey(ref: str, *, field: str = "survey") -> Survey:
    """A survey by id or exact name."""
    text = (ref or "").strip()
    found = Survey.objects.filter(Q(pk=text) | Q(name=text)).first() if text else None
    if found is None:
        raise NotFound(f"{field}: no survey {ref!r}", field=field)
    return found


# -- who is asked -------------------------------------------------------------------------


@dataclass
class Planned:
    person: Record
    email: str
    account: Record | None
    status: str  # queued or suppressed
    reason: str = ""

    def view(self) -> dict[str, Any]:
        return {
            "person": self.person.id,
            "name": self.person.name,
            "email": self.email,
            "account": self.account.id if self.account else None,
            "account_name": self.account.name if self.account else None,
            "status": self.status,
            "reason": self.reason,
        }


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def plan_invites(viewer: Viewer, survey: Survey, people: Iterable[Record]) -> list[Planned]:
    """Who would be asked and who is suppressed, and why (throttled, opted out, no email,
    the account's quota this quarter). Reads only."""
    people = list({p.id: p for p in people}.values())
    ids = [p.id for p in people]
    now = clock.now()
    emails: dict[str, str] = {}
    for rid, value in (
        ContactPoint.objects.filter(record_id__in=ids, kind="email")
        .order_by("record_id", "-primary", "id")
        .values_list("record_id", "value")
    ):
        emails.setdefault(rid, value)
    opted = set(OptOut.objects.filter(person_id__in=ids).values_list("person_id", flat=True))
    since = now - dt.timedelta(days=survey.throttle_days)
    asked = set(
        Invite.objects.filter(person_id__in=ids, created_at__gte=since)
        .exclude(status=InviteStatus.SUPPRESSED)
        .values_list("person_id", flat=True)
    ) if survey.throttle_days else set()  # fmt: skip
    accounts = aud.accounts_of(viewer, ids, clock.today())
    quota: dict[str, int] = {}
    if survey.per_account_quarter:
        start = dt.datetime.combine(_quarter_start(clock.today()), dt.time(), tzinfo=dt.UTC)
        for acc in (
            Invite.objects.filter(
                account_id__in=[a.id for a in accounts.values()], created_at__gte=start
            )
            .exclude(status=InviteStatus.SUPPRESSED)
            .values_list("account_id", flat=True)
        ):
            quota[acc] = quota.get(acc, 0) + 1
    out = []
    for p in sorted(people, key=lambda r: (r.name_key, r.id)):
        email, account = emails.get(p.id, ""), accounts.get(p.id)
        reason = ""
        if p.id in opted:
            reason = "opted out"
        elif not email:
            reason = "no email"
        elif p.id in asked:
            reason = f"throttled: asked in the last {survey.throttle_days} days"
        elif survey.per_account_quarter and account is not None:
            if quota.get(account.id, 0) >= survey.per_account_quarter:
                reason = f"account quota: {survey.per_account_quarter} this quarter"
            else:
                quota[account.id] = quota.get(account.id, 0) + 1
        out.append(Planned(p, email, account, "suppressed" if reason else "queued", reason))
    return out


@transaction.atomic
def send_survey(
    *,
    viewer: Viewer,
    survey: str,
    to: Iterable[str] = (),
    dry_run: bool = False,
    cause: str = "",
    run_after: dt.datetime | None = None,
) -> dict[str, Any]:
    """Ask ``to`` (people, organisations or saved views; the survey's audience when none):
    an invite per person, queued for the worker's email, or suppressed with the reason.
    With ``dry_run`` nothing is written."""
    s = get_survey(survey)
    if not s.active:
        raise ValidationError(f"survey: {s.name!r} is closed", field="survey")
    refs = [r for r in to if r and r.strip()]
    people = aud.people_of(viewer, refs) if refs else aud.audience_people(viewer, s)
    planned = plan_invites(viewer, s, people)
    if not dry_run:
        now = clock.now()
        for item in planned:
            inv = Invite.objects.create(
                id=new_id("inv"),
                survey=s,
                person=item.person,
                account=item.account,
                email=item.email,
                status=item.status,
                reason=item.reason,
                cause=cause,
                created_at=now,
            )
            if item.status == "queued":
                jobs.enqueue(send_invite_job(), invite_id=inv.id, run_after=run_after)
        audit("survey.sent", target=s.id,
              detail={"queued": sum(p.status == "queued" for p in planned),
                      "suppressed": sum(p.status != "queued" for p in planned)})  # fmt: skip
    queued = [p.view() for p in planned if p.status == "queued"]
    return {
        "survey": s.id,
        "name": s.name,
        "dry_run": dry_run,
        "asked": queued,
        "suppressed": [p.view() for p in planned if p.status != "queued"],
    }


@transaction.atomic
def link_invite(*, viewer: Viewer, survey: str, person: str) -> tuple[Invite, str]:
    """An invite for one person answered by a link given by hand (a chat, a call): no email.
    Returns it and its token, shown this once; throttle and opt-out still apply."""
    s = get_survey(survey)
    rec = resolve(viewer, person, type_key="person", field="to")
    (item,) = plan_invites(viewer, s, [rec])
    if item.status != "queued" and item.reason != "no email":
        raise Conflict(f"to: {rec.name} is suppressed ({item.reason})", field="to")
    now = clock.now()
    token = secrets.token_urlsafe(24)
    inv = Invite.objects.create(
        id=new_id("inv"), survey=s, person=rec, account=item.account, email=item.email,
        status=InviteStatus.SENT, reason="link given by hand", created_at=now, sent_at=now,
        expires_at=now + dt.timedelta(days=s.expire_after_days), token_hash=token_hash(token),
    )  # fmt: skip
    audit("survey.link", target=inv.id, detail={"survey": s.id, "person": rec.id})
    return inv, token


def send_invite_job() -> Any:
    """The worker's job that emails one invite (imported late: jobs imports this module)."""
    from kith.surveys.jobs import send_invite  # noqa: PLC0415

    return send_invite


@transaction.atomic
def new_token(*, invite_id: str) -> str:
    """A fresh single-use link token for an invite; only its hash is kept (an older link of
    the same invite stops working). Refused once the invite is answered or expired."""
    inv = Invite.objects.select_for_update().filter(pk=invite_id).first()
    if inv is None:
        raise NotFound(f"invite: no invite {invite_id!r}", field="invite")
    if inv.status in (InviteStatus.RESPONDED, InviteStatus.EXPIRED, InviteStatus.SUPPRESSED):
        raise Conflict(f"invite: {invite_id} is {inv.status}", field="invite")
    token = secrets.token_urlsafe(24)
    Invite.objects.filter(pk=inv.pk).update(token_hash=token_hash(token))
    return token


@transaction.atomic
def mark_sent(*, invite_id: str, reminder: bool = False) -> None:
    """The email of an invite was handed to the server."""
    inv = Invite.objects.select_for_update().select_related("survey").get(pk=invite_id)
    now = clock.now()
    if reminder:
        Invite.objects.filter(pk=inv.pk).update(reminded_at=now)
        return
    expires = now + dt.timedelta(days=inv.survey.expire_after_days)
    Invite.objects.filter(pk=inv.pk).update(
        status=InviteStatus.SENT, sent_at=now, expires_at=expires, reason=""
    )


@transaction.atomic
def mark_bounced(*, invite_id: str, reason: str) -> None:
    """The server refused the invite's email for good."""
    Invite.objects.filter(pk=invite_id).exclude(status=InviteStatus.RESPONDED).update(
        status=InviteStatus.BOUNCED, reason=reason[:200], token_hash=None
    )


@transaction.atomic
def expire_invites() -> int:
    """Expire every sent invite past its expiry day (its link stops working)."""
    return Invite.objects.filter(status=InviteStatus.SENT, expires_at__lte=clock.now()).update(
        status=InviteStatus.EXPIRED
    )


@transaction.atomic
def opt_out(*, token: str) -> str:
    """The person behind an invite's link asks never to be surveyed again."""
    inv = find_invite(token)
    OptOut.objects.get_or_create(person_id=inv.person_id, defaults={"source": "link"})
    audit("survey.opted_out", target=inv.person_id, detail={"invite": inv.id})
    return inv.person_id


def find_invite(token: str) -> Invite:
    """The invite of a link token (by hash); one message for any link that is not one."""
    if not token or len(token) > 100:
        raise NotFound("link: this survey link is not valid", field="token")
    inv = (
        Invite.objects.select_related("survey", "person")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if inv is None:
        raise NotFound("link: this survey link is not valid", field="token")
    return inv


def parse_score(value: Any, lo: int, hi: int, *, field: str = "score") -> float:
    text = str(value if value is not None else "").strip()
    if not text:
        raise ValidationError(f"{field}: choose a score from {lo} to {hi}", field=field)
    try:
        n = float(text)
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a number", field=field) from None
    if not lo <= n <= hi:
        raise ValidationError(f"{field}: {n:g} is outside {lo}..{hi}", field=field)
    return n


def respond(
    *, token: str, score: Any, comment: str = "", answers: Mapping[str, Any] | None = None,
    client: str = "",
) -> Interaction:  # fmt: skip
    """Answer the survey behind a link: once. A second answer, an expired link or too many
    tries from one address are refused with one clear line. Every try from ``client``
    counts (outside the answer's transaction, so a refused one counts too)."""
    if client and not throttle.hit(f"survey-respond:{client}", limit=conf.respond_limit(),
                                   seconds=60):  # fmt: skip
        raise ValidationError("too many answers from this address; try again in a minute")
    return _respond(token=token, score=score, comment=comment, answers=answers)


@transaction.atomic
def _respond(
    *, token: str, score: Any, comment: str, answers: Mapping[str, Any] | None
) -> Interaction:
    inv = find_invite(token)
    inv = Invite.objects.select_for_update().select_related("survey", "person").get(pk=inv.pk)
    if inv.status == InviteStatus.RESPONDED:
        when = inv.responded_at.date().isoformat() if inv.responded_at else "before"
        raise Conflict(f"link: this survey was answered already ({when}); thank you", field="token")
    if inv.status == InviteStatus.EXPIRED or (inv.expires_at and inv.expires_at <= clock.now()):
        raise Conflict("link: this survey link has expired", field="token")
    s = inv.survey
    value = parse_score(score, s.scale_min, s.scale_max)
    interaction = log_response(
        survey=s,
        person=inv.person,
        account=inv.account,
        score=value,
        comment=comment,
        answers=answers,
        at=None,
        external_id=f"survey-invite:{inv.id}",
        source="survey",
        extra={"invite": inv.id, "cause": inv.cause},
    )
    Invite.objects.filter(pk=inv.pk).update(
        status=InviteStatus.RESPONDED,
        responded_at=clock.now(),
        response=interaction.id,
    )  # the hash stays: the same link again is told it was answered, not that it is unknown
    return interaction


def kind_of(survey: Survey | None, score: float) -> str:
    """The series a response counts in: its survey's kind; with no survey, a 1-5 score is
    CSAT and a 0-10 score NPS (the rule of ``kith log --kind survey --score``)."""
    if survey is not None:
        return survey.kind
    return "csat" if 1 <= score <= 5 else "nps"


def log_response(
    *,
    survey: Survey | None,
    person: Record,
    account: Record | None,
    score: float,
    comment: str,
    answers: Mapping[str, Any] | None = None,
    at: dt.datetime | str | None,
    external_id: str,
    source: str,
    extra: Mapping[str, Any] | None = None,
    sentiment: float | None = None,
) -> Interaction:
    """Log one checked answer of a known person as a survey interaction (the account linked)
    and tell whether it is a detractor; callers check the score and find the people."""
    kind = kind_of(survey, score)
    meta = {
        "survey": survey.id if survey else None,
        "survey_kind": kind,
        "scale": [survey.scale_min, survey.scale_max] if survey else list(SCALES[kind]),
        "answers": dict(answers or {}),
        **{k: v for k, v in (extra or {}).items() if v},
    }
    interaction, created = log_interaction(
        kind="survey",
        participants=[(person.id, "from")],
        links=[account.id] if account else [],
        at=at,
        subject=survey.question if survey else f"{kind.upper()} response",
        body=(comment or "").strip()[:20_000],
        direction="in",
        score=score,
        sentiment=sentiment,
        external_id=external_id,
        source=source,
        meta=meta,
    )
    if created:
        _maybe_detractor(interaction, survey, kind, score)
    return interaction


LOOP_DAYS = 30  # an older answer (an imported history) opens no follow-up task


def _maybe_detractor(i: Interaction, survey: Survey | None, kind: str, score: float) -> None:
    if i.at < clock.now() - dt.timedelta(days=LOOP_DAYS):
        return
    low = (kind == "nps" and nps_group(score) == "detractor") or (
        kind == "csat"
        and not csat_satisfied(score, survey.scale_max if survey else 5)
        and score <= (survey.scale_max if survey else 5) - 2
    )
    if low:
        publish("survey.detractor", interaction_id=i.id, kind=kind, score=score)


def close_the_loop(*, interaction_id: str, kind: str, score: float, **_: Any) -> None:
    """The default rule: a detractor or a low CSAT opens a follow-up task for the account
    owner (``KITH_SURVEY_CLOSE_LOOP=0`` turns it off), about the respondent and account."""
    if not conf.close_loop():
        return
    from kith.tasks.services import create_task  # noqa: PLC0415 - the one task this app makes

    i = Interaction.objects.get(pk=interaction_id)
    person = i.participants.filter(role="from").values_list("record_id", flat=True).first()
    account = i.links.values_list("record_id", flat=True).first()
    about = [r for r in (person, account) if r]
    owner = None
    if account:
        owner = Record.objects.filter(pk=account).values_list("owner__email", flat=True).first()
    who = Record.objects.filter(pk=person).values_list("name", flat=True).first() or "someone"
    create_task(
        viewer=SYSTEM,
        title=f"Close the loop: {who} answered {kind.upper()} {score:g}",
        due=clock.today() + dt.timedelta(days=2),
        owner=owner or None,
        about=about,
        priority="high",
        notes=(i.body or "")[:1000],
        source="survey",
        source_ref=i.id,
        dedupe_key=f"survey-loop:{i.id}",
    )


def record_response(
    *,
    viewer: Viewer,
    respondent: str,
    score: Any,
    survey: str | None = None,
    comment: str = "",
    at: str | dt.datetime | None = None,
    external_id: str = "",
    answers: Mapping[str, Any] | None = None,
    sentiment: Any = None,
    source: str = "api",
    create_people: bool = True,
) -> tuple[Interaction, bool]:
    """A response from elsewhere (the API, an import): idempotent by ``external_id``.

    ``respondent`` is a reference or an email; an email nobody has becomes a new person
    when ``create_people``."""
    with transaction.atomic():
        s = get_survey(survey) if survey else None
        lo, hi = (s.scale_min, s.scale_max) if s else (0, 10)
        value = parse_score(score, lo, hi)
        ext = (external_id or "").strip()
        if ext:
            existing = Interaction.objects.filter(external_id=ext).first()
            if existing is not None:
                return existing, False
        person = _respondent(viewer, respondent, create=create_people)
        accounts = aud.accounts_of(viewer, [person.id], clock.today())
        from kith.interactions.services import parse_sentiment  # noqa: PLC0415

        given = parse_sentiment(sentiment)
        i = log_response(
            survey=s,
            person=person,
            account=accounts.get(person.id),
            score=value,
            comment=comment,
            answers=answers,
            at=at,
            external_id=ext or new_id("svr"),
            source=source,
            sentiment=given,
        )
        if given is not None:
            from kith.surveys.scoring import mark_imported  # noqa: PLC0415

            mark_imported([i.id], {i.id: given})
        return i, True


def _respondent(viewer: Viewer, ref: str, *, create: bool) -> Record:
    text = (ref or "").strip()
    try:
        return resolve(viewer, text, type_key="person", field="respondent")
    except NotFound:
        if not (create and "@" in text and "." in text.rsplit("@", 1)[-1]):
            raise
    from kith.records.services import add_person  # noqa: PLC0415

    name = text.split("@", 1)[0].replace(".", " ").replace("_", " ").title() or text
    return add_person(name=name, emails=[text])


def score_logged(*, interaction_id: str, **_: Any) -> None:
    """A logged interaction: score its text's sentiment if none was given (subscribed
    first, so health's pair counts read the value when they count the interaction)."""
    from kith.surveys.scoring import score_new  # noqa: PLC0415 - scoring imports this module

    i = Interaction.objects.filter(pk=interaction_id).first()
    if i is not None:
        score_new(i)


def on_interaction_logged(*, interaction_id: str, **_: Any) -> None:
    """A logged interaction: ask the surveys whose rule trigger it matches ("ticket
    resolved + 24 h")."""
    i = Interaction.objects.filter(pk=interaction_id).first()
    if i is None or i.kind == "survey":
        return
    for s in Survey.objects.filter(active=True, trigger__on="rule", trigger__kind=i.kind):
        if s.trigger.get("outcome") and s.trigger["outcome"] != i.outcome:
            continue
        people = list(
            i.participants.filter(record__type_id="person")
            .exclude(role="mentioned")
            .values_list("record_id", flat=True)
        )
        from kith.relationships.selectors import team_ids  # noqa: PLC0415

        ours = set(team_ids(i.at.date()))
        theirs = [p for p in people if p not in ours]
        if theirs:
            delay = dt.timedelta(hours=int(s.trigger.get("delay_hours", 24)))
            send_survey(viewer=SYSTEM, survey=s.id, to=theirs, cause=i.id, run_after=i.at + delay)
