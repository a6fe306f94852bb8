"""Fixed-window counters in the database: every server process sees the same counts."""

from __future__ import annotations

import datetime as dt
import random

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kith.accounts.models import RateCounter


def _window(seconds: int, now: dt.datetime) -> tuple[int, dt.datetime]:
    epoch = int(now.timestamp()) // seconds
    return epoch, dt.datetime.fromtimestamp(epoch * seconds, tz=dt.UTC)


def hit(key: str, *, limit: int, seconds: int, now: dt.datetime | None = None) -> bool:
    """Count one event for ``key``; ``False`` when it is over ``limit`` in this window."""
    moment = now or timezone.now()
    epoch, start = _window(seconds, moment)
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    with transaction.atomic():
        updated = RateCounter.objects.filter(pk=row_key).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=row_key, count=1, window_start=start)
            except IntegrityError:  # another process opened the window first
                RateCounter.objects.filter(pk=row_key).update(count=F("count") + 1)
            if random.random() < 0.01:
                RateCounter.objects.filter(window_start__lt=moment - dt.timedelta(days=1)).delete()
    count = RateCounter.objects.filter(pk=row_key).values_list("count", flat=True).first() or 0
    return count <= limit


def count(key: str, *, seconds: int, now: dt.datetime | None = None) -> int:
    """Events counted for ``key`` in the current window."""
    epoch, _ = _window(seconds, now or timezone.now())
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    return RateCounter.objects.filter(pk=row_key).values_list("count", flat=True).first() or 0
