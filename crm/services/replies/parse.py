"""Reading an inbound email: who wrote it, what it answers, and what they actually wrote.

Everything here is a pure function of the raw RFC 5322 bytes, so the webhook handler, the IMAP
ingest command and the tests all see the same parse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from mailparser_reply import EmailReplyParser

# The reply parser needs the languages whose "On ... wrote:" headers and sign-offs it should know.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_MSGID = re.compile(r"<[^<>\s]+>")
# A References header names the whole thread, and a sender writes what it likes there: kept are
# the first id (the thread's root: our first email of a sequence) and the newest (the answered
# message and its parents), as RFC 5322's threading keeps a long thread's header short. Without a
# cap a crafted header of tens of thousands of ids became one IN list past the database's bound.
MAX_REFERENCES = 50


def trim_references(references: Sequence[str]) -> tuple[str, ...]:
    refs = tuple(references)
    return refs if len(refs) <= MAX_REFERENCES else (refs[0], *refs[-(MAX_REFERENCES - 1) :])


_QUOTED_LINE = re.compile(r"^\s*>")
# Client headers the reply parser misses (Spanish Gmail puts the address in parentheses; some
# clients write "-----Original Message-----"); the reply ends where one of these begins.
_QUOTE_STARTS = re.compile(
    r"^(?:-{2,}\s*(?:original message|urspr.ngliche nachricht|message d.origine|mensaje original)\s*-{2,}"
    r"|_{10,}"
    r"|(?:on|am|le|el) .{5,120}(?:wrote|schrieb|a .crit|escribi.)\s*:?"
    r"|from:\s.+@.+"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)

_VALEDICTION = re.compile(
    r"^(best|regards|rgds|kind regards|best regards|warm regards|cheers|thanks|thank you|thx|many thanks|"
    r"mfg|mit freundlichen gr(ü|ue)(ß|ss)en|viele gr(ü|ue)(ß|ss)e|beste gr(ü|ue)(ß|ss)e|gru(ß|ss)|"
    r"cordialement|bien (à|a) vous|merci|saludos|un saludo|atentamente|cordiali saluti|met vriendelijke groet)"
    r"[,.!]?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedReply:
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    sender: str  # lower-cased address
    sender_name: str
    subject: str
    date: dt.datetime | None
    body: str  # the whole plain-text body, quotes included
    reply_text: str  # what the sender wrote now: no quoted history, no signature

    @property
    def thread_keys(self) -> tuple[str, ...]:
        """Message-IDs to look our sent Message up by, best first.

        In-Reply-To names the message answered; References lists the thread oldest first, so its
        newest ids follow. Clients that drop In-Reply-To (some webmail, forwarded replies) still
        keep References, and the oldest id is our first email of the sequence.
        """
        keys = [self.in_reply_to, *reversed(self.references)] if self.in_reply_to else [*reversed(self.references)]
        return tuple(dict.fromkeys(key for key in keys if key))


def read_message(raw: bytes) -> EmailMessage:
    """policy.default gives decoded headers (RFC 2047) and str bodies; a broken message still parses."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default always builds EmailMessage
    return message


def parse_reply(message: EmailMessage) -> ParsedReply:
    body = plain_text(message)
    name, address = parseaddr(str(message.get("From", "")))
    return ParsedReply(
        message_id=_first_msgid(message.get("Message-ID")),
        in_reply_to=_first_msgid(message.get("In-Reply-To")),
        references=trim_references(_MSGID.findall(str(message.get("References", "")))),
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=str(message.get("Subject", "")).strip(),
        date=_date(message),
        body=body,
        reply_text=visible_text(body),
    )


def plain_text(message: Message) -> str:
    """The text/plain body, or the HTML body reduced to text when a client sends only HTML."""
    if not isinstance(message, EmailMessage):
        return ""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return _html_to_text(content) if part.get_content_subtype() == "html" else content


def visible_text(body: str) -> str:
    """The newest reply only: quoted history and signature removed.

    The quoted history holds our own email, whose footer says "unsubscribe": classifying it would
    turn every reply into an opt-out, so the cut must be made before any intent rule runs.
    """
    text = body.replace("\r\n", "\n")
    cut = _QUOTE_STARTS.search(text)
    if cut:
        text = text[: cut.start()]
    parsed = EmailReplyParser(languages=list(REPLY_LANGUAGES)).read(text)
    reply = parsed.replies[0].body if parsed.replies else text
    lines = [line for line in reply.splitlines() if not _QUOTED_LINE.match(line)]
    return "\n".join(_without_sign_off(lines)).strip()


def _without_sign_off(lines: list[str]) -> list[str]:
    """Drop a sign-off the reply parser missed ("Rgds,", a name, a title and a phone number).

    Only a short tail after a valediction goes, so a reply that merely starts with "Thanks" stays.
    """
    for index in range(len(lines) - 1, 0, -1):
        if _VALEDICTION.match(lines[index].strip()) and len(lines) - index <= 8:
            return lines[:index]
    return lines


def recipients(message: EmailMessage, header: str = "To") -> list[str]:
    return [address.lower() for _, address in getaddresses(message.get_all(header, [])) if address]


def _first_msgid(value: object) -> str:
    found = _MSGID.search(str(value or ""))
    return found.group(0) if found else ""


def _date(message: EmailMessage) -> dt.datetime | None:
    try:
        value = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)


def _html_to_text(html: str) -> str:
    """Enough HTML-to-text for a reply: line breaks kept, tags dropped, entities decoded."""
    import html as html_module

    text = _BLOCK.sub("\n", html)
    text = re.sub(r"<blockquote\b.*?</blockquote>", "\n", text, flags=re.IGNORECASE | re.DOTALL)
    return html_module.unescape(_TAG.sub("", text))
