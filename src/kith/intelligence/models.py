"""Materialised interaction statistics between our team and everyone they deal with.

One row per (team member, other person, interaction kind, day): set-based aggregation of
the Participant rows both share. Scores as of any date are sums over these rows, so they
stay exact for past dates and the table is maintained incrementally (see services).
"""

from __future__ import annotations

from django.db import models


class PairStat(models.Model):
    """What one of our people and one other person did together on one day, by kind."""

    member_id = models.CharField(max_length=40)
    person_id = models.CharField(max_length=40)
    kind = models.CharField(max_length=40)
    day = models.DateField()
    n = models.PositiveIntegerField(default=0)  # interactions shared
    n_two = models.PositiveIntegerField(default=0)  # of which two-way (they engaged too)
    n_in = models.PositiveIntegerField(default=0)
    n_out = models.PositiveIntegerField(default=0)
    sent_sum = models.FloatField(default=0.0)
    sent_n = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0.0)  # survey scores (NPS/CSAT)
    score_n = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member_id", "person_id", "kind", "day"], name="pairstat_unique"
            )
        ]
        # covering what the keep-in-touch scan reads of a person's days (two-way and any
        # contact, by which member), so it never visits the table rows
        indexes = [
            models.Index(
                fields=["person_id", "day", "n_two", "n", "member_id"], name="pairstat_person_days"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}~{self.person_id} {self.kind} {self.day} x{self.n}"


class IntelState(models.Model):
    """Small key/value state: whether the pair table is built, the data version."""

    key = models.CharField(primary_key=True, max_length=40)
    value = models.CharField(max_length=200, default="")

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class BandState(models.Model):
    """The health band a record was last seen in, so a change of band is an event."""

    record_id = models.CharField(primary_key=True, max_length=40)
    type_key = models.CharField(max_length=64)
    band = models.CharField(max_length=20)
    score = models.FloatField(default=0.0)
    since = models.DateField()

    def __str__(self) -> str:
        return f"{self.record_id} {self.band}"


class KeptScore(models.Model):
    """A record's health as of ``day`` as the system sees it, kept by the event handlers.

    One row per person with a score and per live organisation (what ``engine.compute``
    scores): the score, its band, the last two-way contact, the score ``trend_days``
    earlier, the value (engagement) and the newest risk event, so lists sort and filter by
    health and the at-risk ranking is read with an index instead of scoring the workspace.
    """

    # no foreign key: a merge moves every row that points at the merged record, and this
    # table is rescored by the merge's events instead
    record_id = models.CharField(primary_key=True, max_length=40)
    type_key = models.CharField(max_length=64)
    score = models.FloatField(default=0.0)
    band = models.CharField(max_length=20)
    last_two_way = models.DateField(null=True)
    previous = models.FloatField(default=0.0)  # the score trend_days before ``day``
    value = models.FloatField(default=0.0)  # rounded to 0.1, as the at-risk order reads it
    risk = models.BooleanField(default=False)  # a risk event in its window (organisations)
    newest_event = models.CharField(max_length=10, default="")  # newest risk event or contact
    change = models.FloatField(default=0.0)  # score - previous, rounded to 0.1
    # 1: fell, dropped below the floor, or a risk event (a number: "= 1" uses the index)
    at_risk = models.PositiveSmallIntegerField(default=0)
    live = models.PositiveSmallIntegerField(default=1)  # 0: the record is deleted

    class Meta:
        indexes = [
            models.Index(fields=["type_key", "score"], name="keptscore_type_score"),
            models.Index(fields=["type_key", "band", "live"], name="keptscore_type_band_live"),
            models.Index(fields=["type_key", "last_two_way"], name="keptscore_type_last"),
            models.Index(
                fields=["type_key", "at_risk", "newest_event"], name="keptscore_type_risk"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.score:.1f} {self.band}"
