"""Writes crm/data/replies/labelled.jsonl: the labelled replies the offline intent classifier is measured on.

Two sources, kept apart in the `source` field so that accuracy can be read per source:
- "sandbox": what the sandbox market says (integrations/sandbox/behaviour.py `reply_text`, called for
  real with stand-in people), so the classifier is known to understand the world the demo runs in;
- "handwritten": replies written by hand the way real prospects write: quoted history with our own
  footer (which says "unsubscribe"), signatures, phone sign-offs, typos, mixed intents, German,
  French and Spanish. These live in handwritten.py next to this script's output.

Relative dates are labelled as seen from a reply received on Monday 3 March 2025 (REFERENCE_DATE).
Run: python scripts/build_reply_sample.py  (deterministic; rewrites the file).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "crm" / "data" / "replies"))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings")
django.setup()  # the sandbox package imports models

from handwritten import HANDWRITTEN  # noqa: E402

from integrations.sandbox.behaviour import INTENTS, reply_text  # noqa: E402
from integrations.sandbox.world import FIRST_NAMES, LAST_NAMES  # noqa: E402

REFERENCE_DATE = dt.date(2025, 3, 3)
COMPANIES = (
    ("Brightline Dental", "dental clinics"), ("Northwind Logistics", "logistics"), ("Kestrel Labs", "software"),
    ("Harbor & Finch", "law firms"), ("Oakridge Realty", "real estate"), ("Pinecrest Accounting", "accounting"),
    ("Bluefin Studio", "marketing agencies"), ("Summit Roofing Co", "construction"), ("Velo Fitness Hub", "gyms"),
    ("Greenleaf Works", "landscaping"),
)  # fmt: skip
TITLES = ("COO", "Head of Growth", "Operations Manager", "Marketing Director", "VP of Operations")


def _person(rng: random.Random) -> SimpleNamespace:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    name, industry = rng.choice(COMPANIES)
    domain = re.sub(r"[^a-z]", "", name.lower())[:14] + ".com"
    return SimpleNamespace(
        first_name=first,
        full_name=f"{first} {last}",
        title=rng.choice(TITLES),
        email=f"{first.lower()}.{last.lower()}@{domain}",
        company=SimpleNamespace(name=name, industry=industry, domain=domain),
    )


def _next_day_of_month(day: int) -> dt.date:
    month = REFERENCE_DATE.replace(day=1)
    while True:
        try:
            candidate = month.replace(day=day)
        except ValueError:
            candidate = None
        if candidate and candidate > REFERENCE_DATE:
            return candidate
        month = (month + dt.timedelta(days=32)).replace(day=1)


def sandbox_rows(per_intent: int = 20) -> list[dict[str, object]]:
    rows = []
    for intent in INTENTS:
        rng = random.Random(f"labelled-{intent}")  # noqa: S311 - a sample, not a secret
        for _ in range(per_intent):
            person, colleague = _person(rng), _person(rng)
            text = reply_text(person=person, intent=intent, referral=colleague, rng=rng)  # type: ignore[arg-type]
            row: dict[str, object] = {"text": text, "intent": intent, "source": "sandbox"}
            day = re.search(r"until (\d+)", text)
            if intent == "out_of_office" and day:
                row["return_date"] = _next_day_of_month(int(day.group(1))).isoformat()
            if intent == "referral":
                row["referral"] = {"name": colleague.full_name, "email": colleague.email}
            rows.append(row)
    return rows


def main() -> None:
    rows = sandbox_rows() + [{**row, "source": "handwritten"} for row in HANDWRITTEN]
    seen: set[str] = set()
    out = ROOT / "crm" / "data" / "replies" / "labelled.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            if row["text"] in seen:  # identical texts would sit in the same split anyway; keep one
                continue
            seen.add(str(row["text"]))
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(seen)} rows -> {out.relative_to(ROOT)}")  # noqa: T201


if __name__ == "__main__":
    main()
