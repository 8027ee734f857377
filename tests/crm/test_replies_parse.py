"""Reading inbound replies: threading keys, sender, date and the visible text without quotes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crm.services.replies import understand
from crm.services.replies.parse import MAX_REFERENCES, parse_reply, read_message, visible_text

FIXTURES = Path(__file__).parent / "fixtures" / "replies"


def parsed(name: str):
    return parse_reply(read_message((FIXTURES / name).read_bytes()))


def test_gmail_reply_threads_by_in_reply_to_then_references_newest_first():
    reply = parsed("gmail_reply.eml")

    assert reply.in_reply_to == "<st-9f8e7d6c5b4a39281706f5e4d3c2b1a098765432@smarterteam.io>"
    assert reply.thread_keys == (
        "<st-9f8e7d6c5b4a39281706f5e4d3c2b1a098765432@smarterteam.io>",
        "<st-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567@smarterteam.io>",
    )
    assert reply.message_id == "<CAF=kq+9yVx2pJd0Gq3ZcP8nQ@mail.gmail.com>"
    assert reply.sender == "karen.lopez@brightline-dental.com"
    assert reply.sender_name == "Karen Lopez"
    assert reply.subject == "Re: Quick question about follow-ups"
    assert reply.date == dt.datetime(2025, 3, 4, 15, 2, 1, tzinfo=dt.UTC)


def test_gmail_reply_text_leaves_out_the_quoted_email_and_its_unsubscribe_footer():
    reply = parsed("gmail_reply.eml")

    assert "Tuesday after 2pm works" in reply.reply_text
    assert "unsubscribe" not in reply.reply_text.lower()
    assert "unsubscribe" in reply.body  # the whole body keeps it


def test_outlook_reply_is_cut_at_the_underscore_header_and_loses_its_signature():
    reply = parsed("outlook_reply.eml")

    assert reply.reply_text.startswith("Hi Anna,")
    assert "HubSpot" in reply.reply_text
    assert "unsubscribe" not in reply.reply_text.lower()
    assert "+49 30" not in reply.reply_text  # the signature block
    assert reply.thread_keys == ("<st-5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081@smarterteam.io>",)


def test_german_reply_decodes_the_encoded_sender_and_cuts_the_original_message():
    reply = parsed("unsubscribe_de.eml")

    assert reply.sender_name == "Hans Müller"
    assert "Verteiler" in reply.reply_text
    assert "Follow-ups mit KI" not in reply.reply_text
    assert "Geschäftsführer" not in reply.reply_text


@pytest.mark.parametrize(
    ("body", "kept", "dropped"),
    [
        ("Sure, Friday works.\n\nSent from my iPhone\n\nOn Mon, Mar 3, 2025 at 9:14 AM A <a@b.io> wrote:\n> Hi",
         "Friday works", "iPhone"),
        ("Oui, volontiers.\n\nLe lun. 3 mars 2025 à 09:14, Anna <a@b.io> a écrit :\n> Bonjour",
         "volontiers", "Bonjour"),
        ("Sí, hablemos.\n\nEl lun, 3 mar 2025 a las 9:14, Anna (<a@b.io>) escribió:\n> Hola", "hablemos", "Hola"),
        ("ok\n-----Original Message-----\nFrom: a@b.io\nunsubscribe", "ok", "unsubscribe"),
    ],
)  # fmt: skip
def test_visible_text_cuts_quotes_in_several_languages(body, kept, dropped):
    text = visible_text(body)

    assert kept in text
    assert dropped not in text


def test_an_html_only_reply_is_read_as_text():
    raw = (
        b"From: a@b.io\r\nTo: c@d.io\r\nSubject: Re: hi\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Yes, let&#39;s talk.</p><br><p>Ana</p>"
    )

    assert "Yes, let's talk." in parse_reply(read_message(raw)).reply_text


def test_a_message_without_threading_headers_or_date_still_parses():
    reply = parse_reply(read_message(b"From: someone@x.io\r\n\r\nhello"))

    assert reply.thread_keys == ()
    assert reply.date is None
    assert reply.reply_text == "hello"


def test_understand_a_gmail_reply_end_to_end():
    result = understand((FIXTURES / "gmail_reply.eml").read_bytes())

    assert result.classification.intent == "interested"
    assert result.auto is None and result.bounce is None


def test_a_long_references_header_keeps_the_threads_root_and_its_newest_ids():
    ids = [f"<m-{n}@mail.example.com>" for n in range(5_000)]
    raw = (
        "From: Karen <karen@example.com>\r\nMessage-ID: <r@mail.example.com>\r\n"
        f"References: {' '.join(ids)}\r\nSubject: Re: hi\r\n\r\nYes.\r\n"
    ).encode()
    reply = parse_reply(read_message(raw))
    assert len(reply.references) == MAX_REFERENCES
    assert reply.references[0] == ids[0] and reply.references[-1] == ids[-1]
    assert reply.thread_keys[0] == ids[-1] and ids[0] in reply.thread_keys
