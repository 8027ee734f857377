"""How the market's people react: to cold emails, meetings, proposals and invoices.

Every reaction is drawn from a generator seeded by the act it answers (the email, the booking,
the document, the invoice), and weighted by the prospect's hidden fit and, for emails, by how
personal the message is. So a better agency (better targeting, real personalisation) gets more
and better replies, and the same agency on the same seed gets exactly the same ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass
from typing import Literal

from integrations.sandbox import sending
from integrations.sandbox.paying import InvoiceFate as InvoiceFate  # re-exported: how clients pay
from integrations.sandbox.paying import invoice_fate as invoice_fate
from integrations.sandbox.rng import rng_for
from integrations.sandbox.sending import personalisation as personalisation  # re-exported: the market's view
from integrations.sandbox.world import Person

Intent = Literal[
    "interested", "question", "objection", "not_now", "not_interested", "out_of_office", "referral", "unsubscribe"
]
INTENTS: tuple[Intent, ...] = (
    "interested", "question", "objection", "not_now", "not_interested", "out_of_office", "referral", "unsubscribe"
)  # fmt: skip
# Intent weights for a prospect who fits perfectly and one who does not fit at all; a real
# prospect's weights lie in between, by fit.
_WEIGHTS_FIT = (30, 20, 12, 12, 6, 8, 7, 5)
_WEIGHTS_MISS = (3, 7, 10, 12, 36, 8, 4, 20)


@dataclass(frozen=True)
class Circumstances:
    """How the email arrived (integrations.sandbox.sending): which step, the spam-folder odds, the
    local hour's factor, whether one can opt out, how many false claims it makes."""

    step: int = 1
    spam: float = 0.0
    time_factor: float = 1.0
    unsubscribe: bool = True
    false_claims: int = 0


@dataclass(frozen=True)
class EmailOutcome:
    kind: Literal["none", "bounce", "reply", "complaint", "unsubscribe_click"]
    delay: dt.timedelta = dt.timedelta(0)
    intent: Intent | None = None
    bounce_type: str = ""
    opened: bool = False
    in_spam: bool = False


def email_outcome(*, person: Person, personal: float, seen: Circumstances | None = None) -> EmailOutcome:
    """What becomes of one cold email to ``person``: drawn from a generator seeded by the person and
    the step (not by the sender's keys), so the same email at the same step meets the same fate."""
    seen = seen or Circumstances()
    rng = rng_for("email-outcome", person.email, seen.step)
    if rng.random() < sending.bounce_chance(person):
        hard = person.email_status == "invalid" or rng.random() < sending.HARD_SHARE
        return EmailOutcome("bounce", dt.timedelta(minutes=rng.randint(1, 20)), bounce_type="hard" if hard else "soft")
    if rng.random() < seen.spam:
        return EmailOutcome("none", in_spam=True)  # nobody sees it: no open, no reply, no complaint
    fit = person.company.fit
    complaint = sending.complaint_chance(
        fit=fit, personal=personal, unsubscribe=seen.unsubscribe, false_claims=seen.false_claims
    )
    if rng.random() < complaint:
        return EmailOutcome("complaint", dt.timedelta(hours=rng.uniform(0.2, 12)), opened=True)
    opened = rng.random() < sending.open_chance(in_spam=False, time_factor=seen.time_factor)
    reply = sending.reply_chance(
        fit=fit, personal=personal, false_claims=seen.false_claims, step=seen.step, time_factor=seen.time_factor
    )
    if rng.random() >= reply:
        return EmailOutcome("none", opened=opened)
    weights = [m + (f - m) * fit for f, m in zip(_WEIGHTS_FIT, _WEIGHTS_MISS, strict=True)]
    intent = rng.choices(INTENTS, weights=weights)[0]
    if intent == "out_of_office":
        return EmailOutcome("reply", dt.timedelta(minutes=rng.randint(1, 5)), intent, opened=True)
    if intent == "unsubscribe" and rng.random() < 0.5:
        # Half of those who want out click the link instead of writing back.
        return EmailOutcome("unsubscribe_click", dt.timedelta(hours=rng.uniform(0.1, 24)), intent, opened=True)
    return EmailOutcome("reply", dt.timedelta(hours=rng.uniform(0.5, 72)), intent, opened=True)


