"""manage.py ingest_email: saved emails recorded through email_response_handler's path."""

from __future__ import annotations

import mailbox
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from crm.models import Enrollment, Lead, Message
from crm.services.suppression import is_suppressed
from tests.crm.agents.response_helpers import contacted

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "replies"
FIRST = "<st-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567@smarterteam.io>"
SECOND = "<st-9f8e7d6c5b4a39281706f5e4d3c2b1a098765432@smarterteam.io>"


def ingest(*paths: Path) -> str:
    out = StringIO()
    call_command("ingest_email", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def test_a_gmail_reply_joins_its_thread_with_its_visible_text_and_intent() -> None:
    thread = contacted("karen.lopez@brightline-dental.com", message_id=SECOND)
    printed = ingest(FIXTURES / "gmail_reply.eml")
    inbound = Message.objects.get(direction="in")
    assert inbound.conversation == thread.conversation
    assert inbound.intent == "interested" and "Tuesday after 2pm" in inbound.body
    assert "Saw that you're hiring" not in inbound.body
    assert "intent interested" in printed
    thread.enrollment.refresh_from_db()
    assert thread.enrollment.status == Enrollment.Status.REPLIED


def test_a_hard_bounce_names_its_recipient_and_suppresses_it() -> None:
    contacted("jdoe@northwind-logistics.com", message_id="<x@y>")
    printed = ingest(FIXTURES / "dsn_hard_bounce.eml")
    assert "bounce hard for jdoe@northwind-logistics.com" in printed
    assert is_suppressed("jdoe@northwind-logistics.com")


def test_a_soft_bounce_is_not_suppressed() -> None:
    printed = ingest(FIXTURES / "dsn_soft_bounce.eml")
    assert "bounce soft" in printed


def test_an_mbox_is_read_message_by_message_and_twice_records_once(tmp_path: Path) -> None:
    contacted("priya.patel@kestrel-labs.io", message_id=FIRST)
    contacted("h.mueller@weber-gmbh.de", message_id="<st-aa11bb22cc33dd44ee55ff6600778899aabbccdd@smarterteam.io>")
    box_path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(box_path))
    for name in ("ooo_auto_submitted.eml", "unsubscribe_de.eml"):
        box.add((FIXTURES / name).read_bytes())
    box.flush()
    box.close()
    printed = ingest(box_path)
    assert "intent out_of_office" in printed and "intent unsubscribe" in printed
    assert is_suppressed("h.mueller@weber-gmbh.de")
    assert Lead.objects.get(email="priya.patel@kestrel-labs.io").enrollments.get().status == "active"
    ingest(box_path)
    assert Message.objects.filter(direction="in").count() == 2


def test_a_file_that_is_not_an_email_is_named_and_records_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "notes.eml"
    junk.write_bytes(b"Remember to call Dana on Tuesday.\n")
    err = StringIO()
    call_command("ingest_email", str(junk), stdout=StringIO(), stderr=err)
    assert "message 1: not an email" in err.getvalue()
    assert not Message.objects.exists()
