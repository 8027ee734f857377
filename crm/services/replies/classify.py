"""The offline reading of a reply's intent: rules a person would use, in the order that keeps us safe.

This is the heuristic brain of email_response_handler, the agency's real answer whenever no model
is available, so it must be right where it matters: an opt-out is never missed (the rules for it
favour recall and run before every other intent), bounces and out-of-office replies are recognised
before anyone's words are weighed, and the rest is a score over phrases in English, German, French
and Spanish. Call it with the visible reply text (parse.visible_text): the quoted history holds our
own footer, which says "unsubscribe".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from crm.services.replies.dates import fold, return_date

Intent = Literal[
    "interested", "question", "objection", "not_now", "not_interested",
    "out_of_office", "referral", "unsubscribe", "bounce",
]  # fmt: skip
INTENTS: tuple[Intent, ...] = (
    "interested", "question", "objection", "not_now", "not_interested",
    "out_of_office", "referral", "unsubscribe", "bounce",
)  # fmt: skip


@dataclass(frozen=True)
class Referral:
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Classification:
    intent: Intent
    confidence: float
    reasons: tuple[str, ...] = field(default=())  # the rules that fired, for the run's audit trail
    return_date: dt.date | None = None
    referral: Referral | None = None


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{part})" for part in parts))


# Patterns run on folded text (lower case, no accents, punctuation turned into spaces).
BOUNCE = _rx(
    r"delivery (status notification|has failed|to the following recipient|incomplete)",
    r"(could not|couldn t|wasn t|was not) (be )?delivered",
    r"undeliverable",
    r"unzustellbar",
    r"mail delivery (failed|subsystem|system)",
    r"message not delivered",
    r"returned to sender",
    r"\b5 [127] \d+\b",
    r"recipient ?not ?found",
    r"user unknown",
    r"address (was )?not found",
    r"mailbox (is )?(full|unavailable)",
    r"permanent (error|failure)",
)
UNSUBSCRIBE = _rx(
    # English, typos included: unsubscribe, unsubcribe, unsuscribe, unsub
    r"\bun ?s[ub]{1,2}s?c?r?i?b",
    r"\bunsub\b",
    r"\bopt(ing)? ?out\b",
    r"\bremove (me|us|my|this|our|him|her)\b",
    r"\bplease remove\b",
    r"\bremove\W*$",
    r"\bremove\b.{0,60}\b(list|database|records?|emails?)\b",
    r"\btake (me|us|my \w+( address)?) off\b",
    r"\boff (your|the|ur|this|all) (\w+ )?(mailing |email )?lists?\b",
    r"\b(stop|quit|cease)\b.{0,25}\b(e ?mail\w*|mailing|contact\w*|send\w*|spam\w*|messag\w*|writ\w*|communicat\w*)",
    r"\b(don t|dont|do not|never|no longer|pls don t|please don t)\b.{0,12}"
    r"\b(e ?mail|contact|message|write|send|spam)\w*\b.{0,15}\b(me|us|again|anymore|any more)\b",
    r"\bno (more|further) (e ?mails?|mails?|messages|contact|communication)",
    r"^\W*stop\W*$",
    r"\bdelete my (data|details|email|address|information)",
    r"\bgdpr (request|erasure)",
    r"\bspam(ming)?\b",
    # German
    r"\babmelden\b",
    r"\babmeldung\b",
    r"\baustragen\b",
    r"\bverteiler\b",
    r"\bkeine (weiteren )?(e ?mails|mails|nachrichten|werbung)",
    r"\bnicht mehr (kontaktieren|anschreiben|schreiben|zu schreiben)",
    r"\bschreiben sie mir nicht",
    r"\baus (ihrer|ihrem|der|dem) (liste|mailingliste|verteiler|datenbank)",
    # French
    r"\bdesinscri",
    r"\bdesabonn",
    r"\bretir\w* de (votre|la|vos) (liste|base)",
    r"\bne (m|me|nous) (envoyez|contactez|ecrivez) plus",
    r"\bplus d ?e ?mails",
    # Spanish, Italian, Dutch
    r"\bdar(me)? de baja\b",
    r"\bde baja\b",
    r"\belimin\w* de (su|tu|la|vuestra) (lista|base)",
    r"\bno me (envie\w*|manden|escriban|contacten|escribas)\b.{0,10}\bmas\b",
    r"\bcancella\w* dalla",
    r"\bdisiscri",
    r"\buitschrijven\b",
    r"\bafmelden\b",
    r"\bgeen (e ?mails?|mails?) meer",
)
# Talk *about* opting out that is not a request to be removed.
NOT_UNSUBSCRIBE = _rx(
    r"\bhandle unsubscribes?\b",
    r"\bunsubscribe (link|process|rates?|handling)\b",
    r"\bstop by\b",
    r"\bstop (the|our|their) (\w+ )?(bleeding|churn|leads?|losing)",
)
OUT_OF_OFFICE = _rx(
    r"\bout of (the )?office\b",
    r"\booo\b",
    r"\bon (annual |parental |maternity |paternity |sick |study )?leave\b",
    r"\bon (vacation|holiday|holidays)\b",
    r"\baway (from (my desk|the office|email)|until|till)\b",
    r"\blimited (access to )?(e ?mail|email access)",
    r"\bwith (very )?limited e ?mail",
    r"\bno access to e ?mail",
    r"\b(automatic|auto) ?(reply|response)\b",
    r"\bautoreply\b",
    r"\b(travelling|traveling|at a conference|out) (until|till)\b",
    r"\bi(m| am) (currently )?(out|away|off)\b.{0,30}\b(until|till|back|return)",
    r"\bwill (be )?(back|return)\b.{0,20}\b(on|in|the)\b",
    r"\bnicht im (buro|buero|haus)\b",
    r"\babwesen",
    r"\burlaub\b",
    r"\bwieder (im buro|im buero|erreichbar|da)\b",
    r"\bkeinen zugriff\b",
    r"\babsente?\b",
    r"\ben conge\b",
    r"\bde retour\b",
    r"\ben deplacement\b",
    r"\bacces limite\b",
    r"\bfuera de la oficina\b",
    r"\bde vacaciones\b",
    r"\ba mi regreso\b",
    r"\bacceso limitado\b",
    r"\bfuori (ufficio|sede)\b",
)
LEFT_COMPANY = _rx(r"\bno longer (work|with|at|employed)", r"\bi (have )?left\b", r"\bnicht mehr (bei|im unternehmen)")
REFERRAL = _rx(
    r"\b(not|isn t|wasn t) (the )?(right|best|correct) (person|contact|one)\b",
    r"\bwrong (person|contact)\b",
    r"\bnot (my|the) (department|area|remit|call)\b",
    r"\bnot the one who\b",
    r"\b(speak|talk|reach out|get in touch)\b.{0,10}\b(to|with)\b",
    r"\b(best|right) (person|contact)\b",
    r"\bwould be (\w+ ){1,2}s (area|call|department)\b",
    r"\b(is|would be) the (right|best|correct) (person|contact)\b",
    r"\bcc ?d\b",
    r"\bforward\w*\b.{0,15}\bto\b",
    r"\blooks after\b",
    r"\btook over\b",
    r"\bin charge of\b",
    r"\b(handles|owns|decides on|runs) (this|these|our)\b",
    r"\bpitches go to\b",
    r"\bsend it there\b",
    r"\bplease (contact|reach out to|email|try)\b",
    r"\btry \w+ \(",
    r"\bzustandig\b",
    r"\bansprechpartner",
    r"\bpas la bonne personne\b",
    r"\bcontactez plutot\b",
    r"\bno soy la persona\b",
    r"\bcontacta a\b",
)
# Scored intents: (pattern, weight). Negations are folded into the not_* patterns.
SCORED: dict[Intent, tuple[tuple[re.Pattern[str], float], ...]] = {
    "not_interested": (
        (
            _rx(
                r"\bnot interested\b",
                r"\bno thanks?\b",
                r"\bno thank you\b",
                r"\bthanks but no\b",
                r"\bkein interesse\b",
                r"\bnon merci\b",
                r"\bne nous interesse pas\b",
                r"\bno nos interesa\b",
                r"\bno me interesa\b",
            ),
            3.0,
        ),
        (
            _rx(
                r"\bwe re (good|all set|fine)\b",
                r"\ball set\b",
                r"\bnot for us\b",
                r"\bi ll pass\b",
                r"^\W*pass\b",
                r"\bwon t be needing\b",
                r"\bdon t need\b",
                r"\b(not|isn t) (a )?(good )?(fit|something we d consider)\b",
                r"\bnot looking for\b",
                r"\bdecided not to\b",
                r"\bnot in the market\b",
                r"\bdo (this|it) ourselves\b",
                r"\bnope\b",
                r"\bdon t follow up\b",
                r"\bno need\b",
            ),
            2.0,
        ),
    ),
    "not_now": (
        (
            _rx(
                r"\bnot (right )?now\b",
                r"\bmaybe later\b",
                r"\bnot (a priority|this (year|quarter))\b",
                r"\b(next|following) (quarter|year)\b",
                r"\bin (a few|a couple of|\d+|six|three) months\b",
                r"\b(circle|check|reach out|come) back\b",
                r"\b(try|ping|ask) me (again )?(in|after|later)\b",
                r"\breach out again\b",
                r"\brevisit\b",
                r"\bbad timing\b",
                r"\btiming (isn t|is not) right\b",
                r"\bafter the summer\b",
                r"\bdown the road\b",
                r"\blater (in|this) (the )?year\b",
                r"\bfollow up in\b",
                r"\b(again|back) in (january|february|march|april|may|june|july|august|september"
                r"|october|november|december)\b",
                r"\btoo busy\b",
                r"\bnext[- ]quarter\b",
                r"\baktuell\b.{0,30}\bkein\b",
                r"\bim (herbst|fruhjahr|sommer)\b",
                r"\bnachstes quartal\b",
                r"\bpasst es (zeitlich )?nicht\b",
                r"\bpas pour le moment\b",
                r"\brecontactez\b",
                r"\bahora mismo no\b",
                r"\bproximo trimestre\b",
                r"\bde nuevo\b",
            ),
            3.0,
        ),
        # "on our list for Q2" is as often interest as a deferral: a weak hint only.
        (_rx(r"\bq[1-4]\b"), 1.5),
    ),
    "objection": (
        (
            _rx(
                r"\balready (work|have|use|pay|got)\b",
                r"\b(too )?expensive\b",
                r"\b(no|don t have|haven t got) (the )?budget\b",
                r"\bworried\b",
                r"\bconcern",
                r"\btried\b.{0,40}\b(before|last year|disaster)\b",
                r"\bwhy would (we|yours|it|i)\b",
                r"\bwhat makes you (any )?different\b",
                r"\bhappy with (our|them|the)\b",
                r"\bfairly happy\b",
                r"\bwon t approve\b",
                r"\blocked us\b",
                r"\b(don t|doesn t) (think|see)\b",
                r"\bsecurity\b",
                r"\bdon t have time\b",
                r"\bstretched\b.{0,20}\bdon t\b",
                r"\bdoubt",
                r"\bmargins\b",
                r"\bhuman\b",
                r"\bpays? (for )?it(self)? off\b",
                r"\bwhat s in it for\b",
                r"\bon top\b",
                r"\bzufrieden\b",
                r"\bbereits\b",
                r"\btrop cher\b",
                r"\bdeja un\b",
                r"\bpas le budget\b",
                r"\bya trabajamos\b",
                r"\bcontentos\b",
                r"\bdemasiado caro\b",
            ),
            2.0,
        ),
    ),
    "interested": (
        (
            _rx(
                r"\blet s (talk|do it|chat|set|book|schedule)\b",
                r"\b(book|schedule|set up|grab)\b.{0,25}\b(call|chat|demo|slot|time|meeting)\b",
                r"\bcalend(ly|ar)\b",
                r"\bcal com\b",
                r"\bdemo\b",
                r"\b(jump|hop) on a call\b",
                r"\b(happy|keen|love|up for|open) to\b.{0,20}\b(call|chat|talk|learn|see)\b",
                r"\bsounds good\b",
                r"\bnext step",
                r"\b(times?|slots?) (work|for)\b",
                r"\bavailability\b",
                r"\bwhen are you free\b",
                r"\bcount me in\b",
                r"\b(i m|we re|i am) (intrested|interested|keen)\b",
                r"\bi d be up for\b",
                r"\bmy number is\b",
                r"\bcall me\b",
                r"\btell me more\b",
                r"\bpilot\b",
                r"\bcan you do\b",
                r"\b(could|can) we (set up|talk|do|chat)\b",
                r"\bsounds (relevant|interesting|useful|promising)\b",
                r"\blooks promising\b",
                r"\bwould be keen\b",
                r"\bworks for me\b",
                r"\b(tuesday|wednesday|thursday|friday|monday)\b.{0,20}\b(works|after|at|\d)",
                r"\bgerne\b",
                r"\btermin",
                r"\btelefonieren\b",
                r"\bca m interesse\b",
                r"\bappel\b",
                r"\bsi me interesa\b",
                r"\bhablar\b",
                r"\bllamada\b",
                r"^\W*(yes|yeah|sure|absolutely|ok)\b",
            ),
            2.5,
        ),
    ),
    "question": (
        (_rx(r"\?"), 1.0),
        (
            _rx(
                r"\b(how much|what does|how long|how is|how does|do you|does it|is there|is this|can you (send|share)"
                r"|where is|who else|which|what kind|what exactly|any references)\b",
                r"\bpricing\b",
                r"\bcost\b",
                r"\bcase stud",
                r"\bone[- ]pager\b",
                r"\bdeck\b",
                r"\bquick q\b",
                r"\bwie (lange|viel)\b",
                r"\bkostet\b",
                r"\bquel\b",
                r"\btarif\b",
                r"\bcuanto\b",
                r"\bcasos de exito\b",
                r"\bfree trial\b",
            ),
            1.5,
        ),
    ),
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NAME = r"((?:(?:frau|herr|dr|mr|mrs|ms)\.? )?[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+){0,2})"
_NAME_CUES = re.compile(
    rf"(?:speak with|talk to|talk with|contact|contacta a|contactez plutôt|try|cc'd|cc\u2019d|forwarding to|"
    rf"reach out to|with)\s+{_NAME}|{_NAME}\s*(?:\(|,|-|is the|would be|who|'s area|leads|took over|ist|zuständig|:)",
)
_CUE_WORDS = {"Try", "Contact", "Ask", "Email", "Call"}
_NOT_NAMES = {"Hi", "Hey", "Hello", "Best", "Please", "Thanks", "Interesting", "I", "I'm", "Not", "You", "The",
              "Dafür", "Je", "No", "Vendor", "Michael's"}  # fmt: skip


def classify(text: str, *, received: dt.date, auto: bool = False) -> Classification:
    """The intent of a reply's visible text; ``auto`` when its headers say a machine wrote it."""
    folded = _flatten(fold(text))
    if hit := _first(BOUNCE, folded):
        return Classification("bounce", 0.9, (f"bounce:{hit}",))
    # An auto-reply is never a person's opt-out or interest: only bounce, OOO or "I left" remain.
    if not auto and (hit := _first(UNSUBSCRIBE, folded)) and not _only_about_optout(folded):
        return Classification("unsubscribe", 0.95, (f"unsubscribe:{hit}",))
    left = _first(LEFT_COMPANY, folded)
    ooo = _first(OUT_OF_OFFICE, folded)
    referral = _referral(text)
    if left and referral and (referral.name or not _role_address(referral.email)):
        return Classification("referral", 0.8, (f"left:{left}",), referral=referral)
    if ooo or left or auto:
        reasons = tuple(reason for reason in (f"ooo:{ooo}" if ooo else "", f"left:{left}" if left else "",
                                              "auto-reply headers" if auto else "") if reason)  # fmt: skip
        return Classification(
            "out_of_office", 0.9 if ooo else 0.6, reasons,
            return_date=return_date(text, received=received), referral=referral if left else None,
        )  # fmt: skip
    if (hit := _first(REFERRAL, folded)) and (referral or "right person" in folded or "wrong person" in folded):
        return Classification("referral", 0.8, (f"referral:{hit}",), referral=referral or Referral())
    return _scored(folded)


