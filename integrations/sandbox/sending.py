"""What the market's inboxes and people do with a cold email, one small reaction per function.

Each function turns what the sandbox can see (the sender's history, the text, the recipient's zone
and true facts, the step) into a probability or a factor; ``behaviour.email_outcome`` draws from
them. Constants are set from what is published about real cold email; where a figure exists it is
cited, otherwise the comment says it is a judgement. The direction of each is what the tests hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from integrations.sandbox.world import SIGNALS, TECH, Person

# --- inbox placement ------------------------------------------------------------------------
# A new mailbox is ramped over 2-4 weeks (Instantly and lemlist warm up 14-30 days by default);
# mail from a cold one lands in spam far more often. Day 0 -> COLD_MAILBOX_SPAM, falling to 0.
WARMUP_DAYS = 14
COLD_MAILBOX_SPAM = 0.35  # judgement: a third of a brand-new domain's cold mail filtered
# Instantly and Smartlead advise at most 30-50 cold emails per mailbox per day.
SAFE_DAILY_VOLUME = 50
OVER_VOLUME_SPAM = 0.005  # per email over the safe volume that day (judgement)
SPAM_WORDS = (
    "act now", "buy now", "cash", "click here", "free", "guarantee", "guaranteed", "limited time",
    "no obligation", "risk-free", "urgent", "winner", "100%",
)  # fmt: skip
SPAM_WORD_SPAM = 0.08  # per trigger word found (judgement; content filters weigh many such words)
# Gmail's and Yahoo's bulk-sender rules (Feb 2024) require an easy unsubscribe; CAN-SPAM requires
# a postal address. Mail without them is filtered more and reported more.
NO_UNSUBSCRIBE_SPAM = 0.10
NO_ADDRESS_SPAM = 0.05
MAX_SPAM = 0.95

_UNSUBSCRIBE = re.compile(r"\bunsubscribe\b|\bopt[ -]out\b", re.I)
_ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[A-Za-z]+\s){0,3}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|way|drive|dr|"
    r"strasse|straße)\b|\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b|\b\d{5}\s+[A-Z][a-z]+",
    re.I,
)


def spam_words_in(text: str) -> list[str]:
    """The trigger words in ``text``, matched as whole words ("freedom" is not "free")."""
    return [w for w in SPAM_WORDS if re.search(rf"(?<![\w%]){re.escape(w)}(?![\w%])", text, re.I)]


def has_unsubscribe(*, body: str, headers: Mapping[str, str]) -> bool:
    return bool(_UNSUBSCRIBE.search(body)) or any(k.lower() == "list-unsubscribe" for k in headers)


def has_postal_address(body: str) -> bool:
    return bool(_ADDRESS.search(body))


def spam_placement(
    *, mailbox_age_days: int, sent_today: int, spam_words: int, unsubscribe: bool, postal_address: bool
) -> float:
    """0..MAX_SPAM: the chance the email lands in the spam folder (then nobody opens or answers)."""
    chance = COLD_MAILBOX_SPAM * max(0.0, 1 - mailbox_age_days / WARMUP_DAYS)
    chance += OVER_VOLUME_SPAM * max(0, sent_today - SAFE_DAILY_VOLUME)
    chance += SPAM_WORD_SPAM * spam_words
    chance += 0.0 if unsubscribe else NO_UNSUBSCRIBE_SPAM
    chance += 0.0 if postal_address else NO_ADDRESS_SPAM
    return round(min(MAX_SPAM, chance), 4)


# --- send time ----------------------------------------------------------------------------------
# Send-time studies of cold email (Woodpecker, Mailshake) find weekday working hours in the
# recipient's zone best; night and weekend mail is read later, under a pile, or not at all.
WORKDAY_HOURS = range(8, 18)
EDGE_HOURS = (*range(6, 8), *range(18, 22))
TIME_FACTORS = {"workday": 1.0, "edge": 0.7, "night": 0.4, "weekend": 0.5}  # judgement, by those studies


def send_time_factor(*, sent_at: dt.datetime, timezone: str) -> float:
    """Reply and open odds by the local hour the email arrives at (the recipient's zone)."""
    local = sent_at.astimezone(ZoneInfo(timezone or "UTC"))
    if local.isoweekday() >= 6:
        return TIME_FACTORS["weekend"]
    if local.hour in WORKDAY_HOURS:
        return TIME_FACTORS["workday"]
    return TIME_FACTORS["edge"] if local.hour in EDGE_HOURS else TIME_FACTORS["night"]


# --- bounces, complaints, opens --------------------------------------------------------------
# By the verifier's verdict: a "valid" address still bounces now and then; catch-all domains
# accept at SMTP and bounce later (verifier vendors quote 10-20% for catch-alls).
BOUNCE_CHANCE = {"deliverable": 0.005, "invalid": 0.97, "risky": 0.3, "catch_all": 0.12}
HARD_SHARE = 0.7  # of bounces at a real address: most are gone mailboxes, the rest full or deferred
# Typical cold email complaint rates are ~0.1%; Gmail's line is 0.3%.
BASE_COMPLAINT = 0.0005
UNFIT_COMPLAINT = 0.004  # at fit 0 and no personalisation
NO_UNSUBSCRIBE_COMPLAINT = 3.0  # people who cannot opt out report (the reason for one-click unsubscribe)
FALSE_CLAIM_COMPLAINT = 2.0
# Cold email open rates reported by the tools are 25-45% (inflated by Apple's privacy pre-fetch).
OPEN_IN_INBOX = 0.40


def bounce_chance(person: Person) -> float:
    return BOUNCE_CHANCE[person.email_status]


def complaint_chance(*, fit: float, personal: float, unsubscribe: bool, false_claims: int) -> float:
    chance = BASE_COMPLAINT + UNFIT_COMPLAINT * (1 - fit) * (1 - personal)
    chance *= 1.0 if unsubscribe else NO_UNSUBSCRIBE_COMPLAINT
    return chance * (FALSE_CLAIM_COMPLAINT if false_claims else 1.0)


def open_chance(*, in_spam: bool, time_factor: float) -> float:
    return 0.02 if in_spam else OPEN_IN_INBOX * time_factor


# --- replies ----------------------------------------------------------------------------------
# Follow-ups add replies but fewer each step: Woodpecker reports one follow-up taking reply rates
# from ~9% to ~13%, i.e. a second step at about 0.45 of the first's odds.
STEP_FACTORS = (1.0, 0.45, 0.3, 0.2)
FALSE_CLAIM_FACTOR = 0.5  # per wrong "fact" about them: they notice it is a mail merge gone wrong
BASE_REPLY, FIT_REPLY, PERSONAL_REPLY = 0.03, 0.12, 0.10


def _mentions(text: str, phrase: str) -> bool:
    return bool(re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text))


