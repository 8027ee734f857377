"""The market's offboarding reactions (SANDBOX.md, "offboarding"): how a departing client answers the
exit survey, and whether a former client answers a win-back email after the cool-off.

Both follow the client's hidden mood (``accounts``) as the agency left it: a client who left
content scores us higher, gives kinder reasons and comes back more often. The sandbox recognises
our mail the way the person would: an exit survey by what it says it is, a win-back as a campaign
email to someone who was a client (the sandbox remembers a client's exit when our exit survey or
handover reaches them). Draws are seeded by the person's address and what the email says (its
subject), never by our database ids.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from integrations.sandbox import accounts, payloads
from integrations.sandbox.market import find_person
from integrations.sandbox.rng import rng_for
from integrations.sandbox.store import recall, remember, schedule
from smarter_team import clock

EXIT_KIND = "client_exit"
EXIT_SURVEY = re.compile(r"\bexit (?:survey|interview)\b", re.I)
# The knowledge-transfer mail ("<company>: handover of what we built"), not any "handover": a milestone
# called "Launch and handover" is delivery, and reading it as goodbye marked a live client as gone.
HANDOVER = re.compile(r"\bhandover of\b", re.I)

# --- the exit survey ------------------------------------------------------------------------------
# Emailed customer surveys get 10-30% answers (SurveyMonkey's and Qualtrics' published benchmarks);
# a personal note from the team they worked with does better, and content clients answer more
# readily than those who left angry. Judgement within that: 25% at mood 0, 60% at mood 1.
ANSWER_BASE, ANSWER_MOOD = 0.25, 0.35
ANSWER_DELAY_HOURS = (3, 96)
SCORE_NOISE = 1.0  # one point either way: the same mood does not always give the same number
# Delighted people now and then go off the scale ("11 out of 10"): judgement, 5% of them.
OFF_SCALE_MOOD, OFF_SCALE_SHARE = 0.85, 0.05
# A client in a German-speaking country answers in German about half the time, even to English
# mail (judgement).
NATIVE_SHARE = 0.5
GERMAN_COUNTRIES = frozenset({"Germany", "Austria", "Switzerland", "DE", "AT", "CH"})

Band = Literal["unhappy", "lukewarm", "content"]
ANSWERS: dict[str, dict[Band, dict[str, tuple[str, ...]]]] = {
    "en": {
        "unhappy": {
            "reason": (
                "Deadlines kept slipping and we had to chase for updates.",
                "We rarely heard from you between milestones.",
                "It cost more than the value we saw.",
            ),
            "better": ("Tell us early when something is late.", "Send regular progress updates without us asking."),
            "back": ("No, probably not.",),
        },
        "lukewarm": {
            "reason": (
                "The results were fine, but not enough to justify the cost right now.",
                "Our priorities changed this quarter.",
            ),
            "better": ("Show the results in numbers we can take to our board.", "Check in more often."),
            "back": ("Maybe, depending on budget.",),
        },
        "content": {
            "reason": (
                "Nothing wrong with your work: our budget was cut.",
                "The project did what we needed; we are taking the rest in-house.",
            ),
            "better": ("Honestly not much, the team was great.", "A cheaper maintenance plan would have kept us."),
            "back": ("Yes, happy to talk again later.",),
        },
    },
    "de": {
        "unhappy": {
            "reason": (
                "Die Termine haben sich ständig verschoben und wir mussten immer nachfragen.",
                "Zwischen den Meilensteinen haben wir kaum etwas von Ihnen gehört.",
            ),
            "better": ("Sagen Sie uns früh, wenn etwas später wird.",),
            "back": ("Nein, eher nicht.",),
        },
        "lukewarm": {
            "reason": ("Die Ergebnisse waren in Ordnung, aber die Kosten sind für uns gerade zu hoch.",),
            "better": ("Die Ergebnisse in Zahlen zeigen, die wir intern vorlegen können.",),
            "back": ("Vielleicht, je nach Budget.",),
        },
        "content": {
            "reason": ("An Ihrer Arbeit lag es nicht: unser Budget wurde gekürzt.",),
            "better": ("Ehrlich gesagt nicht viel, das Team war sehr gut.",),
            "back": ("Ja, gerne später wieder.",),
        },
    },
}


def band(mood: float) -> Band:
    return "unhappy" if mood < 0.4 else "lukewarm" if mood < 0.7 else "content"


def answer_chance(mood: float) -> float:
    """The odds that a departing client answers the exit survey at all."""
    return ANSWER_BASE + ANSWER_MOOD * mood


def exit_score(mood: float, *, rng: Any) -> int:
    """Their 0-10 recommendation score: about ten times their mood, off the scale now and then."""
    if mood >= OFF_SCALE_MOOD and rng.random() < OFF_SCALE_SHARE:
        return 11
    return max(0, min(10, round(10 * mood + rng.gauss(0, SCORE_NOISE))))


def exit_answer(*, email: str, mood: float, country: str, key: str) -> str:
    """The reply, numbered like our questions, in English or (sometimes) their own language."""
    rng = rng_for("exit-answer", email, key)
    language = "de" if country in GERMAN_COUNTRIES and rng.random() < NATIVE_SHARE else "en"
    lines = ANSWERS[language][band(mood)]
    score = exit_score(mood, rng=rng)
    first = f"{score} out of 10, honestly" if score > 10 else str(score)
    return "\n".join(
        [
            f"1. {first}",
            f"2. {rng.choice(lines['reason'])}",
            f"3. {rng.choice(lines['better'])}",
            f"4. {rng.choice(lines['back'])}",
        ]
    )


# --- a win-back after the cool-off ----------------------------------------------------------------
# Griffin & Lowenstein, "Customer WinBack" (2001): the odds of selling to a lapsed customer are
# 20-40%, against 5-20% for a new prospect. An "interested" answer to a win-back email stands for
# the first step of that sale: about 10% for a client who left unhappy, 40% for one who left content.
WIN_BACK_BASE, WIN_BACK_MOOD = 0.10, 0.30
# Written to a few weeks after leaving, people have not missed anything yet (judgement).
TOO_SOON_DAYS, TOO_SOON_FACTOR = 60, 0.3
NOT_INTERESTED_BASE, NOT_INTERESTED_UNHAPPY = 0.15, 0.25  # judgement
OPT_OUT_BASE, OPT_OUT_UNHAPPY = 0.02, 0.06  # judgement: an unhappy ex-client asks us to stop
WIN_BACK_TEXT = {
    "interested": (
        "Good timing, actually: we have been meaning to pick this up again. Could we talk next week?",
        "Thanks for reaching out. We would be happy to talk about a next phase.",
    ),
    "not_interested": ("Thanks, but we are not interested at the moment.",),
}

WinBack = Literal["interested", "not_interested", "unsubscribe", "silence"]


def win_back_odds(*, mood: float, days_since_exit: int | None) -> dict[WinBack, float]:
    """How a former client answers a win-back email, by how they left and how long ago."""
    soon = days_since_exit is not None and days_since_exit < TOO_SOON_DAYS
    interested = (WIN_BACK_BASE + WIN_BACK_MOOD * mood) * (TOO_SOON_FACTOR if soon else 1.0)
    not_interested = NOT_INTERESTED_BASE + NOT_INTERESTED_UNHAPPY * (1 - mood)
    opt_out = OPT_OUT_BASE + OPT_OUT_UNHAPPY * (1 - mood)
    return {
        "interested": interested,
        "not_interested": not_interested,
        "unsubscribe": opt_out,
        "silence": max(0.0, 1 - interested - not_interested - opt_out),
    }


# --- what the sandbox does with our email -----------------------------------------------------------


def left_at(email: str) -> dt.datetime | None:
    record = recall(kind=EXIT_KIND, ref=email.strip().lower())
    return dt.datetime.fromisoformat(record["left_at"]) if record else None


def react(sent: dict[str, Any], *, body: str) -> bool:
    """Answer our email when it is an exit survey or a win-back (True), else leave it to the other
    reactions (False). Called once per email (the outreach sandbox records it first)."""
    address, subject, now = str(sent["to"]).strip().lower(), str(sent.get("subject", "")), clock.now()
    text = f"{subject}\n{body}"
    if not sent.get("campaign_id") and (EXIT_SURVEY.search(text) or HANDOVER.search(subject)):
        remember(kind=EXIT_KIND, ref=address, data={"email": address, "left_at": now.isoformat()})
        if EXIT_SURVEY.search(text):
            _answer_survey(sent, address=address, now=now)
        return True
    if sent.get("campaign_id") and left_at(address) is not None:
        _answer_win_back(sent, address=address, now=now)
        return True
    return False


def _answer_survey(sent: dict[str, Any], *, address: str, now: dt.datetime) -> None:
    mood = accounts.mood(address)
    rng = rng_for("exit-survey", address, sent["subject"])
    if rng.random() >= answer_chance(mood):
        return
    at = now + dt.timedelta(hours=rng.uniform(*ANSWER_DELAY_HOURS))
    text = exit_answer(email=address, mood=mood, country=find_person(address).company.country, key=sent["subject"])
    _reply(sent, kind="reply_exit_survey", at=at, text=text)


def _answer_win_back(sent: dict[str, Any], *, address: str, now: dt.datetime) -> None:
    left = left_at(address)
    days = (now - left).days if left is not None else None
    odds = win_back_odds(mood=accounts.mood(address), days_since_exit=days)
    rng = rng_for("win-back", address, sent["subject"])
    outcome = rng.choices(list(odds), weights=list(odds.values()))[0]
    at = now + dt.timedelta(hours=rng.uniform(2, 72))
    if outcome == "silence":
        return
    if outcome == "unsubscribe":
        schedule(
            key=f"instantly:{sent['message_id']}:unsubscribe_click",
            provider="instantly",
            kind="unsubscribe_click",
            subject=address,
            payload=payloads.instantly_event(event_type="lead_unsubscribed", email=sent, at=at),
            due_at=at,
        )
        return
    _reply(sent, kind=f"reply_{outcome}", at=at, text=rng.choice(WIN_BACK_TEXT[outcome]))


def _reply(sent: dict[str, Any], *, kind: str, at: dt.datetime, text: str) -> None:
    schedule(
        key=f"instantly:{sent['message_id']}:{kind}",
        provider="instantly",
        kind=kind,
        subject=str(sent["to"]),
        payload=payloads.instantly_event(
            event_type="reply_received", email=sent, at=at, reply_subject=f"Re: {sent['subject']}", reply_text=text
        ),
        due_at=at,
    )
