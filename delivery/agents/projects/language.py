"""Which language a client wrote in, well enough to know when we cannot read it ourselves.

Function words give a language away in a sentence or two (the method of Cavnar and Trenkle's and
most short-text identifiers: the commonest words of each language). No library needed for the six
languages our clients write in besides English; anything else scores as unknown and is read.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """the and is are we you to of in that it for our could can please would this with have be not also
        on they them there what will just thanks"""
    ),
    "de": _words(
        """der die das und ist nicht wir sie ich ein eine zu mit auch bitte für uns unsere unserer den dem es
        könnten können sind haben dass vielen dank bei wie noch oder aber sehr schon gerne"""
    ),
    "fr": _words(
        """le la les et est nous vous je un une pour avec pas des du que qui sur merci pouvez notre nos aussi
        mais très bien dans"""
    ),
    "es": _words(
        """el la los las y es que de un una por para con no nos nuestro nuestra gracias puede podrían también
        pero muy están del"""
    ),
    "nl": _words(
        """de het een en is niet wij we jullie u ik van voor met ook graag kunnen onze dat dank zijn maar heel
        nog bij"""
    ),
    "it": _words("il lo gli le e è che di un una per con non noi anche grazie potete nostro nostra ma molto"),
    "pt": _words("o os as e é que de um uma para com não nós também obrigado podem nosso nossa mas muito"),
}
NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "nl": "Dutch",
    "it": "Italian",
    "pt": "Portuguese",
}
_MARKS = {"de": "äöüß", "fr": "çèêàùâîôœ", "es": "ñ¿¡áéíóú", "pt": "ãõç", "it": "òìè"}
MIN_HITS = 3  # fewer function words than this: too short to tell ("Thanks!"), read as it is


def detect(text: str) -> str:
    """An ISO 639-1 code ("en", "de", ...) or "" when the text is too short or unlike all of them."""
    words = [w.lower() for w in _WORD.findall(text)]
    scores: Counter[str] = Counter()
    for language, vocabulary in FUNCTION_WORDS.items():
        scores[language] = sum(1 for w in words if w in vocabulary)
    lowered = text.lower()
    for language, marks in _MARKS.items():
        scores[language] += sum(lowered.count(m) for m in marks)
    if not scores or max(scores.values()) < MIN_HITS:
        return ""
    best, hits = scores.most_common(1)[0]
    return "en" if scores["en"] >= hits else best


def name_of(code: str) -> str:
    return NAMES.get(code, code or "an unknown language")
