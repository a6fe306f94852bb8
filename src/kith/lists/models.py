"""Saved views: a user's named list (type, search, filters, sort, columns)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """A user's named list: which records (type, search, filters, sort) and which columns."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=80)
    type_key = models.CharField(max_length=64)
    query = models.JSONField(default=dict)  # search, filters, sort, columns
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "web_savedview"  # the table it had when the web app held it
        constraints = [
            models.UniqueConstraint(fields=["user", "type_key", "name"], name="web_view_unique")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.type_key}: {self.name}"