@dataclass(frozen=True)
class Claims:
    true: tuple[str, ...]
    false: tuple[str, ...]


def claims_about(*, person: Person, text: str) -> Claims:
    """The facts the email states about their company (signals, tools): true ones are theirs;
    any other known fact stated is false. Whole words only ("Slack" is not in "slacking")."""
    lowered = text.lower()
    theirs = {f.lower() for f in (*person.company.signals, *person.company.tech)}
    stated = [f for f in (*SIGNALS, *TECH) if _mentions(lowered, f)]
    return Claims(
        true=tuple(f for f in stated if f.lower() in theirs), false=tuple(f for f in stated if f.lower() not in theirs)
    )


def personalisation(*, person: Person, subject: str, body: str) -> float:
    """0..1: does the email speak to this person (first name, company, a true fact about them)?"""
    text = f"{subject}\n{body}".lower()
    score = 0.25 * _mentions(text, person.first_name)
    score += 0.25 * (_mentions(text, person.company.name) or _mentions(text, person.company.domain.split(".")[0]))
    score += 0.5 * bool(claims_about(person=person, text=text).true)
    return round(score, 3)


def reply_chance(*, fit: float, personal: float, false_claims: int, step: int, time_factor: float) -> float:
    """The odds that a cold email at ``step`` (1-based) is answered."""
    step_factor = STEP_FACTORS[min(max(step, 1), len(STEP_FACTORS)) - 1]
    base = BASE_REPLY + FIT_REPLY * fit + PERSONAL_REPLY * personal
    return base * step_factor * time_factor * FALSE_CLAIM_FACTOR**false_claims


# --- replies to our replies -----------------------------------------------------------------
FollowUp = Literal["booking", "question", "drop_off"]
_SLOT = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri)day\b|\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\b\d{1,2}:\d{2}\b|"
    r"cal\.com|calendly|booking link|book a time",
    re.I,
)
# What answers each of the market's questions and objections (behaviour.reply_text).
_ANSWERS = {
    "cost": re.compile(r"[$€£]\s?\d|\bprice|\bpricing|\bcosts?\b|\bper month\b|\bfee", re.I),
    "case": re.compile(r"case stud|\bclients? (?:like|such as)\b|\bfor example\b", re.I),
    "agency": re.compile(r"\balongside\b|\bcompare\b|\bswitch|\bsecond opinion\b|\bpilot\b", re.I),
    "expensive": re.compile(r"\broi\b|pays? (?:for itself|off)|\bpilot\b|\bsaves?\b|[$€£]\s?\d", re.I),
}
_ASKED = {"cost": "cost", "case studies": "case", "already work with an agency": "agency", "expensive": "expensive"}
# Judgement, anchored on sales practice: a reply that offers concrete times books far more often
# than "let me know when suits you"; an unanswered question mostly ends the thread.
BOOK_BASE, BOOK_SLOT, BOOK_ADDRESSED = 0.10, 0.40, 0.25
ASK_AGAIN_ADDRESSED, ASK_AGAIN_NOT = 0.15, 0.30


def addressed(*, their_text: str, our_body: str) -> bool:
    """Did our reply answer what they asked (or the objection they raised)?"""
    asked = [topic for phrase, topic in _ASKED.items() if phrase in their_text.lower()]
    if not asked:
        return bool(_SLOT.search(our_body))  # they asked for a time: a time answers it
    return all(_ANSWERS[topic].search(our_body) for topic in asked)


def offers_slot(our_body: str) -> bool:
    return bool(_SLOT.search(our_body))


def follow_up_odds(*, fit: float, slot: bool, answered: bool) -> dict[FollowUp, float]:
    booking = (BOOK_BASE + BOOK_SLOT * slot + BOOK_ADDRESSED * answered) * (0.5 + 0.5 * fit)
    question = ASK_AGAIN_ADDRESSED if answered else ASK_AGAIN_NOT
    return {"booking": booking, "question": question, "drop_off": max(0.0, 1 - booking - question)}
