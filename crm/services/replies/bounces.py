"""Bounces: which recipients failed, and whether for good (5.x.x) or for now (4.x.x).

An RFC 3464 delivery status notification is read field by field (Final-Recipient, Action, Status,
Diagnostic-Code); the many servers that send something else are left to flufl.bounce, whose
detectors know their formats. A hard bounce suppresses the address; a soft one only delays it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from typing import Literal

from flufl.bounce import all_failures

Kind = Literal["hard", "soft"]
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (subsystem|system)", re.IGNORECASE)


@dataclass(frozen=True)
class FailedRecipient:
    address: str
    kind: Kind
    status: str = ""  # enhanced status code, e.g. "5.1.1"
    action: str = ""  # failed | delayed
    diagnostic: str = ""


@dataclass(frozen=True)
class Bounce:
    failures: tuple[FailedRecipient, ...]
    original_message_id: str = ""  # our Message-ID, from the returned headers: the thread key

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(failure.address for failure in self.failures)

    @property
    def kind(self) -> Kind:
        """Hard when any recipient failed for good: that address must be suppressed."""
        return "hard" if any(failure.kind == "hard" for failure in self.failures) else "soft"


def parse_bounce(message: Message) -> Bounce | None:
    """The failures a bounce reports, or None when the message is not a bounce."""
    failures = dsn_failures(message) or _heuristic_failures(message)
    return Bounce(failures, original_message_id(message)) if failures else None


def original_message_id(message: Message) -> str:
    """The Message-ID of the email that bounced: a bounce carries no In-Reply-To, only a copy of it."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload() or []:
                if isinstance(block, Message) and block.get("X-Original-Message-ID"):
                    return _msgid(block["X-Original-Message-ID"])
        elif content_type in {"message/rfc822", "text/rfc822-headers"}:
            payload = part.get_payload()
            if isinstance(payload, list):  # message/rfc822: the returned message itself
                returned = payload[0] if payload else None
                payload = returned.get("Message-ID", "") if isinstance(returned, Message) else ""
            found = _msgid(payload)
            if found:
                return found
    return ""


def _msgid(value: object) -> str:
    """A Message-ID from a header value, or from the Message-ID line of a block of returned headers."""
    text = str(value or "")
    line = re.search(r"^message-id:\s*(<[^<>\s]+>)", text, re.IGNORECASE | re.MULTILINE)
    if line:
        return line.group(1)
    match = _MSGID.search(text)
    return match.group(0) if match else ""


def dsn_failures(message: Message) -> tuple[FailedRecipient, ...]:
    """Per-recipient failed/delayed entries of a multipart/report; delivered ones are not failures."""
    found: list[FailedRecipient] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The parser gives the status part as blocks of header fields: the per-message block
        # first, then one per recipient.
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if not isinstance(block, Message):
                continue
            failure = _recipient_failure(block)
            if failure:
                found.append(failure)
    return tuple(found)


def _recipient_failure(block: Message) -> FailedRecipient | None:
    recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
    action = str(block.get("Action", "")).strip().lower()
    if not recipient or action not in {"failed", "delayed"}:
        return None
    address = recipient.partition(";")[2].strip() or recipient.strip()  # "rfc822; a@b.c"
    status = str(block.get("Status", "")).strip()
    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
    # RFC 3464: "failed" with a 5.x.x status is permanent; "delayed" or 4.x.x will be retried.
    kind: Kind = "hard" if action == "failed" and not status.startswith("4") else "soft"
    return FailedRecipient(address.strip("<>").lower(), kind, status, action, diagnostic)


def _heuristic_failures(message: Message) -> tuple[FailedRecipient, ...]:
    # flufl.bounce was written against the compat32 Message API; give it that view of the bytes.
    legacy = message_from_bytes(message.as_bytes())
    temporary, permanent = all_failures(legacy)
    status = _status_in(message)
    failures = [
        FailedRecipient(address.decode("utf-8", "replace").lower(), "hard", status, "failed")
        for address in sorted(permanent)
    ]
    failures += [
        FailedRecipient(address.decode("utf-8", "replace").lower(), "soft", status, "delayed")
        for address in sorted(temporary - permanent)
    ]
    return tuple(failures)


def looks_like_bounce(message: Message) -> bool:
    """A bounce we could not read recipients from still must not be taken for a person's reply."""
    sender = str(message.get("From", ""))
    return bool(_BOUNCE_SENDER.search(sender)) or message.get_content_type() == "multipart/report"


def _status_in(message: Message) -> str:
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found = _STATUS.search(payload.decode("utf-8", "replace"))
                if found:
                    return found.group(0)
    return ""
