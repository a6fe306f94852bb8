"""Merge two records into one, and undo it exactly. One transaction each, with history.

The merge policy, the same for the CLI, the API and the web (the shells check only the
role: member or above):

- the actor must see both records (a hidden one is not found);
- a merge never hides a record from someone who sees it now: OTHER merges into a
  shared KEEP, or into a private KEEP only when OTHER is private to the same owner;
- an admin (and the CLI) may undo any merge, a member the merges they made themselves,
  and only while they can see both records.

A merge moves everything that points at OTHER (contact points, relationships from
either end, participations, links, rows of any other app with a foreign key to a
record, and OTHER's history entries) onto KEEP, fills KEEP's empty fields from OTHER,
and soft-deletes OTHER with ``merged_into=KEEP``. Before touching a row it stores the
row, exactly, in the :class:`Merge` snapshot; unmerge writes those rows back.

It is the one write of other apps' tables outside their services, on purpose: the merge
is one whole-graph operation whose exact undo needs the row snapshot taken in the same
function, so the moves stay here rather than spreading the snapshot over four apps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Q

from kith.backup.codec import dump_rows, load_rows
from kith.conf import KITH_APPS
from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.models import Change
from kith.core.services import audit, record_change
from kith.core.viewer import SYSTEM, Viewer
from kith.dedupe import kept
from kith.dedupe.models import Merge, NotDuplicate
from kith.interactions.models import InteractionLink, Participant
from kith.records.models import ContactPoint, Record, Tag
from kith.records.selectors import can_see, resolve
from kith.relationships.models import Relationship, RelationshipType

SNAPSHOT_VERSION = 1
_HANDLED = {ContactPoint, Relationship, Participant, InteractionLink}


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def _record_fks() -> list[tuple[type[models.Model], list[str]]]:
    """Models of other Kith apps with foreign keys to records, not handled specially."""
    labels = {name.rsplit(".", 1)[-1] for name in KITH_APPS} - {"dedupe"}
    out = []
    for model in apps.get_models():
        if model._meta.app_label not in labels or model in _HANDLED:
            continue
        fks = [
            f.attname
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is Record
        ]
        if fks:
            out.append((model, fks))
    return out


class _Snapshot:
    """Rows as they were before the merge touched them, keyed by model label and pk."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}

    def keep(self, model: type[models.Model], query: Q) -> None:
        table = self.tables.setdefault(_label(model), {})
        for row in dump_rows(model, query):
            pk = str(row[model._meta.pk.attname])
            table.setdefault(pk, row)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        return {label: list(rows.values()) for label, rows in self.tables.items() if rows}


def _check_pair(keep: Record, other: Record) -> None:
    if keep.pk == other.pk:
        raise ValidationError(
            f"other: cannot merge {keep.name} ({keep.id}) into itself", field="other"
        )
    if keep.type_id != other.type_id:
        raise ValidationError(
            f"other: {other.name} ({other.id}) is of type {other.type_id}, "
            f"{keep.name} ({keep.id}) of type {keep.type_id}; only records of one type merge",
            field="other",
        )
    for label, rec in (("keep", keep), ("other", other)):
        if rec.merged_into:
            raise Conflict(
                f"{label}: {rec.name} ({rec.id}) is already merged into {rec.merged_into}",
                field=label,
            )
        if rec.deleted_at is not None:
            raise Conflict(
                f"{label}: {rec.name} ({rec.id}) is deleted; restore it first", field=label
            )


def _check_hides_nothing(keep: Record, other: Record) -> None:
    """Refuse a merge after which someone who sees OTHER now would no longer see it.

    A private record is seen by its owner and the admins; a shared one by everyone. So
    OTHER may go into a shared KEEP, or into a private KEEP of the same owner when OTHER
    is private too. (Making a shared record private needs an admin; a merge must not be a
    way round that.)
    """
    if not keep.private or (other.private and other.owner_id == keep.owner_id):
        return
    who = "the team sees it" if not other.private else "its owner sees it"
    raise Conflict(
        f"keep: {keep.name} ({keep.id}) is private and {other.name} ({other.id}) is not "
        f"private to the same owner ({who}); merging would hide it: merge {keep.id} into "
        f"{other.id} instead",
        field="keep",
    )


