"""Is this message written by a machine? RFC 3834 headers first, the subject line only after.

An auto-reply must never be answered (mail loops) and never be read as a person's intent: an
out-of-office that quotes our footer is not an opt-out. Headers are what the sending software
states about itself, so they are trusted before any guess from the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from typing import Literal

Source = Literal["header", "subject"]

# Precedence values that mean "sent by software" (RFC 3834 section 3.1.8 and long practice);
# "list" is a mailing list, which a person may still have written.
_PRECEDENCE = {"auto_reply", "bulk", "junk"}
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(?:matic)?[- ]?(?:reply|response)|out of (?:the )?office|ooo\b|away:|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence|"
    r"respuesta autom[áa]tica|fuera de la oficina|risposta automatica|automatisch antwoord)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AutoReply:
    source: Source
    reason: str  # the header or subject that said so, for the audit trail


def detect_auto_reply(message: Message) -> AutoReply | None:
    header = auto_reply_header(message)
    if header:
        return AutoReply("header", header)
    subject = str(message.get("Subject", ""))
    if _AUTO_SUBJECT.match(subject):
        return AutoReply("subject", f"Subject: {subject.strip()[:80]}")
    return None


def auto_reply_header(message: Message) -> str:
    """The header that marks the message as automatic, or "" when none does."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    # RFC 3834: any value but "no" (auto-replied, auto-generated, auto-notified...) is automatic.
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        value = str(message.get(name, "")).strip()
        if value and value.lower() not in {"no", "false", "0"}:
            return f"{name}: {value}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in _PRECEDENCE:
        return f"Precedence: {precedence}"
    # Exchange stamps its own automatic answers (OOF, receipts) with this header.
    suppress = str(message.get("X-Auto-Response-Suppress", "")).strip()
    if suppress:
        return f"X-Auto-Response-Suppress: {suppress}"
    return ""
