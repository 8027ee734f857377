"""What is said on a discovery call: a seeded transcript the agency's agents can mine.

The prospect's needs, budget, timeline and decision makers follow from the company (its size,
tools, signals and hidden fit), so transcript_processing has something true to extract.

The "calls" reaction (SANDBOX.md: calls react to fit and to whether prep happened). The sandbox
plays both sides of the call: the prospect, and our host. Our host reads our own system before
the call, as a real host would: ``host_prepared`` looks for the briefing meeting_prep stored for
the meeting booked under this booking (a ``MeetingNote`` of kind prep). That is not the market
peeking at the agency: the host is ours. A prepared host knows the company, asks about budget,
timeline and who decides, answers the objection and closes on a concrete next step; an
unprepared one asks generic questions and more often ends on "let's see, send me something".

``call_course`` is the reaction itself (what the call brings out); ``discovery_call`` renders it
as Fathom-like transcript lines, in varied wording, so the agents that read transcripts are built
for the class of input and not for one script.

The constants are a judgement, not cited figures: no public study we know of measures how much a
briefing moves a discovery call. They are set so that prep roughly doubles the share of calls that
end with needs, a budget and an agreed next step (about 25% -> 55% for a well-fitting prospect),
which is the order of effect sales teams report for call planning. Every chance is drawn from the
same seeded numbers with and without prep (common random numbers), so on one seed prep can only
turn a call better, never worse, and two policies compare call by call.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from integrations.sandbox.rng import rng_for
from integrations.sandbox.world import FIRST_NAMES, LAST_NAMES, Person

PAINS = (
    "our team spends hours every week chasing leads by hand",
    "follow-ups fall through the cracks between sales and operations",
    "we have no idea which of our campaigns actually bring in customers",
    "onboarding a new client takes us almost three weeks of back and forth",
    "reporting for our clients is a manual spreadsheet job every Friday",
    "customers wait a day or more for answers to simple questions",
)
VAGUE_NEEDS = (
    "Honestly we're still figuring that out. Everyone is talking about AI and we feel we should be doing something.",
    "Hard to say exactly. Things could just run smoother, I guess.",
    "Not sure yet, to be honest. We wanted to hear what others in our space are doing.",
)
# (what the prospect worries about, how a prepared host answers it)
OBJECTIONS = (
    (
        "my worry is that our team will not adopt yet another tool",
        "That makes sense. We build it into the tools you already use and train the team, "
        "so nobody learns a new system.",
    ),
    (
        "we tried an agency before and it did not deliver",
        "Fair. That's why we start with a small pilot and measure it, so you see results before committing more.",
    ),
    (
        "I need to be sure this pays for itself within a few months",
        "Good question. We agree the numbers up front and start with a pilot, so the payback is measured early.",
    ),
)
WEAK_ANSWERS = ("Okay, noted.", "Right. Let's come back to that.", "I hear you.")
ROLES = ("COO", "CFO", "head of sales", "managing partner", "operations director")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday")

# Chances (at fit 0, extra at fit 1) that the call brings each thing out, unprepared vs prepared.
NEEDS = {False: (0.65, 0.25), True: (0.85, 0.15)}
BUDGET = {False: (0.30, 0.30), True: (0.55, 0.35)}
TIMELINE = {False: (0.45, 0.30), True: (0.65, 0.30)}
DECIDERS = {False: (0.45, 0.25), True: (0.70, 0.20)}
NEXT_STEP = {False: (0.30, 0.35), True: (0.50, 0.40)}
# An objection comes up more often with a weaker fit; a prepared host answers it far more often,
# and one left unanswered makes a committed next step much less likely.
OBJECTION_RAISED = (0.55, -0.25)
OBJECTION_HANDLED = {False: 0.45, True: 0.85}
UNHANDLED_NEXT_STEP_FACTOR = 0.55
# An unprepared host does not always think of asking about money, timing or who decides.
UNPREPARED_ASKS = 0.5


def _chance(table: tuple[float, float], fit: float) -> float:
    base, extra = table
    return min(max(base + extra * fit, 0.0), 1.0)


@dataclass(frozen=True)
class CallCourse:
    """What one discovery call brought out (the hidden truth behind its transcript)."""

    prepared: bool
    needs_stated: bool
    budget_stated: bool
    timeline_stated: bool
    deciders_named: bool
    objection: int | None  # index into OBJECTIONS
    objection_handled: bool
    next_step_agreed: bool
    asked: frozenset[str]  # budget, timeline, deciders: which the host asked about

    @property
    def qualifies(self) -> bool:
        """What an agency would take to a proposal: needs, a budget and an agreed next step."""
        return self.needs_stated and self.budget_stated and self.next_step_agreed


def call_course(*, booking_id: str, fit: float, prepared: bool) -> CallCourse:
    """The call's course, drawn from numbers seeded by the booking: the same with and without prep,
    so that prep only moves the thresholds they are compared with."""
    rng = rng_for("call-course", booking_id)
    draws = {name: rng.random() for name in ("needs", "budget", "timeline", "deciders", "raised", "handled", "next")}
    asks = {name: rng.random() for name in ("budget", "timeline", "deciders")}
    objection_pick = rng.randrange(len(OBJECTIONS))
    raised = draws["raised"] < _chance(OBJECTION_RAISED, fit)
    handled = raised and draws["handled"] < OBJECTION_HANDLED[prepared]
    next_chance = _chance(NEXT_STEP[prepared], fit)
    if raised and not handled:
        next_chance *= UNHANDLED_NEXT_STEP_FACTOR
    stated = {
        "budget": draws["budget"] < _chance(BUDGET[prepared], fit),
        "timeline": draws["timeline"] < _chance(TIMELINE[prepared], fit),
        "deciders": draws["deciders"] < _chance(DECIDERS[prepared], fit),
    }
    # What was stated was asked for; what was not, a prepared host still asked about.
    asked = frozenset(n for n, said in stated.items() if said or prepared or asks[n] < UNPREPARED_ASKS)
    return CallCourse(
        prepared=prepared,
        needs_stated=draws["needs"] < _chance(NEEDS[prepared], fit),
        budget_stated=stated["budget"],
        timeline_stated=stated["timeline"],
        deciders_named=stated["deciders"],
        objection=objection_pick if raised else None,
        objection_handled=handled,
        next_step_agreed=draws["next"] < next_chance,
        asked=asked,
    )


def host_prepared(booking_id: str) -> bool:
    """Whether our host has a briefing for this booking's meeting when the call starts (see the
    module docstring: the host is ours and reads our own system)."""
    from sales.models import MeetingNote

    return MeetingNote.objects.filter(meeting__booking_uid=booking_id, kind=MeetingNote.Kind.PREP).exists()


def _thousands(amount: float) -> int:
    return max(1000, round(amount / 1000) * 1000)


def _budget_line(person: Person, rng: random.Random) -> str:
    # What they say brackets their hidden budget: a buyer names a range whose top is about what
    # they would really pay (the proposal's price against that budget decides the signature).
    budget = person.company.budget
    low, high = _thousands(budget * rng.uniform(0.5, 0.7)), _thousands(budget)
    if low >= high:
        return rng.choice((f"About ${high:,}.", f"We were thinking about ${high:,} for a first project."))
    return rng.choice(
        (
            f"We were thinking somewhere between ${low:,} and ${high:,}.",
            f"Our budget is roughly ${low // 1000}k to ${high // 1000}k for a first phase.",
            f"We've set aside up to ${high:,} for this, ideally closer to ${low:,}.",
        )
    )


def _timeline_line(rng: random.Random) -> str:
    weeks = rng.choice((4, 6, 8, 12))
    return rng.choice(
        (
            f"Ideally something live within {weeks} weeks.",
            f"We'd like it running in the next {('two', 'three')[weeks > 8]} months.",
            f"As soon as possible, realistically in {weeks} weeks.",
        )
    )


def _script(course: CallCourse, *, booking_id: str, person: Person, host: str) -> list[tuple[str, str]]:
    company, me = person.company, person.full_name
    lines: list[tuple[str, str]] = []

    # One generator per part of the call: what one part says does not shift another's wording or
    # numbers, so the same booking names the same budget, people and pains with or without prep.
    def rng(part: str) -> random.Random:
        return rng_for("transcript", booking_id, part)

    def say(who: str, part: str, *options: str) -> None:
        lines.append((who, rng(part).choice(options)))

    pains = rng("pains").sample(PAINS, k=2)
    people = rng("people")
    colleague, role = f"{people.choice(FIRST_NAMES)} {people.choice(LAST_NAMES)}", people.choice(ROLES)
    tools = ", ".join(company.tech) or "spreadsheets"
    # "is hiring" -> "we are hiring", "doubled its team" -> "we doubled our team"
    done = re.sub(r"^is ", "are ", company.signals[0]).replace(" its ", " our ") if company.signals else ""
    signal = f" We {done}, so this matters now." if done else ""
    hello = f"Thanks for making the time, {person.first_name}."
    if course.prepared and done:
        say(host, "hello", f"{hello} I saw that you {done.replace(' our ', ' your ')}. Where do things stand?")
    elif course.prepared:
        say(host, "hello", f"{hello} I had a look at {company.name} before the call. Where do things stand?")
    else:
        say(
            host, "hello", f"Thanks for joining, {person.first_name}. So, tell me a bit about what {company.name} does?"
        )
    city = company.city or "town"
    say(me, "intro", f"Sure. We're in {company.industry}, about {company.employees} people, based in {city}.{signal}",
        f"Of course. We work in {company.industry}, with around {company.employees} staff.{signal}")  # fmt: skip
    if course.prepared:
        say(host, "ask-needs", "What is the biggest challenge you want to solve?",
            "Where does your team lose the most time today?")  # fmt: skip
    else:
        say(host, "ask-needs", "So what are you looking for?", "What can we help you with?")
    if course.needs_stated:
        say(me, "needs", f"Two things really: {pains[0]}, and {pains[1]}.",
            f"The big one is that {pains[0]}. Also, {pains[1]}.",
            f"Honestly, {pains[0]}. And on top of that, {pains[1]}.")  # fmt: skip
        if course.prepared:
            say(host, "ask-hours", "How much time does that cost the team each week?")
            say(me, "hours", *(f"I'd say {n} hours a week across the team, at least." for n in (5, 8, 10, 15)))
    else:
        say(me, "needs", *VAGUE_NEEDS)
    say(host, "ask-tools", "What are you using today?")
    say(me, "tools", f"Mostly {tools}, but nothing is connected.", f"We use {tools}. They don't talk to each other.")
    if "budget" in course.asked:
        say(host, "ask-budget", "Do you have a budget range in mind?", "What kind of investment were you expecting?")
        if course.budget_stated:
            lines.append((me, _budget_line(person, rng("budget"))))
        else:
            say(me, "budget", "We haven't really set a budget yet. Depends what you come back with.",
                "Hard to say before we see a number.")  # fmt: skip
    if "timeline" in course.asked:
        say(host, "ask-timeline", "And a timeline?", "When would you want this live?")
        if course.timeline_stated:
            lines.append((me, _timeline_line(rng("timeline"))))
        else:
            say(me, "timeline", "No fixed date. Whenever it's ready, really.")
    if "deciders" in course.asked:
        say(host, "ask-deciders", "Who else is involved in the decision?", "Who signs off on something like this?")
        if course.deciders_named:
            say(me, "deciders", f"Me and {colleague}, our {role}.",
                f"{colleague}, our {role}, signs off on anything like this.",
                f"I decide, but I'll run it by {colleague}, our {role}.")  # fmt: skip
        else:
            say(me, "deciders", "We'll see who needs to be involved.")
    if course.objection is not None:
        worry, answer = OBJECTIONS[course.objection]
        say(me, "objection", f"To be transparent: {worry}.", f"One concern: {worry}.")
        if course.objection_handled:
            lines.append((host, answer))
        else:
            say(host, "weak-answer", *WEAK_ANSWERS)
    day = rng("day").choice(WEEKDAYS)
    if course.next_step_agreed:
        lines += rng("next").choice(
            (
                [(host, "Next step: I'll send you a proposal with scope and pricing by Friday."),
                 (me, "Sounds good, looking forward to it.")],
                [(host, f"How about this: I'll put together a proposal by the end of the week and we book "
                        f"30 minutes next {day} to go through it?"),
                 (me, f"Yes, {day} works.")],
                [(host, f"I'll send over a proposal by Thursday. Could we walk through it together next {day}?"),
                 (me, f"Perfect, let's do that. I'll bring {colleague}.")],
            )
        )  # fmt: skip
    else:
        say(
            host,
            "next",
            "What would be a good next step for you?",
            "I could send you some information about what we do.",
        )
        say(me, "no-next", "Let's see. Send me something and I'll take a look.",
            "I need to think about it. I'll get back to you.",
            "Maybe send me an overview first, and we'll see from there.")  # fmt: skip
    return lines


def discovery_call(
    *, booking_id: str, person: Person, host_name: str, minutes: int, prepared: bool | None = None
) -> list[dict[str, str]]:
    """Transcript lines as Fathom sends them: speaker, text, timestamp (hh:mm:ss).

    ``prepared`` None: whether our host has a briefing for the meeting now (``host_prepared``);
    call this when the call starts, so a briefing written before then counts.
    """
    if prepared is None:
        prepared = host_prepared(booking_id)
    course = call_course(booking_id=booking_id, fit=person.company.fit, prepared=prepared)
    script = _script(course, booking_id=booking_id, person=person, host=host_name)
    rng = rng_for("transcript-timing", booking_id)
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