def _lock(ref: str, field: str, viewer: Viewer = SYSTEM) -> Record:
    found = resolve(viewer, ref, include_deleted=True, field=field)
    return Record.objects.select_for_update().get(pk=found.pk)


def _move_contacts(keep: Record, other: Record, snap: _Snapshot, stats: Counter[str]) -> None:
    mine = {
        (c.kind, c.normalized): c for c in ContactPoint.objects.filter(record=keep).order_by("id")
    }
    has_primary = {kind for (kind, _), c in mine.items() if c.primary}
    snap.keep(ContactPoint, Q(record=other))
    for c in ContactPoint.objects.filter(record=other).order_by("-primary", "id"):
        if (c.kind, c.normalized) in mine:
            c.delete()
            stats["contacts dropped (already on keep)"] += 1
            continue
        c.record = keep
        if c.kind in has_primary:
            c.primary = False
        has_primary.add(c.kind)
        c.save(update_fields=["record", "primary"])
        mine[(c.kind, c.normalized)] = c
        stats["contacts moved"] += 1


def _rel_key(rel: Relationship, symmetric: set[str]) -> tuple[Any, ...]:
    ends: tuple[str, str] = (rel.from_record_id, rel.to_record_id)
    if rel.type_id in symmetric:
        ends = (min(ends), max(ends))
    return (rel.type_id, *ends, rel.role, rel.since, rel.until)


def _move_relationships(keep: Record, other: Record, snap: _Snapshot, stats: Counter[str]) -> None:
    symmetric = set(RelationshipType.objects.filter(symmetric=True).values_list("key", flat=True))
    touching = Q(from_record=other) | Q(to_record=other)
    snap.keep(Relationship, touching)
    theirs = list(Relationship.objects.filter(touching).order_by("created_at", "id"))
    others = {r.to_record_id if r.from_record_id == other.id else r.from_record_id for r in theirs}
    others.discard(keep.id)
    existing: dict[tuple[Any, ...], Relationship] = {}
    kept = Relationship.objects.filter(
        Q(from_record=keep, to_record_id__in=others) | Q(to_record=keep, from_record_id__in=others)
    ).order_by("created_at", "id")
    current: dict[tuple[Any, ...], Relationship] = {}  # open ones by type and ends
    for rel in kept:
        existing.setdefault(_rel_key(rel, symmetric), rel)
        if rel.until is None:
            current.setdefault(_rel_key(rel, symmetric)[:3], rel)
    for rel in theirs:
        if rel.from_record_id == other.id:
            rel.from_record_id = keep.id
        if rel.to_record_id == other.id:
            rel.to_record_id = keep.id
        if rel.from_record_id == rel.to_record_id:
            Relationship.objects.filter(pk=rel.pk).delete()
            stats["relationships dropped (between the two)"] += 1
            continue
        key = _rel_key(rel, symmetric)
        twin = existing.get(key)
        if twin is not None:
            fill = {
                name: getattr(rel, name)
                for name in ("note", "source")
                if getattr(rel, name) and not getattr(twin, name)
            }
            if fill:
                snap.keep(Relationship, Q(pk=twin.pk))
                Relationship.objects.filter(pk=twin.pk).update(**fill)
            Relationship.objects.filter(pk=rel.pk).delete()
            stats["relationships dropped (identical)"] += 1
            continue
        open_twin = current.get(key[:3]) if rel.until is None else None
        if open_twin is not None:
            # both current (a job at the same organisation): one, from the earlier start,
            # the kept record's role and note first
            fill = {
                name: getattr(rel, name)
                for name in ("role", "note", "source")
                if getattr(rel, name) and not getattr(open_twin, name)
            }
            if rel.since and (open_twin.since is None or rel.since < open_twin.since):
                fill["since"] = rel.since
            if fill:
                snap.keep(Relationship, Q(pk=open_twin.pk))
                Relationship.objects.filter(pk=open_twin.pk).update(**fill)
            Relationship.objects.filter(pk=rel.pk).delete()
            stats["relationships merged (both current)"] += 1
            continue
        Relationship.objects.filter(pk=rel.pk).update(
            from_record_id=rel.from_record_id, to_record_id=rel.to_record_id
        )
        existing[key] = rel
        if rel.until is None:
            current.setdefault(key[:3], rel)
        stats["relationships moved"] += 1


