"""The console's email upload: .eml / .mbox through the ingest_email path; bad files change nothing."""

from __future__ import annotations

import mailbox
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import AgentRun
from crm.models import Conversation, Enrollment, Message
from crm.services import ingest
from crm.services.suppression import is_suppressed
from tests.crm.agents.response_helpers import contacted

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "replies"
URL = "admin:crm_message_upload_email"
SECOND = "<st-9f8e7d6c5b4a39281706f5e4d3c2b1a098765432@smarterteam.io>"


def upload(client: Any, name: str, data: bytes) -> Any:
    return client.post(reverse(URL), {"file": SimpleUploadedFile(name, data, "message/rfc822")})


def test_the_page_is_linked_from_the_messages_and_shows_each_message(staff_client: Any) -> None:
    assert reverse(URL) in staff_client.get(reverse("admin:crm_message_changelist")).content.decode()
    thread = contacted("karen.lopez@brightline-dental.com", message_id=SECOND)

    response = upload(staff_client, "reply.eml", (FIXTURES / "gmail_reply.eml").read_bytes())

    assert response.status_code == 200
    [shown] = response.context["results"]
    assert shown.status == "succeeded" and shown.intent == "interested"
    assert f"conversation #{thread.conversation.pk}" in shown.thread and "answers our message" in shown.thread
    assert "Tuesday after 2pm" in shown.visible_text and "Saw that you're hiring" not in shown.visible_text
    page = response.content.decode()
    assert "Tuesday after 2pm" in page and "interested" in page
    thread.enrollment.refresh_from_db()
    assert thread.enrollment.status == Enrollment.Status.REPLIED  # the handler's effects, as ingest_email's


def test_an_mbox_lists_a_bounce_with_its_recipient_and_kind_and_twice_records_once(
    staff_client: Any, tmp_path: Path
) -> None:
    contacted("jdoe@northwind-logistics.com", message_id="<x@y>")
    path = tmp_path / "export.mbox"
    box = mailbox.mbox(str(path))
    for name in ("dsn_hard_bounce.eml", "dsn_soft_bounce.eml"):
        box.add((FIXTURES / name).read_bytes())
    box.flush()
    box.close()

    response = upload(staff_client, "export.mbox", path.read_bytes())

    hard, soft = response.context["results"]
    assert (hard.kind, hard.bounce_type, hard.bounce_recipient) == ("bounce", "hard", "jdoe@northwind-logistics.com")
    assert soft.kind == "bounce" and soft.bounce_type == "soft"
    assert "hard for jdoe@northwind-logistics.com" in response.content.decode()
    assert is_suppressed("jdoe@northwind-logistics.com")
    recorded = Message.objects.filter(direction="in").count()
    upload(staff_client, "export.mbox", path.read_bytes())
    assert Message.objects.filter(direction="in").count() == recorded


NESTED = (
    b"From: a@b.example\nDate: Tue, 4 Mar 2025 10:02:01 -0500\nContent-Type: multipart/mixed; boundary=b0\n\n"
    + b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(500))
    + b"--b500\nContent-Type: text/plain\n\ndeep\n"
)


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("notes.txt", b"Remember to call Dana on Tuesday.\nAnd buy milk.\n", "not an email"),
        ("reply.eml", "From: a@b.example\nSubject: hi\n\nhello".encode("utf-16"), "wrong encoding"),
        ("reply.eml", b"From: a@b.example\nDate: Tue, 4 Mar 2025 10:02:01 -0500\nSubject: \xe9t\xe9\n\nx", "wrong enc"),
        (
            "reply.eml",
            b"From: a@b.example\nDate: Tue, 4 Mar 2025 10:02:01 -0500\n"
            b"Content-Type: text/plain; charset=klingon-8\n\nqapla",
            "unknown charset",
        ),
        ("empty.eml", b"", "empty"),
        # A crafted message: multiparts nested 500 deep (the stdlib's parser recursed until it crashed).
        ("bomb.eml", NESTED, "nest hundreds deep"),
    ],
    ids=["plain-text", "utf-16", "latin-1-header", "unknown-charset", "empty", "nested-bomb"],
)
def test_a_bad_file_is_refused_with_a_clear_error_and_changes_nothing(
    staff_client: Any, name: str, data: bytes, error: str
) -> None:
    contacted()
    before = (Message.objects.count(), Conversation.objects.count(), AgentRun.objects.count())

    response = upload(staff_client, name, data)

    assert response.status_code == 200 and not response.context["results"]
    assert error in str(response.context["form"].errors["file"]) and "Nothing was recorded" in response.content.decode()
    assert (Message.objects.count(), Conversation.objects.count(), AgentRun.objects.count()) == before


def test_one_bad_message_in_a_mailbox_refuses_the_whole_file(staff_client: Any, tmp_path: Path) -> None:
    contacted("karen.lopez@brightline-dental.com", message_id=SECOND)
    path = tmp_path / "mixed.mbox"
    box = mailbox.mbox(str(path))
    box.add((FIXTURES / "gmail_reply.eml").read_bytes())
    box.add(b"Subject: no sender\n\nwho wrote this?")
    box.flush()
    box.close()
    before = Message.objects.count()

    response = upload(staff_client, "mixed.mbox", path.read_bytes())

    assert "message 2 of 2: not an email" in str(response.context["form"].errors["file"])
    assert Message.objects.count() == before


def test_a_file_over_the_limit_is_refused_before_it_is_read(staff_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "MAX_UPLOAD_BYTES", 1000)
    response = upload(staff_client, "big.eml", (FIXTURES / "gmail_reply.eml").read_bytes())
    assert "too big" in str(response.context["form"].errors["file"])
    assert not Message.objects.filter(direction="in").exists()


def test_a_user_who_may_not_change_messages_cannot_upload(client: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(URL)).status_code == 403
