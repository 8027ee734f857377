"""What the sandbox sees of one send (the sender's history, the text, the step, the local hour) and
how a prospect answers our answer. The reactions themselves are in ``sending``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Min, Q

from integrations.models import SandboxRecord
from integrations.sandbox import sending
from integrations.sandbox.behaviour import Circumstances, Intent
from integrations.sandbox.rng import rng_for
from integrations.sandbox.store import latest_happened
from integrations.sandbox.world import Person

REPLY_KINDS = tuple(f"reply_{i}" for i in ("interested", "question", "objection", "not_now", "referral"))


def has_written(address: str) -> bool:
    """Whether this person has answered us (by now): our next email in the thread answers them."""
    return latest_happened(subject=address, kinds=REPLY_KINDS) is not None


def cold_step(address: str) -> int:
    """1 + the cold emails this person already had from us (our answers in a thread do not count)."""
    earlier = SandboxRecord.objects.filter(kind="email", party=address).exclude(data__replying=True).count()
    return earlier + 1


def mailbox_history(mailbox: str, now: dt.datetime) -> tuple[int, int]:
    """(days since the mailbox's first send, sends from it this UTC day) as the market saw them."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Both in one aggregate (one round trip per send, not two).
    seen = SandboxRecord.objects.filter(kind="email", sender=mailbox).aggregate(
        first=Min("created_at"), today=Count("id", filter=Q(created_at__gte=day))
    )
    return (now - (seen["first"] or now)).days, seen["today"]


def circumstances(
    *, person: Person, mailbox: str, subject: str, body: str, headers: Mapping[str, str], step: int, now: dt.datetime
) -> Circumstances:
    age, today = mailbox_history(mailbox, now)
    unsubscribe = sending.has_unsubscribe(body=body, headers=headers)
    spam = sending.spam_placement(
        mailbox_age_days=age,
        sent_today=today,
        spam_words=len(sending.spam_words_in(f"{subject}\n{body}")),
        unsubscribe=unsubscribe,
        postal_address=sending.has_postal_address(body),
    )
    return Circumstances(
        step=step,
        spam=spam,
        time_factor=sending.send_time_factor(sent_at=now, timezone=person.company.timezone),
        unsubscribe=unsubscribe,
        false_claims=len(sending.claims_about(person=person, text=f"{subject}\n{body}").false),
    )


@dataclass(frozen=True)
class Answer:
    outcome: sending.FollowUp
    intent: Intent | None = None
    text: str = ""
    delay: dt.timedelta = dt.timedelta(0)


_BOOKED = "{day} at {hour} works for me, I've put it in my calendar. Talk then."
_AGAIN = (
    "Thanks. And how would this work with the tools we already use?",
    "Got it. Who on your side would we be working with day to day?",
)


def answer_to_our_reply(*, person: Person, our_body: str) -> Answer | None:
    """A prospect who wrote to us reads our answer: books, asks again or drops off. None: they had
    not written (our message is then not an answer to anything)."""
    theirs = latest_happened(
        subject=person.email, kinds=[f"reply_{i}" for i in ("interested", "question", "objection")]
    )
    if theirs is None:
        return None
    their_text = str(theirs.payload.get("reply_text", ""))
    rounds = SandboxRecord.objects.filter(kind="email", party=person.email, data__replying=True).count()
    rng = rng_for("follow-up", person.email, rounds)
    odds = sending.follow_up_odds(
        fit=person.company.fit,
        slot=sending.offers_slot(our_body),
        answered=sending.addressed(their_text=their_text, our_body=our_body),
    )
    outcome = rng.choices(list(odds), weights=list(odds.values()))[0]
    delay = dt.timedelta(hours=rng.uniform(0.5, 30))
    if outcome == "booking":
        text = _BOOKED.format(day=rng.choice(("Tuesday", "Wednesday", "Thursday")), hour=rng.choice(("10:00", "14:00")))
        return Answer("booking", "interested", text, delay)
    if outcome == "question":
        return Answer("question", "question", rng.choice(_AGAIN), delay)
    return Answer("drop_off")
