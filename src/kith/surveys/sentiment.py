"""Sentiment of an interaction's text, behind one interface (``Analyser``).

The default analyser scores with the VADER lexicon that ships inside the
``vaderSentiment`` package (read from the installed package; nothing is downloaded): each
word's valence, turned by a negation in the three words before it ("not happy") and
strengthened or softened by a booster ("very", "slightly"), the words after a "but"
counting more than those before it; the sum normalised to -1..1 as VADER does. Its
evidence is the phrases that moved the score most. Text that does not read as English (the
lexicon's language) is left unscored (``value`` None, ``language`` ``"other"``), not
guessed. Another analyser replaces it through ``KITH_SENTIMENT_ANALYSER`` (a dotted path
to a class with ``name`` and ``score(text)``).
"""

from __future__ import annotations

import importlib
import math
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Protocol

from vaderSentiment.vaderSentiment import BOOSTER_DICT, N_SCALAR, NEGATE

from kith.core.errors import ValidationError

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


# common English words: a text of some length with almost none of them is not English
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ENGLISH = _words(
    "the a an and or but to of in on at for with from by is are was were be been am i you we "
    "they he she it this that these those our your my their not no have has had do does did "
    "will would can could should please thanks thank hi hello dear regards as if so just all "
    "any about up out me us them what when where who how there here than then very also get "
    "got"
)
# common words of the languages a CRM meets most besides English: a text that has more of
# them than of English's is not English ("die" is a German article, not a verb)
_OTHER = _words(
    "der die das und ist nicht mit für ein eine den dem des sie wir ich auf bei von zu le la "
    "les et est pour vous nous une des du dans avec sur pas que qui el los las y para con por "
    "del una es muy gracias het een van zijn niet il di che per non sono della gli uma não "
    "obrigado"
)
_NEGATE = frozenset(w.replace("'", "") for w in NEGATE) | frozenset(NEGATE)
MIN_WORDS_FOR_LANGUAGE = 6


@dataclass(frozen=True)
class Scored:
    value: float | None  # -1..1, None when not scored
    evidence: list[str] = field(default_factory=list)  # the phrases that drove it
    language: str = "en"


class Analyser(Protocol):
    name: str

    def score(self, text: str) -> Scored: ...


@cache
def _lexicon() -> dict[str, float]:
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and _WORD.fullmatch(parts[0]):
            out[parts[0]] = float(parts[1])
    return out


def looks_english(words: list[str], text: str) -> bool:
    """Whether ``text`` (its lower-case ASCII words ``words``) reads as English."""
    letters = _LETTER.findall(text[:2000])
    if letters:
        foreign = sum(1 for c in letters if not c.isascii())
        if foreign / len(letters) > 0.2:
            return False
    if len(words) < MIN_WORDS_FOR_LANGUAGE:
        return True
    common = sum(1 for w in words if w in _ENGLISH)
    other = sum(1 for w in words if w in _OTHER)
    return common / len(words) >= 0.08 and common > other


class LexiconAnalyser:
    """The VADER lexicon with negation, boosters and "but" (see the module)."""

    name = "vader-lexicon"

    def __init__(self) -> None:
        self.lexicon = _lexicon()

    def score(self, text: str) -> Scored:
        raw = text or ""
        words = _WORD.findall(raw.lower())
        if not looks_english(words, raw):
            return Scored(None, [], "other")
        if not words:
            return Scored(None, [], "")
        lex = self.lexicon
        hits: list[tuple[float, str, int]] = []
        but_at = -1
        for i, w in enumerate(words):
            if w == "but":
                but_at = i
            v = lex.get(w)
            if v is None or w in BOOSTER_DICT:
                continue
            start = i
            for back in (1, 2, 3):
                j = i - back
                if j < 0:
                    break
                prev = words[j]
                boost = BOOSTER_DICT.get(prev)
                if boost is not None:
                    scale = boost * (1.0, 0.95, 0.9)[back - 1]
                    v += scale if v > 0 else -scale
                    start = min(start, j)
                elif prev in _NEGATE or prev.replace("'", "") in _NEGATE:
                    v *= N_SCALAR
                    start = min(start, j)
                    break
            hits.append((v, " ".join(words[start : i + 1]), i))
        if not hits:
            return Scored(0.0, [], "en")
        if but_at >= 0:
            hits = [(v * (0.5 if i < but_at else 1.5), p, i) for v, p, i in hits]
        total = sum(h[0] for h in hits)
        value = total / math.sqrt(total * total + 15)
        ranked = sorted(hits, key=lambda h: (-abs(h[0]), h[2]))
        sign = 1 if value >= 0 else -1
        evidence = [h[1] for h in ranked if h[0] * sign > 0][:3] or [h[1] for h in ranked[:3]]
        return Scored(round(max(-1.0, min(1.0, value)), 4), evidence, "en")


@cache
def analyser() -> Analyser:
    """The configured analyser (``KITH_SENTIMENT_ANALYSER``), the lexicon by default."""
    path = os.environ.get("KITH_SENTIMENT_ANALYSER", "").strip()
    if not path:
        return LexiconAnalyser()
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise ValidationError(
            f"KITH_SENTIMENT_ANALYSER: {path!r} names no class", field="KITH_SENTIMENT_ANALYSER"
        ) from None
    made: Analyser = cls()
    return made
