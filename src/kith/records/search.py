"""How records are searched: by name, email, phone (any punctuation) or domain.

The one rule: ``kith.records.selectors.search_records`` (the web's search box),
``records_page`` (``GET /api/v1/records?q=``), ``list_records`` (``kith list --search``) and
the web's lists all match through ``search_q``, so a person is found alike everywhere.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from kith.core.errors import ValidationError
from kith.records.models import ContactPoint, Record
from kith.records.normalize import name_key

SEARCH_MAX = 300
_PHONE_LIKE = re.compile(r"[\d\s().+\-/]+")


def check_search(text: str | None, *, field: str = "q") -> str:
    """``text`` stripped; refused when longer than ``SEARCH_MAX``."""
    term = (text or "").strip()
    if len(term) > SEARCH_MAX:
        raise ValidationError(f"{field}: longer than {SEARCH_MAX} characters", field=field)
    return term


def search_q(text: str) -> Q:
    """Records whose name contains ``text`` or with an email, phone or domain containing it.

    A phone is matched on its digits, so "415 555" and "(415) 555" find +1 (415) 555-0199.
    """
    term = text.strip().lower()
    contact = Q(normalized__contains=term)
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 3 and _PHONE_LIKE.fullmatch(term):
        contact |= Q(kind="phone", normalized__contains=digits)
    by_contact = ContactPoint.objects.filter(contact).values("record_id")
    return Q(name_key__contains=name_key(text)) | Q(pk__in=by_contact)


def with_contacts(qs: QuerySet[Record]) -> QuerySet[Record]:
    """``qs`` with each record's contact points, primary first (for summaries)."""
    return qs.prefetch_related(
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
    )