def reply_text(*, person: Person, intent: Intent, referral: Person | None, rng: random.Random) -> str:
    company = person.company.name
    texts: dict[str, tuple[str, ...]] = {
        "interested": (
            f"Hi, this sounds relevant for {company}. Could we set up a call next week?",
            "Interesting timing, we've been looking at exactly this. What does your availability look like?",
        ),
        "question": (
            "Thanks for reaching out. How much does something like this usually cost, and how long does it take?",
            f"Do you have case studies from {person.company.industry}? And how does onboarding work?",
        ),
        "objection": (
            "We already work with an agency for this and we're fairly happy with them.",
            "Honestly this feels expensive for a company our size. Why would it pay off for us?",
        ),
        "not_now": (
            "Not a priority right now, maybe check back next quarter.",
            "We're in the middle of a busy season. Reach out again in a couple of months.",
        ),
        "not_interested": ("Not interested, thanks.", "We don't need this. Please don't follow up."),
        "out_of_office": (
            f"I'm out of the office until {rng.randint(2, 28)} and will have limited access to email.",
            "Thanks for your email. I'm currently on leave and will reply when I'm back.",
        ),
        "unsubscribe": ("Please remove me from your list.", "Unsubscribe. Stop emailing me."),
    }
    if intent == "referral" and referral is not None:
        return (
            f"I'm not the right person for this. Please talk to {referral.full_name} ({referral.title}), "
            f"{referral.email}."
        )
    return rng.choice(texts.get(intent, texts["question"]))


@dataclass(frozen=True)
class MeetingFate:
    """Whether the prospect's plans change before a booked call (drawn when it is booked). Whether
    they come when it starts is decided then (integrations.sandbox.attendance): it depends on the
    reminders they get in between."""

    kind: Literal["keeps", "rescheduled", "cancelled"]
    notice: dt.timedelta  # how long before the start a reschedule or cancellation arrives
    moved_by: dt.timedelta = dt.timedelta(0)


def meeting_fate(*, attendee_email: str, start: dt.datetime, fit: float) -> MeetingFate:
    """About one booking in five is moved or cancelled ahead, fewer by prospects who fit (judgement);
    seeded by the attendee and the time booked, never by the booking's id."""
    rng = rng_for("meeting-fate", attendee_email.strip().lower(), start.astimezone(dt.UTC).isoformat())
    kind = rng.choices(("keeps", "rescheduled", "cancelled"), weights=(78 + 15 * fit, 12, 10 - 5 * fit))[0]
    return MeetingFate(
        kind=kind,  # type: ignore[arg-type]
        notice=dt.timedelta(hours=rng.uniform(2, 20)),
        moved_by=dt.timedelta(days=rng.randint(1, 4)),
    )


# --- proposals (SANDBOX.md "proposals"): price against the hidden budget, fit, follow-ups, validity ---
# Without a price to weigh (a document with no total), a buyer decides on fit alone.
VIEW_BASE, VIEW_FIT = 0.7, 0.25  # most buyers open a proposal they asked for; keener ones more often
# A note that asks whether it arrived gets an unopened document opened.
VIEW_PER_NUDGE = 0.1
# Of those who read it, the share who answer without being chased; the rest go quiet until reminded
# or until it expires ("ghosting" is the common end of an unchased proposal). A judgement.
DECIDE_ALONE = 0.6
# Each well-spaced follow-up received while undecided moves some of the quiet ones to a decision,
# and a little towards yes (it answers a question, puts it back on the desk). A judgement.
DECIDE_PER_NUDGE, SIGN_PER_NUDGE = 0.06, 0.02
# A follow-up too soon after our last contact, or one too many, is pressure: it brings a decision
# too, more often a no. A judgement.
MIN_NUDGE_GAP = dt.timedelta(days=2)
MAX_WELCOME_NUDGES = 3
DECIDE_PER_ANNOY, SIGN_PER_ANNOY = 0.1, 0.12
# Within budget, the odds of a yes follow fit: about 0.74 at the fit of a buyer we would target (0.8),
# about 0.47 at a poor one (0.3). Unchased, with views and silences, about 40% of documents to a good
# fit are signed: the win rate on proposed opportunities most sellers get (40% for "the rest", 47% on
# average: RAIN Group Center for Sales Research, survey of 472 sellers, "Average Sales Win Rates").
SIGN_BASE, SIGN_FIT = 0.3, 0.55
# Price over the budget: a little over is a stretch some make, half again over almost nobody does,
# and a buyer far over budget says no quickly ("Budget"). Factor on the odds of a yes, by
# price / budget: 1 up to the budget, down to 0.3 at 1.5x, to 0.05 at 2x and beyond. A judgement.
PRICE_POINTS = ((1.0, 1.0), (1.5, 0.3), (2.0, 0.05))
FAR_OVER = 1.5
DECIDE_FAR_OVER = 0.85
BUDGET_REASONS = ("Budget: this is well above what we set aside", "Budget: we cannot stretch to this price")
PRESSURE_REASON = "We felt rushed on this and will pass for now"
DECLINE_REASONS = ("Went with another vendor", "Scope does not match our needs", "Not a priority this quarter")