def _scored(folded: str) -> Classification:
    scores: dict[Intent, float] = {}
    reasons: list[str] = []
    for intent, rules in SCORED.items():
        for pattern, weight in rules:
            if hit := _first(pattern, folded):
                scores[intent] = scores.get(intent, 0.0) + weight
                reasons.append(f"{intent}:{hit}")
    # "Not interested in X but Y sounds useful, can we talk" is interest in Y.
    if "interested" in scores and "not_interested" in scores and re.search(r"\bbut\b", folded):
        scores["not_interested"] -= 2.0
    if not scores or max(scores.values()) <= 0:
        # Nothing recognised: a person wrote something we must read; a question routes it to a human.
        return Classification("question", 0.3, ("fallback",))
    ranked = sorted(scores.items(), key=lambda item: (-item[1], INTENTS.index(item[0])))
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = round(min(0.9, 0.5 + 0.1 * (score - runner_up)), 2)
    return Classification(best, confidence, tuple(reasons))


def _referral(text: str) -> Referral | None:
    """The person the writer points us to: an address in their words, and a name near it."""
    emails = [email.lower() for email in _EMAIL.findall(text)]
    name = ""
    for match in _NAME_CUES.finditer(text):
        words = next((group for group in match.groups() if group), "").split()
        while words and words[0] in _CUE_WORDS:  # "Try Michael (michael@...)" names Michael
            words.pop(0)
        candidate = " ".join(words)
        if candidate and words[0] not in _NOT_NAMES:
            name = candidate
            break
    if not emails and not name:
        return None
    email = emails[0] if emails else ""
    if email and not name:
        local = email.split("@")[0]
        if "." in local and local.replace(".", "").isalpha():  # jennifer.walker@ -> Jennifer Walker
            name = " ".join(part.capitalize() for part in local.split("."))
    return Referral(name=name, email=email)


_ROLE_MAILBOXES = {"info", "office", "support", "sales", "hello", "contact", "admin", "reception", "enquiries"}


def _role_address(email: str) -> bool:
    """info@, office@...: where a departed person's auto-reply sends everyone, not a person to refer to."""
    return email.split("@")[0] in _ROLE_MAILBOXES


def _only_about_optout(folded: str) -> bool:
    """True when every opt-out phrase is talk about opting out, not a request: "how do you handle unsubscribes"."""
    stripped = NOT_UNSUBSCRIBE.sub(" ", folded)
    return not UNSUBSCRIBE.search(stripped)


def _flatten(folded: str) -> str:
    # "Remove. Me. From. Your. List." and "don't" / "don\u2019t" read alike.
    text = re.sub("['\u2019`]", " ", folded)
    text = re.sub(r"[^\w?@\s]", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(0).strip()[:40] if match else ""
