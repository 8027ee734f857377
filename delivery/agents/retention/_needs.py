"""What a client asked for, read from stored facts: needs stated in their requirements, what the signed
scope covers, and which of the agency's offers a need points to. upsell_detection's heuristic and
its citation check both work from these."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

# Keys under which a proposal's requirements state what the client wants (transcript_processing and
# hand-written drafts name them differently), and keys that say it was left out of the scope.
# A goal is what the signed project is for, and "scope" lists what was bought: neither is an open need.
NEED_KEYS = re.compile(r"need|pain|problem|challenge|want|wish|request", re.I)
OUT_OF_SCOPE = re.compile(r"out.?of.?scope|later|phase.?2|future|nice.?to.?have|excluded|not.?included|deferred", re.I)
TEXT_KEYS = frozenset({"text", "need", "description", "summary", "title", "pain", "goal"})
STOPWORDS = frozenset(
    {
        "about", "after", "again", "also", "because", "been", "before", "being", "between", "both", "could",
        "does", "doing", "each", "from", "have", "having", "into", "just", "more", "most", "much", "only",
        "other", "over", "same", "should", "some", "such", "than", "that", "their", "them", "then", "there",
        "these", "they", "this", "those", "through", "under", "very", "want", "were", "what", "when", "where",
        "which", "while", "will", "with", "would", "your", "ours", "every", "week", "weeks", "really",
        "thing", "things", "team",
    }
)  # fmt: skip
# The agency's offers a need points to (label, words that name the need). Plain words: the client's
# own way of saying it, as on a discovery call.
OFFERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Automated client reporting", re.compile(r"\breport|spreadsheet|dashboard", re.I)),
    ("Client onboarding automation", re.compile(r"\bonboard|intake|back and forth", re.I)),
    ("Lead follow-up automation", re.compile(r"\bfollow.?ups?\b|chasing leads|\bleads?\b|cracks", re.I)),
    ("Campaign attribution dashboard", re.compile(r"\bcampaign|attribution|which .* bring in", re.I)),
    ("AI support assistant", re.compile(r"\bsupport\b|tickets?|chat ?bot|customer (questions|service)", re.I)),
    ("Scheduling automation", re.compile(r"\bschedul|booking|calendar|appointment", re.I)),
    ("Invoicing and payments automation", re.compile(r"\binvoic|billing|payments?\b", re.I)),
)


class Need(BaseModel):
    ref: str  # the citation: "proposal:12:requirements.needs[1]"
    text: str
    out_of_scope: bool = False


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOPWORDS}


def _leaves(value: Any, path: str, key: str) -> Iterator[tuple[str, str, str]]:
    """(path, the key that names the text, text) for every string in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            name = key or str(k) if str(k) in TEXT_KEYS else str(k)  # {"needs": [{"text": ...}]}: a need
            yield from _leaves(v, f"{path}.{k}" if path else str(k), name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", key)
    elif isinstance(value, str) and value.strip():
        yield path, key, value.strip()


def stated_needs(proposal_id: int, requirements: Any) -> list[Need]:
    """The needs a proposal's requirements state, each with the path it was read from."""
    found: list[Need] = []
    for path, key, text in _leaves(requirements if isinstance(requirements, dict) else {}, "", ""):
        if not (NEED_KEYS.search(key) or OUT_OF_SCOPE.search(path)) or len(text) < 8:
            continue
        ref = f"proposal:{proposal_id}:requirements.{path}"
        found.append(Need(ref=ref, text=text, out_of_scope=bool(OUT_OF_SCOPE.search(path))))
    return found


def covered(need: str, scope: list[str]) -> bool:
    """Whether a signed line item already covers the need (two words in common, or the same offer)."""
    need_words = words(need)
    need_offer = offer_for(need)
    return any(len(need_words & words(line)) >= 2 or (need_offer and need_offer == offer_for(line)) for line in scope)


def offer_for(text: str) -> str:
    """The offer that answers a need, "" when none of ours does."""
    return next((label for label, pattern in OFFERS if pattern.search(text)), "")
