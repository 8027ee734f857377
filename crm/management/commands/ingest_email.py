"""`manage.py ingest_email PATH...`: record saved emails (.eml files or .mbox mailboxes) as replies.

Each message goes the one path of crm.services.ingest (the admin upload and the Gmail poll take it
too): read by crm.services.replies (thread keys, visible text, bounce or auto-reply) and recorded
by email_response_handler, the path a webhook's reply takes: the thread is joined, the intent
classified, the lead and the sequence updated. A bounce names the failed recipient and whether it
was hard or soft. Run twice, it records nothing twice (keyed by Message-ID).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.services import ingest


class Command(BaseCommand):
    help = "Record .eml files or .mbox mailboxes as inbound replies (thread, visible text, intent, bounces)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help=".eml files or .mbox mailboxes")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in options["paths"]:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file")
            for number, raw in enumerate(ingest.messages_in_file(path), start=1):
                try:
                    done = ingest.ingest_now(raw)
                except ingest.BadEmail as exc:
                    # One unreadable message in a mailbox does not stop the others; it is named.
                    self.stderr.write(f"{name} message {number}: {exc}")
                    continue
                self.stdout.write(done.line())
