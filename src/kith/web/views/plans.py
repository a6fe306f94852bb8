"""Pages: the record page's Plan section (goals with status sentences, the stakeholder grid
coloured by warmth, initiatives), loaded by htmx; every read through kith.plans."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from kith.plans.selectors import plan_view, plans_of
from kith.web.views.base import page, signed_in, viewer
from kith.web.views.record_data import get_record


@require_GET
@signed_in()
def record_plans(request: HttpRequest, rid: str) -> HttpResponse:
    """The plans for a record, each as of today."""
    record = get_record(request, rid)
    who = viewer(request)
    plans = [plan_view(who, pid) for pid in plans_of(who, record)]
    return page(request, "web/_record_plans.html", {"record": record, "plans": plans})


urlpatterns = [path("records/<str:rid>/plans", record_plans, name="record-plans")]