@dataclass(frozen=True)
class Nudges:
    """Our follow-ups the buyer received while still undecided."""

    welcome: int = 0
    annoying: int = 0


def nudge_kind(*, gap: dt.timedelta, number: int) -> Literal["welcome", "annoying"]:
    """How a follow-up lands: ``gap`` since our previous contact (the send or the last note), and its
    number among the notes about this document."""
    return "annoying" if gap < MIN_NUDGE_GAP or number > MAX_WELCOME_NUDGES else "welcome"


def price_factor(ratio: float | None) -> float:
    if ratio is None or ratio <= PRICE_POINTS[0][0]:
        return 1.0
    for (x0, y0), (x1, y1) in itertools.pairwise(PRICE_POINTS):
        if ratio <= x1:
            return y0 + (y1 - y0) * (ratio - x0) / (x1 - x0)
    return PRICE_POINTS[-1][1]


def sign_odds(*, fit: float, ratio: float | None, nudges: Nudges = Nudges()) -> float:
    """The odds that a buyer who decides says yes."""
    odds = (SIGN_BASE + SIGN_FIT * fit + SIGN_PER_NUDGE * nudges.welcome) * price_factor(ratio)
    return min(max(odds - SIGN_PER_ANNOY * nudges.annoying, 0.0), 0.95)


def decide_odds(*, ratio: float | None, nudges: Nudges = Nudges()) -> float:
    """The odds that a buyer who read it decides (rather than going quiet)."""
    base = DECIDE_FAR_OVER if ratio is not None and ratio > FAR_OVER else DECIDE_ALONE
    return min(base + DECIDE_PER_NUDGE * nudges.welcome + DECIDE_PER_ANNOY * nudges.annoying, 0.95)


def view_odds(*, fit: float, nudges: Nudges = Nudges()) -> float:
    return min(VIEW_BASE + VIEW_FIT * fit + VIEW_PER_NUDGE * nudges.welcome, 0.98)


@dataclass(frozen=True)
class DocumentFate:
    viewed: bool
    viewed_after: dt.timedelta  # after the send
    outcome: Literal["completed", "declined", "silent"]
    decided_after: dt.timedelta  # after the view
    decline_reason: str = ""


def document_fate(
    *, document_id: str, fit: float, price_ratio: float | None = None, nudges: Nudges = Nudges()
) -> DocumentFate:
    """What the buyer does with a document: seeded by the document alone, with the same draws whatever
    the follow-ups, so a follow-up can only move this buyer's odds (common random numbers): a quiet
    buyer may decide, a no may become a yes, and pressure the other way."""
    rng = rng_for("document-fate", document_id)
    seen, viewed_after = rng.random(), dt.timedelta(hours=rng.uniform(0.5, 48))
    deciding, saying = rng.random(), rng.random()
    decided_after = dt.timedelta(hours=rng.uniform(2, 120))
    why, pick = rng.random(), rng.random()
    viewed = seen < view_odds(fit=fit, nudges=nudges)
    outcome: Literal["completed", "declined", "silent"] = "silent"
    if viewed and deciding < decide_odds(ratio=price_ratio, nudges=nudges):
        outcome = "completed" if saying < sign_odds(fit=fit, ratio=price_ratio, nudges=nudges) else "declined"
    reason = ""
    if outcome == "declined":
        over = price_ratio is not None and price_ratio > 1.0
        if over and (price_ratio > FAR_OVER or why < 0.7):  # type: ignore[operator]
            reason = BUDGET_REASONS[int(pick * len(BUDGET_REASONS))]
        elif nudges.annoying and why < nudges.annoying / (nudges.annoying + 1):
            reason = PRESSURE_REASON
        else:
            reason = DECLINE_REASONS[int(pick * len(DECLINE_REASONS))]
    return DocumentFate(
        viewed=viewed,
        viewed_after=viewed_after,
        outcome=outcome,
        decided_after=decided_after,
        decline_reason=reason,
    )
