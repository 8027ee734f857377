"""Sourced findings: what research learned, each claim with where it came from.

ARCHITECTURE.md, Grounding: text that reaches a person may state a fact about them or their company
only when it cites a stored fact with a source. Research agents store ``Finding`` items (claim, source
url, provider, fetched_at, kind) under the ``"findings"`` key of ResearchReport.findings,
Company.enrichment and Lead.research; ``crm.selectors.sourced_findings`` reads them back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Kind = Literal[
    "offering", "size", "signal", "tech", "news", "location",  # companies
    "role", "tenure", "post",  # people
    "demand", "budget", "competition", "reachability",  # niches
    "positioning", "pricing",  # competitors
    "other",
]  # fmt: skip
KEY = "findings"
_WORDS = re.compile(r"[a-z0-9$%]+")


class Finding(BaseModel):
    """One claim and its source. Without a source URL it is not a finding."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    claim: str = Field(min_length=3, max_length=500)
    source_url: str = Field(min_length=8, max_length=1000)
    provider: str = Field(min_length=1, max_length=64)
    fetched_at: dt.datetime

    @field_validator("source_url")
    @classmethod
    def _is_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("a source is an http(s) URL")
        return value

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.claim.strip().lower()


def dump(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in findings]


def load(raw: object) -> list[Finding]:
    """The valid findings in a stored JSON value (a dict with ``findings``, or a list); others dropped."""
    items = raw.get(KEY, []) if isinstance(raw, Mapping) else raw
    out: list[Finding] = []
    for item in items if isinstance(items, list) else []:
        try:
            out.append(Finding.model_validate(item))
        except ValidationError:
            continue  # legacy or hand-written entries without a source are not findings
    return out


def merge(old: Iterable[Finding], new: Iterable[Finding]) -> list[Finding]:
    """New findings replace old ones of the same claim (a fresher fetch); order: old first, then new."""
    by_key = {f.key: f for f in old}
    for f in new:
        by_key[f.key] = by_key[f.key] if f.key in by_key and _same(by_key[f.key], f) else f
    return list(by_key.values())


def _same(a: Finding, b: Finding) -> bool:
    return a.source_url == b.source_url and a.provider == b.provider


def supported(claim: str, text: str, *, share: float = 0.7) -> bool:
    """Whether the source text backs a claim: most of its words appear in it (a model's paraphrase
    passes, an invented fact does not)."""
    words = set(_WORDS.findall(claim.lower()))
    if not words:
        return False
    seen = set(_WORDS.findall(text.lower()))
    return len(words & seen) / len(words) >= share
