"""Reading an exit survey answer without a model: the numbered answers, the score, the language.

The exit survey asks numbered questions and asks for numbered answers; people mostly oblige, and
otherwise write a sentence with the number in it. Anything that cannot be read is said so, never
guessed: the raw text is always kept beside what was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Small stop-word lists: enough to tell a reply's language apart from English (the sandbox's
# clients write English or German; the others are what a European agency meets).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(re.findall(r"\S+", "the and you we was were not with for our it is that to of this have but very")),
    "de": frozenset(re.findall(r"\S+", "und der die das nicht wir ich ist war mit für uns sie zu haben sehr aber ein")),
    "fr": frozenset(re.findall(r"\S+", "le la les et nous pas est avec pour vous une des mais très était")),
    "es": frozenset(re.findall(r"\S+", "el la los las y no es con para nosotros muy pero una fue")),
    "nl": frozenset(re.findall(r"\S+", "de het en niet wij met voor een zijn maar heel was")),
}
LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "nl": "Dutch"}
_WORD = re.compile(r"[a-zäöüßéèêàâçñ]+")
_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.):]\s*(.*\S)\s*$", re.M)
_OUT_OF = re.compile(r"(?<![\d-])(\d{1,3})\s*(?:/|out of|von|sur|de)\s*10\b", re.I)
_NUMBER = re.compile(r"(?<![\w.-])(-?\d{1,3})(?![\w.])")
RETURN_WORDS = {
    "yes": re.compile(r"\b(yes|sure|definitely|happy to|ja|gerne|oui|s[ií])\b", re.I),
    "no": re.compile(r"\b(no|not really|probably not|nein|eher nicht|non)\b", re.I),
    "maybe": re.compile(r"\b(maybe|perhaps|depends|possibly|vielleicht|eventuell|peut-être|quizás)\b", re.I),
}
# What people leave over, as an agency would group it (words in English and German).
THEMES: dict[str, re.Pattern[str]] = {
    "budget": re.compile(r"budget|cost|expensive|price|money|kosten|teuer|preis", re.I),
    "delivery": re.compile(r"deadline|late|slip|slow|delay|verspät|termin", re.I),
    "communication": re.compile(r"update|heard|hear from|respon|communicat|chase|kommunikation|meld", re.I),
    "value": re.compile(r"value|result|roi|worth|nutzen|ergebnis", re.I),
    "in-house": re.compile(r"in-house|in house|internal|our own team|intern", re.I),
    "priorities": re.compile(r"priorit|reorgan|strategy|focus|prioritä", re.I),
    "done": re.compile(r"finished|did what we needed|complete|erledigt|abgeschlossen", re.I),
}


def detect_language(text: str) -> str:
    """The reply's language code; English unless another's common words clearly outnumber it."""
    words = _WORD.findall(text.lower())
    counts = {code: sum(1 for w in words if w in stop) for code, stop in STOPWORDS.items()}
    best = max(counts, key=lambda code: counts[code])
    return best if best != "en" and counts[best] >= 3 and counts[best] > counts["en"] else "en"


@dataclass
class ReadAnswer:
    score: int | None = None  # as written, possibly outside the scale
    reasons: list[str] = field(default_factory=list)
    better: str = ""
    would_return: str = "unknown"
    themes: list[str] = field(default_factory=list)
    language: str = "en"


def read_answer(text: str) -> ReadAnswer:
    """The answers to: 1 score 0-10, 2 main reason, 3 what we could do better, 4 would you return."""
    found = ReadAnswer(language=detect_language(text))
    numbered = {int(n): answer.strip() for n, answer in _NUMBERED.findall(text)}
    first = numbered.get(1, "")
    if first:
        match = _OUT_OF.search(first) or _NUMBER.search(first)
    else:
        match = _OUT_OF.search(text) or (None if numbered else _NUMBER.search(text))
    if match is not None:
        found.score = int(match.group(1))
    if numbered:
        found.reasons = [numbered[2]] if numbered.get(2) else []
        found.better = numbered.get(3, "")
        tail = numbered.get(4, "")
    else:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
        found.reasons = [s for s in sentences if not _OUT_OF.search(s)][:2]
        tail = text
    found.would_return = next((word for word, pattern in RETURN_WORDS.items() if pattern.search(tail)), "unknown")
    said = " ".join([*found.reasons, found.better])
    found.themes = [theme for theme, pattern in THEMES.items() if pattern.search(said)]
    return found


def nps_group(score: int | None) -> str:
    """Net Promoter groups: 9-10 promoters, 7-8 passives, 0-6 detractors."""
    if score is None:
        return "unknown"
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