def _move_unique(
    model: type[Participant] | type[InteractionLink],
    keep: Record,
    other: Record,
    extra: tuple[str, ...],
    snap: _Snapshot,
    stats: Counter[str],
    what: str,
) -> None:
    """Move rows unique per (interaction, record, *extra); drop those KEEP already has."""
    snap.keep(model, Q(record=other))
    theirs = model._default_manager.filter(record=other)
    taken = set(
        model._default_manager.filter(
            record=keep, interaction_id__in=theirs.values("interaction_id")
        ).values_list("interaction_id", *extra)
    )
    drop = [
        pk for pk, *key in theirs.values_list("pk", "interaction_id", *extra) if tuple(key) in taken
    ]
    if drop:
        model._default_manager.filter(pk__in=drop).delete()
    stats[f"{what} dropped (already on keep)"] += len(drop)
    stats[f"{what} moved"] += model._default_manager.filter(record=other).update(record=keep)


def _move_generic(keep: Record, other: Record, snap: _Snapshot, stats: Counter[str]) -> None:
    # a tag both carry stays once (the table keeps one row per record and tag)
    snap.keep(Tag, Q(record=other))
    dropped, _ = Tag.objects.filter(
        record=other, key__in=Tag.objects.filter(record=keep).values("key")
    ).delete()
    if dropped:
        stats["tags dropped (already on keep)"] += dropped
    for model, fks in _record_fks():
        for fk in fks:
            query = Q(**{fk: other.id})
            snap.keep(model, query)
            try:
                with transaction.atomic():
                    moved = model._default_manager.filter(query).update(**{fk: keep.id})
            except IntegrityError as exc:
                raise Conflict(
                    f"other: cannot move {model._meta.verbose_name_plural} of {other.id} "
                    f"to {keep.id}: {exc}",
                    field="other",
                ) from exc
            if moved:
                stats[f"{model._meta.verbose_name_plural} moved"] += moved


def _merge_fields(keep: Record, other: Record) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fields KEEP takes from OTHER (KEEP's empty ones) and the values that differ."""
    added = {k: v for k, v in other.fields.items() if k not in keep.fields}
    conflicts = [
        {"field": f"fields.{k}", "keep": keep.fields[k], "other": v}
        for k, v in sorted(other.fields.items())
        if k in keep.fields and keep.fields[k] != v
    ]
    if keep.name != other.name:
        conflicts.insert(0, {"field": "name", "keep": keep.name, "other": other.name})
    return added, conflicts


def _brief(record: Record) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "type": record.type_id}


