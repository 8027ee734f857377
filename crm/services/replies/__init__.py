"""Reply understanding: what an inbound email is and what its writer wants, with no model call.

`understand(raw)` runs the pieces in the order that keeps us safe: a bounce is read as a bounce,
an auto-reply by its RFC 3834 headers, and only then are a person's words classified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crm.services.replies.auto import AutoReply, detect_auto_reply
from crm.services.replies.bounces import Bounce, looks_like_bounce, parse_bounce
from crm.services.replies.classify import Classification, classify
from crm.services.replies.parse import ParsedReply, parse_reply, read_message

__all__ = ["Understanding", "understand"]


@dataclass(frozen=True)
class Understanding:
    reply: ParsedReply
    auto: AutoReply | None
    bounce: Bounce | None
    classification: Classification

    @property
    def thread_keys(self) -> tuple[str, ...]:
        """Message-IDs of ours this message answers; a bounce names the message it returns."""
        if self.bounce and self.bounce.original_message_id:
            return (self.bounce.original_message_id, *self.reply.thread_keys)
        return self.reply.thread_keys


def understand(raw: bytes, *, received: dt.date | None = None) -> Understanding:
    """``received`` anchors dates without a year; it defaults to the message's own Date header."""
    message = read_message(raw)
    reply = parse_reply(message)
    day = received or (reply.date.date() if reply.date else None)
    if day is None:
        from smarter_team import clock  # only when the message carries no usable date

        day = clock.now().date()
    bounce = parse_bounce(message)
    auto = detect_auto_reply(message)
    if bounce or looks_like_bounce(message):
        verdict = Classification("bounce", 0.95 if bounce else 0.7, ("delivery status report",))
    else:
        verdict = classify(reply.reply_text or reply.subject, received=day, auto=auto is not None)
    return Understanding(reply=reply, auto=auto, bounce=bounce, classification=verdict)
