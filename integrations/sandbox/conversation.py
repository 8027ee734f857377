"""What is said on a discovery call: a seeded transcript the agency's agents can mine.

The prospect's needs, budget, timeline and decision makers follow from the company (its size,
tools, signals and hidden fit), so transcript_processing has something true to extract.
"""

from __future__ import annotations

from integrations.sandbox.rng import rng_for
from integrations.sandbox.world import FIRST_NAMES, LAST_NAMES, Person

PAINS = (
    "our team spends hours every week chasing leads by hand",
    "follow-ups fall through the cracks between sales and operations",
    "we have no idea which of our campaigns actually bring in customers",
    "onboarding a new client takes us almost three weeks of back and forth",
    "reporting for our clients is a manual spreadsheet job every Friday",
)
OBJECTIONS = (
    "my worry is that our team will not adopt yet another tool",
    "we tried an agency before and it did not deliver",
    "I need to be sure this pays for itself within a few months",
)


def _thousands(amount: float) -> int:
    return max(1000, round(amount / 1000) * 1000)


def discovery_call(*, booking_id: str, person: Person, host_name: str, minutes: int) -> list[dict[str, str]]:
    """Transcript lines as Fathom sends them: speaker, text, timestamp (hh:mm:ss)."""
    rng = rng_for("transcript", booking_id)
    company = person.company
    pains = rng.sample(PAINS, k=2)
    # What they say brackets their hidden budget: a buyer names a range whose top is about what
    # they would really pay (the proposal's price against that budget decides the signature).
    low, high = _thousands(company.budget * rng.uniform(0.5, 0.7)), _thousands(company.budget)
    budget = f"somewhere between ${low:,} and ${high:,}" if low < high else f"about ${high:,}"
    weeks = rng.choice((4, 6, 8, 12))
    colleague = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    tools = ", ".join(company.tech) or "spreadsheets"
    signal = f" We {company.signals[0].removeprefix('is ')}, so this matters now." if company.signals else ""
    script = [
        (host_name, f"Thanks for making the time, {person.first_name}. Could you tell me a bit about {company.name}?"),
        (
            person.full_name,
            f"Sure. We're in {company.industry}, about {company.employees} people, "
            f"based in {company.city or 'town'}.{signal}",
        ),
        (host_name, "What is the biggest challenge you want to solve?"),
        (person.full_name, f"Two things really: {pains[0]}, and {pains[1]}."),
        (host_name, "What are you using today?"),
        (person.full_name, f"Mostly {tools}, but nothing is connected."),
        (host_name, "Do you have a budget range in mind?"),
        (person.full_name, f"We were thinking {budget}."),
        (host_name, "And a timeline?"),
        (person.full_name, f"Ideally something live within {weeks} weeks."),
        (host_name, "Who else is involved in the decision?"),
        (person.full_name, f"Me and {colleague}, our {rng.choice(('COO', 'CFO', 'head of sales'))}."),
        (person.full_name, f"To be transparent, {rng.choice(OBJECTIONS)}."),
        (host_name, "That makes sense. We start with a small pilot and measure it, so you see results first."),
        (host_name, "Next step: I'll send you a proposal with scope and pricing by the end of the week."),
        (person.full_name, "Sounds good, looking forward to it."),
    ]
    step = max(minutes * 60 // len(script), 1)
    lines = []
    for position, (speaker, text) in enumerate(script):
        seconds = position * step + rng.randint(0, max(step // 3, 1))
        lines.append(
            {
                "speaker": speaker,
                "email": person.email if speaker == person.full_name else "",
                "text": text,
                "timestamp": f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
            }
        )
    return lines