@transaction.atomic
def merge_records(*, keep: str, other: str, viewer: Viewer = SYSTEM) -> dict[str, Any]:
    """Merge OTHER into KEEP as ``viewer``; return what moved, was dropped and differed.

    Both must be records ``viewer`` may see; a merge that would hide OTHER from anyone who
    sees it now is refused (see the module's policy).
    """
    keep_rec = _lock(keep, "keep", viewer)
    other_rec = _lock(other, "other", viewer)
    _check_pair(keep_rec, other_rec)
    _check_hides_nothing(keep_rec, other_rec)
    snap = _Snapshot()
    snap.keep(Record, Q(pk__in=[keep_rec.pk, other_rec.pk]))
    stats: Counter[str] = Counter()
    _move_contacts(keep_rec, other_rec, snap, stats)
    _move_relationships(keep_rec, other_rec, snap, stats)
    _move_unique(Participant, keep_rec, other_rec, ("role",), snap, stats, "participations")
    _move_unique(InteractionLink, keep_rec, other_rec, (), snap, stats, "links")
    _move_generic(keep_rec, other_rec, snap, stats)
    history = list(Change.objects.filter(entity_id=other_rec.id).values_list("id", flat=True))
    Change.objects.filter(pk__in=history).update(entity_id=keep_rec.id)
    stats["history entries moved"] = len(history)

    added, conflicts = _merge_fields(keep_rec, other_rec)
    now = clock.now()
    keep_rec.fields = {**keep_rec.fields, **added}
    keep_rec.version += 1
    keep_rec.updated_at = now
    keep_rec.save(update_fields=["fields", "version", "updated_at"])
    other_rec.deleted_at = now
    other_rec.merged_into = keep_rec.id
    other_rec.version += 1
    other_rec.updated_at = now
    other_rec.save(update_fields=["deleted_at", "merged_into", "version", "updated_at"])

    merge_id = new_id("mrg")
    summary = {
        "id": merge_id,
        "keep": _brief(keep_rec),
        "other": _brief(other_rec),
        "moved": {k: v for k, v in sorted(stats.items()) if v},
        "fields_added": added,
        "conflicts": conflicts,
        "at": now.isoformat(),
    }
    Merge.objects.create(
        id=merge_id,
        keep_id=keep_rec.id,
        other_id=other_rec.id,
        snapshot={
            "version": SNAPSHOT_VERSION,
            "rows": snap.as_json(),
            "history": history,
            "keep_version": keep_rec.version,
            "fields_added": added,
        },
        summary=summary,
        actor=current_actor(),
        at=now,
    )
    note = (
        f"merged {other_rec.name} ({other_rec.id}) into this record; undo: kith unmerge {merge_id}"
    )
    record_change(
        entity_id=keep_rec.id,
        entity_kind="record",
        action="merge",
        new={"merge": merge_id, "other": other_rec.id, "moved": summary["moved"]},
        note=note,
        at=now,
    )
    for key, value in sorted(added.items()):
        record_change(
            entity_id=keep_rec.id,
            entity_kind="record",
            action="update",
            field=f"fields.{key}",
            new=value,
            note=f"from {other_rec.id} (merge {merge_id})",
            at=now,
        )
    for item in conflicts:
        record_change(
            entity_id=keep_rec.id,
            entity_kind="record",
            action="merge_conflict",
            field=item["field"],
            old=item["other"],
            new=item["keep"],
            note=f"{other_rec.id} had {item['other']!r}; kept {item['keep']!r} (merge {merge_id})",
            at=now,
        )
    record_change(
        entity_id=other_rec.id,
        entity_kind="record",
        action="merged",
        new={"merge": merge_id, "into": keep_rec.id},
        note=f"merged into {keep_rec.name} ({keep_rec.id})",
        at=now,
    )
    publish("record.updated", record_id=keep_rec.id)
    publish("record.deleted", record_id=other_rec.id)
    return summary


def rebuild_duplicates() -> dict[str, int]:
    """Rebuild the kept duplicate pairs whole, audited (``kith.dedupe.kept.rebuild``)."""
    result = kept.rebuild()
    audit("duplicates.rebuilt", detail=result)
    return result


def find_merge(ref: str, viewer: Viewer = SYSTEM) -> Merge:
    """The merge named by its id, or the latest live merge of the record ``ref`` (OTHER).

    A merge of a record ``viewer`` may not see is not found.
    """
    text = (ref or "").strip()[:320]
    missing = NotFound(f"ref: no merge or merged record matches {text!r}", field="ref")
    found = Merge.objects.filter(pk=text).defer("snapshot").first()
    if found is not None:
        if not _sees_both(viewer, found):
            raise missing
        return found
    try:
        record = resolve(viewer, text, include_deleted=True, field="ref")
    except NotFound:
        raise missing from None
    found = (
        Merge.objects.filter(other_id=record.id, undone_at__isnull=True)
        .defer("snapshot")
        .order_by("-at")
        .first()
    )
    if found is None or not _sees_both(viewer, found):
        raise NotFound(f"ref: {record.name} ({record.id}) has no merge to undo", field="ref")
    return found


def _sees_both(viewer: Viewer, merge: Merge) -> bool:
    if viewer.sees_everything:
        return True
    both = Record.objects.filter(pk__in=[merge.keep_id, merge.other_id])
    return all(can_see(viewer, r) for r in both.only("id", "private", "owner_id"))


def can_undo_merge(viewer: Viewer, merge: Merge, *, actor: str) -> bool:
    """Whether ``viewer`` (acting as ``actor``) may undo ``merge``: admins any, others theirs.

    The shells check the role first (member or above); ``actor`` is the name merges are
    recorded under (``kith.core.context.current_actor``: the user's email).
    """
    if merge.undone_at is not None:
        return False
    return viewer.sees_everything or (bool(actor) and merge.actor == actor)


def _restore_keep_fields(keep: Record, added: dict[str, Any]) -> list[str]:
    """KEEP changed after the merge: take back only the fields the merge added, if unchanged."""
    removed = [k for k, v in added.items() if keep.fields.get(k) == v]
    keep.fields = {k: v for k, v in keep.fields.items() if k not in removed}
    keep.version += 1
    keep.updated_at = clock.now()
    keep.save(update_fields=["fields", "version", "updated_at"])
    return removed


