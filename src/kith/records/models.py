"""Records (people, organisations, custom types), their typed fields and contact points."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kith.core import clock


class FieldKind(models.TextChoices):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    EMAIL = "email"
    URL = "url"
    BOOL = "bool"


class RecordType(models.Model):
    """A kind of record: built-in ``person`` and ``organization``, or user-defined."""

    key = models.SlugField(primary_key=True, max_length=40)
    label = models.CharField(max_length=80)
    id_prefix = models.CharField(max_length=8, unique=True)
    builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class FieldDef(models.Model):
    """A typed field of a record type, validated on every write."""

    record_type = models.ForeignKey(RecordType, on_delete=models.CASCADE, related_name="fields")
    name = models.SlugField(max_length=60)
    kind = models.CharField(max_length=10, choices=FieldKind.choices)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    builtin = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "name"], name="fielddef_unique_name")
        ]
        ordering = ["record_type", "id"]

    def __str__(self) -> str:
        return f"{self.record_type_id}.{self.name}:{self.kind}"


class Record(models.Model):
    """Anything a relationship can join: a person, an organisation, a custom record."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.ForeignKey(RecordType, on_delete=models.PROTECT, db_column="type_key")
    name = models.CharField(max_length=300)
    # casefolded name, for exact-name references and search
    name_key = models.CharField(max_length=300)
    fields = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.CharField(max_length=40, null=True, blank=True)
    # the user who created it over the API; a private record is seen only by them and admins
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    private = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            models.Index(fields=["name_key"], name="record_name_key"),
            models.Index(fields=["type", "name_key"], name="record_type_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ContactKind(models.TextChoices):
    EMAIL = "email"
    PHONE = "phone"
    DOMAIN = "domain"
    URL = "url"


class ContactPoint(models.Model):
    """An email, phone, web domain or URL of a record; a record may have many of each."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    value = models.CharField(max_length=320)
    normalized = models.CharField(max_length=320)
    label = models.CharField(max_length=40, blank=True, default="")
    primary = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["kind", "normalized"], name="contact_lookup")]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "kind", "normalized"], name="contact_unique_per_record"
            )
        ]
        ordering = ["-primary", "id"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Tag(models.Model):
    """A label on a record ("vip", "investor"): what Google's Labels, vCard CATEGORIES,
    Outlook's Categories and rules' add_tag write. One row per record and tag."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)
    key = models.CharField(max_length=40)  # casefolded name: one tag whatever its case
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["key", "record"], name="tag_key_record")]
        constraints = [
            models.UniqueConstraint(fields=["record", "key"], name="tag_unique_per_record")
        ]
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.record_id}:{self.name}"


class WorkspaceSettings(models.Model):
    """The single row of workspace-wide settings: above all, the home organisation."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    home_org = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"workspace (home {self.home_org_id})"
