"""What a campaign email says: its variables, the rendered text, the footer, and the grounding check.

ARCHITECTURE.md, Grounding: a claim about the recipient or their company may reach them only when it
cites a stored, sourced finding. Personalisation stores each such sentence with the claims it cites
(``enrollment.variables["grounding"]``); the sender checks them again against the findings as they
are stored at the moment of sending, and refuses a message with an uncited claim or a ``{{ variable }}``
left unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm.models import AgencyProfile, Lead
from crm.services.findings import Finding

VARIABLE = re.compile(r"{{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*}}")
# What any template may use: the lead's identity, the sender's, and personalisation's cited line.
IDENTITY_VARIABLES = frozenset({"first_name", "last_name", "company", "title", "sender_name", "sender_title", "agency"})
PERSONAL_VARIABLES = frozenset({"first_line"})
KNOWN_VARIABLES = IDENTITY_VARIABLES | PERSONAL_VARIABLES
# Words that carry no fact: a cited sentence may wrap its claim in them.
_FILLER_WORDS = (
    "i we you your yours saw read noticed see seen that the a an at on in of and to is was were are has have had "
    "it its it's with for from about by as this congrats congratulations just came across how"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_WORD = re.compile(r"[a-z0-9$%]+")
SUPPORT_SHARE = 0.8


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    unresolved: tuple[str, ...]


def variables_for(lead: Lead, agency: AgencyProfile, personal: Mapping[str, Any]) -> dict[str, str]:
    """The values a template may use; blanks stay out, so a missing one shows as unresolved."""
    values = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company.name if lead.company else "",
        "title": lead.title,
        "sender_name": agency.sender_name,
        "sender_title": agency.sender_title,
        "agency": agency.name,
    }
    found = {k: v.strip() for k, v in values.items() if v and v.strip()}
    if "first_line" in personal:  # personalisation ran: no citable fact reads as no line at all
        found["first_line"] = str(personal.get("first_line") or "").strip()
    return found


def render_text(template: str, values: Mapping[str, str]) -> str:
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def unresolved(text: str) -> list[str]:
    return sorted({m.group(1) for m in VARIABLE.finditer(text)})


def render(subject: str, body: str, values: Mapping[str, str]) -> Rendered:
    s, b = render_text(subject, values), render_text(body, values)
    # A blank line where an empty first line was: no double gap.
    b = re.sub(r"\n{3,}", "\n\n", b).strip()
    return Rendered(subject=s.strip(), body=b, unresolved=tuple(unresolved(s + "\n" + b)))


def footer(agency: AgencyProfile, unsubscribe_link: str) -> str:
    """CAN-SPAM: who sends, the agency's postal address, and a working way out."""
    sender = ", ".join(x for x in (agency.sender_name, agency.sender_title, agency.name) if x)
    return f"\n\n--\n{sender}\n{agency.postal_address.strip()}\nNot interested? Unsubscribe: {unsubscribe_link}"


def with_footer(body: str, agency: AgencyProfile, unsubscribe_link: str) -> str:
    return body + footer(agency, unsubscribe_link)


# --- grounding ------------------------------------------------------------------------------------


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _FILLER}


def supported_by(sentence: str, claims: Iterable[str]) -> bool:
    """Whether the sentence says no more than the claims it cites (a paraphrase passes; a fact
    that none of them holds, a funding round, a number, does not)."""
    words = _content_words(sentence)
    if not words:
        return True
    seen: set[str] = set()
    for claim in claims:
        seen |= set(_WORD.findall(claim.lower()))
    return len(words & seen) / len(words) >= SUPPORT_SHARE


def grounding_problem(personal: Mapping[str, Any], findings: Iterable[Finding]) -> str | None:
    """Why the personal variables may not be sent (None: every claim cites a stored, sourced finding)."""
    stored = {f.claim.strip().lower(): f for f in findings}
    line = str(personal.get("first_line") or "").strip()
    if not line:
        return None
    entries = personal.get("grounding")
    if not isinstance(entries, list) or not entries:
        return "the first line makes a claim that cites no finding"
    cited: list[str] = []
    for entry in entries:
        cites = entry.get("cites") if isinstance(entry, Mapping) else None
        if not isinstance(cites, list) or not cites:
            return "a sentence of the first line cites no finding"
        for claim in cites:
            if str(claim).strip().lower() not in stored:
                return f"the first line cites {str(claim)[:80]!r}, which is not a stored, sourced finding"
            cited.append(str(claim))
    if not supported_by(line, cited):
        return "the first line says more than the findings it cites"
    return None
