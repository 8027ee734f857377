"""The labelled replies (crm/data/replies/labelled.jsonl) and their fixed tune/held-out split.

The split is a hash of the text, fixed in the data's README before the classifier existed, so the
held-out part can only ever be measured, never tuned on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from crm.services.replies.classify import classify
from crm.services.replies.parse import visible_text

LABELLED = Path(settings.BASE_DIR) / "crm" / "data" / "replies" / "labelled.jsonl"
# The day the labelled replies are read as received (relative dates in them count from it).
REFERENCE_DATE = dt.date(2025, 3, 3)


def load_labelled(path: Path = LABELLED) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def is_held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 10 < 3


def split(rows: Iterable[dict[str, object]]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(tune, held_out)."""
    tune: list[dict[str, object]] = []
    held_out: list[dict[str, object]] = []
    for row in rows:
        (held_out if is_held_out(str(row["text"])) else tune).append(row)
    return tune, held_out


@dataclass
class Evaluation:
    total: int = 0
    correct: int = 0
    unsubscribes: int = 0
    unsubscribes_found: int = 0
    dates: int = 0
    dates_right: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    correct_by_source: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (expected, got, text)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def unsubscribe_recall(self) -> float:
        return self.unsubscribes_found / self.unsubscribes if self.unsubscribes else 1.0

    def summary(self) -> str:
        per_source = ", ".join(
            f"{source} {self.correct_by_source[source]}/{count}" for source, count in sorted(self.by_source.items())
        )
        return (
            f"accuracy {self.correct}/{self.total} = {self.accuracy:.1%} ({per_source}); "
            f"unsubscribe recall {self.unsubscribes_found}/{self.unsubscribes}; "
            f"return dates {self.dates_right}/{self.dates}"
        )


def evaluate(rows: Iterable[dict[str, object]]) -> Evaluation:
    result = Evaluation()
    for row in rows:
        text, expected, source = str(row["text"]), str(row["intent"]), str(row["source"])
        got = classify(visible_text(text), received=REFERENCE_DATE)
        result.total += 1
        result.by_source[source] += 1
        if got.intent == expected:
            result.correct += 1
            result.correct_by_source[source] += 1
        else:
            result.errors.append((expected, got.intent, visible_text(text)[:120]))
        if expected == "unsubscribe":
            result.unsubscribes += 1
            result.unsubscribes_found += got.intent == "unsubscribe"
        if row.get("return_date"):
            result.dates += 1
            result.dates_right += str(got.return_date) == row["return_date"]
    return result
