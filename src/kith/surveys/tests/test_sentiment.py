"""Lexicon sentiment: the expected sign on a corpus of real-looking emails, provenance and
evidence, a person's value never overwritten, other languages left unscored, rescore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kith.core.viewer import SYSTEM
from kith.intelligence.models import PairStat
from kith.interactions.models import Interaction
from kith.interactions.services import edit_interaction
from kith.surveys.models import SentimentMark
from kith.surveys.scoring import rescore
from kith.surveys.selectors import sentiment_of
from kith.surveys.sentiment import LexiconAnalyser
from kith.testing import log, make_home, make_org, make_person

CORPUS = json.loads((Path(__file__).parent / "sentiment_corpus.json").read_text("utf-8"))


@pytest.mark.parametrize("item", CORPUS, ids=[c["id"] for c in CORPUS])
def test_the_lexicon_gives_the_expected_sign(item: dict[str, str]) -> None:
    scored = LexiconAnalyser().score(item["text"])
    if item["sign"] == "none":
        assert scored.value is None and scored.language == "other"
    elif item["sign"] == "+":
        assert scored.value is not None and scored.value > 0.05 and scored.evidence
    else:
        assert scored.value is not None and scored.value < -0.05 and scored.evidence


@pytest.fixture
def ann(time_travel) -> object:
    make_home()
    return make_person("Ann Lee", email="ann@acme.test", org=make_org("Acme"))


def test_a_logged_email_is_scored_with_provenance_and_evidence(ann) -> None:
    i = log("email", ann, subject="Renewal", body="We are not happy: the outage was terrible.")
    out = sentiment_of(SYSTEM, i.id)
    assert out["source"] == "lexicon" and out["value"] < 0
    assert "terrible" in out["evidence"] and "not happy" in out["evidence"]
    given = log("email", ann, subject="x", body="terrible", sentiment=0.5)
    assert sentiment_of(SYSTEM, given.id) == {"interaction": given.id, "value": 0.5,
                                              "source": "manual", "evidence": []}  # fmt: skip


def test_a_person_s_value_is_never_overwritten_by_a_rescore(ann) -> None:
    i = log("note", ann, body="Fantastic meeting, they love the product.")
    edit_interaction(interaction_id=i.id, values={"sentiment": "-0.3"})
    counts = rescore()
    i.refresh_from_db()
    assert i.sentiment == -0.3 and counts["kept_manual"] == 1
    assert sentiment_of(SYSTEM, i.id)["source"] == "manual"


def test_other_languages_are_left_unscored_and_rescore_fills_the_gaps(ann) -> None:
    spanish = log("email", ann, subject="Reunión",
                  body="Gracias por la reunión de ayer, seguimos en contacto con el equipo.")  # fmt: skip
    assert Interaction.objects.get(pk=spanish.id).sentiment is None
    assert sentiment_of(SYSTEM, spanish.id)["note"].startswith("not scored")
    # text that changed without an event (as a bulk load writes it): rescore scores it
    SentimentMark.objects.all().delete()
    happy = log("note", ann, body="placeholder")
    Interaction.objects.filter(pk=happy.id).update(body="Wonderful news, great results!",
                                                   sentiment=None)  # fmt: skip
    counts = rescore()
    assert counts["scored"] >= 1 and counts["unscored"] == 1
    assert Interaction.objects.get(pk=happy.id).sentiment > 0
    assert Interaction.objects.get(pk=spanish.id).sentiment is None


def test_health_counts_the_derived_sentiment_as_the_interaction_is_logged(time_travel) -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    ann = make_person("Ann Lee", org=make_org("Acme"))
    log("email", mia, ann, subject="Outage", body="This is terrible and unacceptable.")
    row = PairStat.objects.get(member_id=mia.id, person_id=ann.id)
    assert row.sent_n == 1 and row.sent_sum < 0  # counted at once, no rebuild needed
