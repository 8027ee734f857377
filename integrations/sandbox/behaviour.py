"""How the market's people react: to cold emails, meetings, proposals and invoices.

Every reaction is drawn from a generator seeded by the act it answers (the email, the booking,
the document, the invoice), and weighted by the prospect's hidden fit and, for emails, by how
personal the message is. So a better agency (better targeting, real personalisation) gets more
and better replies, and the same agency on the same seed gets exactly the same ones.
"""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True)
class DocumentFate:
    viewed: bool
    viewed_after: dt.timedelta
    outcome: Literal["completed", "declined", "silent"]
    decided_after: dt.timedelta
    decline_reason: str = ""


DECLINE_REASONS = ("Budget was cut this quarter", "Went with another vendor", "Scope does not match our needs")


def document_fate(*, document_id: str, fit: float) -> DocumentFate:
    rng = rng_for("document-fate", document_id)
    viewed = rng.random() < 0.7 + 0.25 * fit
    outcome = "silent"
    if viewed:
        outcome = rng.choices(("completed", "declined", "silent"), weights=(20 + 50 * fit, 25 - 10 * fit, 25))[0]
    return DocumentFate(
        viewed=viewed,
        viewed_after=dt.timedelta(hours=rng.uniform(0.5, 48)),
        outcome=outcome,  # type: ignore[arg-type]
        decided_after=dt.timedelta(hours=rng.uniform(2, 120)),
        decline_reason=rng.choice(DECLINE_REASONS) if outcome == "declined" else "",
    )
