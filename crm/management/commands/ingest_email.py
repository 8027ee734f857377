"""`manage.py ingest_email PATH...`: record saved emails (.eml files or .mbox mailboxes) as replies.

Each message is read by crm.services.replies (thread keys, visible text, bounce or auto-reply) and
recorded by email_response_handler, the path a webhook's reply takes: the thread is joined, the
intent classified, the lead and the sequence updated. A bounce names the failed recipient and
whether it was hard or soft. Run twice, it records nothing twice (keyed by Message-ID).
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents import runtime
from agents.models import AgentRun
from agents.services.runs import start_run
from crm.agents.response.handler import InboundEmail
from crm.services.replies import Understanding, understand
from crm.services.replies.parse import read_message, recipients


def messages(path: Path) -> Iterator[bytes]:
    """The raw messages of an .eml file or an mbox mailbox."""
    if path.suffix.lower() == ".mbox" or (path.is_file() and path.read_bytes()[:5] == b"From "):
        box = mailbox.mbox(str(path), create=False)
        try:
            for key in box.iterkeys():
                yield box.get_bytes(key)
        finally:
            box.close()
    else:
        yield path.read_bytes()


def inbound_email(raw: bytes, seen: Understanding) -> InboundEmail:
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


class Command(BaseCommand):
    help = "Record .eml files or .mbox mailboxes as inbound replies (thread, visible text, intent, bounces)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help=".eml files or .mbox mailboxes")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in options["paths"]:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file")
            for raw in messages(path):
                self.stdout.write(self.ingest(raw))

    def ingest(self, raw: bytes) -> str:
        seen = understand(raw)
        email = inbound_email(raw, seen)
        run = start_run(
            agent_name="email_response_handler",
            input=email.model_dump(mode="json"),
            trigger=AgentRun.Trigger.MANUAL,
            idempotency_key=f"ingest_email:{email.message_id}" if email.message_id else None,
            enqueue=False,
        )
        if run.status == AgentRun.Status.QUEUED:
            runtime.execute(run.pk)
            run.refresh_from_db()
        out = run.output or {}
        line = f"{email.message_id or '(no Message-ID)'}: {run.status}"
        if email.kind == "bounce":
            line += f", bounce {email.bounce_type} for {email.lead_email or '(unknown recipient)'}"
        line += f", intent {out.get('intent') or seen.classification.intent}"
        if out.get("message_id"):
            line += f", message #{out['message_id']}"
        if out.get("note"):
            line += f" ({out['note']})"
        return line