def _load_snapshot(rows: dict[str, list[dict[str, Any]]], skip: Iterable[str] = ()) -> int:
    total = 0
    skipped = set(skip)
    for label, table in rows.items():
        model = apps.get_model(label)
        if model is Record:
            table = [r for r in table if r["id"] not in skipped]
        total += load_rows(model, table)
    return total


@transaction.atomic
def unmerge(*, ref: str, viewer: Viewer = SYSTEM) -> dict[str, Any]:
    """Undo a merge (by merge id or by the merged record): both records come back as they were.

    As ``viewer`` (the CLI: the system): a merge of records they cannot see is not found,
    and one they may not undo (``can_undo_merge``) is refused.
    """
    merge = find_merge(ref, viewer)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict(f"ref: merge {merge.id} was already undone on {merge.undone_at:%Y-%m-%d}")
    if not can_undo_merge(viewer, merge, actor=current_actor()):
        raise Conflict(
            f"ref: merge {merge.id} was made by {merge.actor or 'someone else'}; only they or "
            "an admin can undo it",
            field="ref",
        )
    snap = merge.snapshot
    if snap.get("version") != SNAPSHOT_VERSION:
        raise ValidationError(f"ref: merge {merge.id} has an unknown snapshot format", field="ref")
    keep = Record.objects.select_for_update().filter(pk=merge.keep_id).first()
    if keep is None:
        raise NotFound(f"ref: {merge.keep_id}, the record kept by {merge.id}, no longer exists")
    if keep.merged_into:
        later = Merge.objects.filter(other_id=keep.id, undone_at__isnull=True).first()
        raise Conflict(
            f"ref: {keep.name} ({keep.id}) was itself merged into {keep.merged_into} later; "
            f"undo that first (kith unmerge {later.id if later else keep.id})",
            field="ref",
        )
    exact = keep.version == snap["keep_version"]
    rows = dict(snap["rows"])
    _load_snapshot(rows, skip=() if exact else (keep.id,))
    fields_kept: list[str] = []
    if not exact:
        removed = _restore_keep_fields(keep, snap["fields_added"])
        fields_kept = sorted(k for k in snap["fields_added"] if k not in removed)
    Change.objects.filter(pk__in=snap["history"]).update(entity_id=merge.other_id)
    now = clock.now()
    merge.undone_at = now
    merge.undone_by = current_actor()
    merge.save(update_fields=["undone_at", "undone_by"])
    other = Record.objects.get(pk=merge.other_id)
    keep.refresh_from_db()
    for rec, note in (
        (keep, f"unmerged {other.name} ({other.id}); merge {merge.id} undone"),
        (other, f"unmerged from {keep.name} ({keep.id}); merge {merge.id} undone"),
    ):
        record_change(
            entity_id=rec.id,
            entity_kind="record",
            action="unmerge",
            new={"merge": merge.id},
            note=note,
            at=now,
        )
    publish("record.restored", record_id=other.id)
    publish("record.updated", record_id=keep.id)
    return {
        "merge": merge.id,
        "keep": _brief(keep),
        "other": _brief(other),
        "exact": exact,
        "fields_left_on_keep": fields_kept,
        "history_entries_returned": len(snap["history"]),
    }


@transaction.atomic
def dismiss_pair(*, a: str, b: str, viewer: Viewer = SYSTEM) -> dict[str, Any]:
    """Say two records ``viewer`` sees are not duplicates: the pair is never proposed again
    (kept until one of them is merged or someone says otherwise); audited."""
    first = resolve(viewer, a, field="a")
    second = resolve(viewer, b, field="b")
    if first.pk == second.pk:
        raise ValidationError(f"b: {second.name} ({second.id}) is the same record as a", field="b")
    low, high = sorted([first.pk, second.pk])
    NotDuplicate.objects.get_or_create(
        a_id=low, b_id=high, defaults={"actor": current_actor() or ""}
    )
    audit("duplicate.dismissed", target=f"{low} {high}")
    return {
        "a": {"id": first.id, "name": first.name},
        "b": {"id": second.id, "name": second.name},
        "dismissed": True,
    }
