"""Raw emails into email_response_handler: one path for `manage.py ingest_email`, the admin upload
and the Gmail inbox poll.

A raw message (RFC 5322 bytes) is checked (an email at all, in an encoding we can read), read by
crm.services.replies (thread keys, visible text, bounce or auto-reply) and turned into the handler's
input, the shape the Instantly webhook's reply takes; the handler run is keyed by the message's
identity, so the same message fed twice, by any of the three carriers, is recorded once.
"""

from __future__ import annotations

import mailbox
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm.agents.response.handler import InboundEmail
from crm.models import Message
from crm.services.replies import Understanding, understand
from crm.services.replies.parse import read_message, recipients

if TYPE_CHECKING:
    from agents.models import AgentRun

HANDLER = "email_response_handler"
# An upload is a few saved emails or one exported mailbox; more than this is a job for the command.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# RFC 5322 §2.1.1: a line is at most 998 characters; a header block far beyond that is not an email.
_MAX_HEADER_BLOCK = 256 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class BadEmail(ValueError):
    """Bytes that are not an email we can read; the message says what is wrong in the operator's words."""


@dataclass(frozen=True)
class Prepared:
    """A raw message read and ready for the handler."""

    email: InboundEmail
    seen: Understanding


@dataclass(frozen=True)
class Ingested:
    """What happened to one message: what an operator is shown per message."""

    message_id: str
    status: str
    kind: str
    intent: str
    visible_text: str
    thread: str
    bounce_recipient: str = ""
    bounce_type: str = ""
    record_id: int | None = None
    note: str = ""

    def line(self) -> str:
        line = f"{self.message_id or '(no Message-ID)'}: {self.status}"
        if self.kind == "bounce":
            line += f", bounce {self.bounce_type} for {self.bounce_recipient or '(unknown recipient)'}"
        line += f", intent {self.intent}"
        if self.record_id:
            line += f", message #{self.record_id}"
        if self.thread:
            line += f", {self.thread}"
        if self.note:
            line += f" ({self.note})"
        return line


# --- reading files ------------------------------------------------------------------------------


def is_mbox(data: bytes, name: str = "") -> bool:
    return name.lower().endswith(".mbox") or data[:5] == b"From "


def messages_in_file(path: Path) -> Iterator[bytes]:
    """The raw messages of an .eml file or an mbox mailbox on disk."""
    head = path.open("rb").read(5)
    if path.suffix.lower() == ".mbox" or head == b"From ":
        box = mailbox.mbox(str(path), create=False)
        try:
            for key in box.iterkeys():
                yield box.get_bytes(key)
        finally:
            box.close()
    else:
        yield path.read_bytes()


def messages_in_bytes(data: bytes, *, name: str = "") -> list[bytes]:
    """The raw messages of an uploaded file's bytes (the mailbox module reads mbox from a path only)."""
    if not is_mbox(data, name):
        return [data]
    with tempfile.NamedTemporaryFile(suffix=".mbox") as spool:
        spool.write(data)
        spool.flush()
        return list(messages_in_file(Path(spool.name)))


@contextmanager
def _not_too_deep() -> Iterator[None]:
    """The stdlib's parser recurses once per nested part: hundreds of multiparts inside each other
    (no mail client writes that; a crafted message does) would crash the poll or the upload with a
    RecursionError instead of being refused."""
    try:
        yield
    except RecursionError:
        raise BadEmail("not an email we can read: its MIME parts nest hundreds deep") from None


def check_raw(raw: bytes) -> EmailMessage:
    """The parsed message, or BadEmail saying why these bytes are not an email we can read."""
    with _not_too_deep():
        return _check_raw(raw)


