"""Import jobs: an uploaded file on its way in, with its options, progress and report."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """An uploaded file on its way in: preview, options, progress and the final report.

    The file itself is held in the database so that any server process can run or show it.
    """

    class Status(models.TextChoices):
        PREVIEW = "preview"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    fmt = models.CharField(max_length=32, blank=True, default="")
    options = models.JSONField(default=dict)  # mapping, skip_bad, bodies, ip
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEW)
    done = models.IntegerField(default=0)
    total = models.IntegerField(null=True)
    report = models.JSONField(default=dict)
    rejects = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "web_importjob"  # the table it had when the web app held it

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"