def _check_raw(raw: bytes) -> EmailMessage:
    if not raw.strip():
        raise BadEmail("not an email: the message is empty")
    if raw.startswith(_UTF16_BOMS) or b"\x00" in raw[:_MAX_HEADER_BLOCK]:
        raise BadEmail(
            "wrong encoding: the file is UTF-16 or binary; an email is saved as 7- or 8-bit text (RFC 5322), "
            "as mail clients export .eml and .mbox"
        )
    header_end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    try:
        raw[:header_end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadEmail(
            f"wrong encoding: the headers are not ASCII or UTF-8 (byte {exc.start}); "
            "non-ASCII header text must be encoded as RFC 2047 words"
        ) from None
    message = read_message(raw)
    if not any(address for address in recipients(message, "From")):
        raise BadEmail("not an email: no From header with an address")
    if not (message.get("Date") or message.get("Message-ID") or message.get("Received")):
        raise BadEmail("not an email: neither Date, Message-ID nor Received header")
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            part.get_content()
        except LookupError:
            raise BadEmail(f"wrong encoding: unknown charset {part.get_content_charset()!r}") from None
    return message


def check_file(data: bytes, *, name: str = "") -> list[Prepared]:
    """Every message of an uploaded .eml or .mbox, each read whole; BadEmail (naming the message) if any fails."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadEmail(f"too big: {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} per upload")
    if not data.strip():
        raise BadEmail("not an email: the file is empty")
    try:
        raws = messages_in_bytes(data, name=name)
    except (OSError, mailbox.Error) as exc:
        raise BadEmail(f"not a mailbox: {exc}") from None
    if not raws:
        raise BadEmail("not an email: the mailbox holds no message")
    prepared = []
    for number, raw in enumerate(raws, start=1):
        try:
            # Read whole here, before anything is recorded: what would fail the recording refuses the file.
            prepared.append(prepare(raw))
        except BadEmail as exc:
            raise BadEmail(f"message {number} of {len(raws)}: {exc}" if len(raws) > 1 else str(exc)) from None
    return prepared


# --- into the handler ---------------------------------------------------------------------------


def inbound_email(raw: bytes, seen: Understanding) -> InboundEmail:
    """The handler's input for a raw message: a bounce names its failed recipient, a reply its sender."""
    reply, bounce = seen.reply, seen.bounce
    to = recipients(read_message(raw))
    common: dict[str, Any] = {
        "message_id": reply.message_id,
        "subject": reply.subject,
        "mailbox": to[0] if to else "",
        "occurred_at": reply.date,
        "references": list(reply.references),
        "sender_name": reply.sender_name,
    }
    if seen.classification.intent == "bounce":
        return InboundEmail(
            kind="bounce",
            lead_email=bounce.recipients[0] if bounce and bounce.recipients else "",
            bounce_type=bounce.kind if bounce else "soft",
            in_reply_to=seen.thread_keys[0] if seen.thread_keys else "",
            text=reply.reply_text,
            **common,
        )
    return InboundEmail(
        kind="reply",
        lead_email=reply.sender,
        in_reply_to=reply.in_reply_to,
        text=reply.body,
        auto_reply=seen.auto is not None,
        **common,
    )


def prepare(raw: bytes) -> Prepared:
    """Check and read one raw message (BadEmail when it is not one)."""
    with _not_too_deep():
        check_raw(raw)
        seen = understand(raw)
        return Prepared(email=inbound_email(raw, seen), seen=seen)


def message_key(email: InboundEmail) -> str | None:
    """The handler run's key for a message fed by hand (command or upload): its Message-ID."""
    return f"ingest_email:{email.message_id}"[:200] if email.message_id else None


def start(
    email: InboundEmail, *, key: str | None, trigger: str, parent: AgentRun | None = None, enqueue: bool = True
) -> AgentRun:
    """The handler run for one message, inside the caller's transaction (published on commit)."""
    from agents.services.runs import start_run

    return start_run(
        agent_name=HANDLER,
        input=email.model_dump(mode="json"),
        trigger=trigger,
        idempotency_key=key,
        parent=parent,
        enqueue=enqueue,
    )


def ingest_now(raw: bytes) -> Ingested:
    """Record one raw message at once, in this process (the command)."""
    return record(prepare(raw))


def record(prepared: Prepared) -> Ingested:
    """Record one message already read (``prepare``; the admin upload read it when it checked the
    file), at once, in this process."""
    from agents import runtime
    from agents.models import AgentRun

    run = start(prepared.email, key=message_key(prepared.email), trigger=AgentRun.Trigger.MANUAL, enqueue=False)
    if run.status == AgentRun.Status.QUEUED:
        runtime.execute(run.pk)
        run.refresh_from_db()
    return outcome(prepared, status=run.status, output=run.output or {}, error=run.error or "")


def outcome(prepared: Prepared, *, status: str, output: dict[str, Any], error: str = "") -> Ingested:
    email, seen = prepared.email, prepared.seen
    record = (
        Message.objects.select_related("conversation__lead").filter(pk=output["message_id"]).first()
        if output.get("message_id")
        else None
    )
    if record is None and email.message_id:  # recorded by an earlier feed of the same message
        record = (
            Message.objects.select_related("conversation__lead")
            .filter(direction=Message.Direction.IN, provider_message_id=email.message_id[:255])
            .first()
        )
    return Ingested(
        message_id=email.message_id,
        status=status,
        kind=email.kind,
        intent=(record.intent if record else "") or output.get("intent") or seen.classification.intent,
        visible_text=record.body if record else seen.reply.reply_text,
        thread=_thread(record, email),
        bounce_recipient=email.lead_email if email.kind == "bounce" else "",
        bounce_type=(email.bounce_type or "soft") if email.kind == "bounce" else "",
        record_id=record.pk if record else None,
        note=str(output.get("note") or error)[:300],
    )


def _thread(record: Message | None, email: InboundEmail) -> str:
    if record is None:
        return "no thread (no lead has this address)" if email.lead_email else "no thread"
    conversation = record.conversation
    how = "answers our message" if _answers_ours(email) else "the lead's latest thread"
    return f"thread: conversation #{conversation.pk} with {conversation.lead.email or conversation.lead} ({how})"


def _answers_ours(email: InboundEmail) -> bool:
    keys = [k for k in (email.in_reply_to, *email.references) if k]
    return bool(keys) and Message.objects.filter(direction=Message.Direction.OUT, provider_message_id__in=keys).exists()
