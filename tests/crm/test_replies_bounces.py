"""Bounces: failed recipients and hard (5.x.x) or soft (4.x.x), from RFC 3464 reports and others."""

from __future__ import annotations

from pathlib import Path

from crm.services.replies import understand
from crm.services.replies.bounces import parse_bounce
from crm.services.replies.parse import read_message

FIXTURES = Path(__file__).parent / "fixtures" / "replies"


def test_dsn_hard_bounce_names_the_recipient_status_and_our_message():
    bounce = parse_bounce(read_message((FIXTURES / "dsn_hard_bounce.eml").read_bytes()))

    assert bounce is not None
    assert bounce.recipients == ("jdoe@northwind-logistics.com",)
    assert bounce.kind == "hard"
    assert bounce.failures[0].status == "5.1.1"
    assert "User unknown" in bounce.failures[0].diagnostic
    assert bounce.original_message_id == "<st-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567@smarterteam.io>"


def test_dsn_delay_is_a_soft_bounce():
    bounce = parse_bounce(read_message((FIXTURES / "dsn_soft_bounce.eml").read_bytes()))

    assert bounce is not None
    assert bounce.recipients == ("ops@summit-roofing.com",)
    assert bounce.kind == "soft"
    assert bounce.failures[0].action == "delayed"
    assert bounce.original_message_id == "<st-1234567890abcdef1234567890abcdef12345678@smarterteam.io>"


def test_a_bounce_is_classified_as_bounce_although_the_returned_copy_says_unsubscribe():
    result = understand((FIXTURES / "dsn_soft_bounce.eml").read_bytes())

    assert result.classification.intent == "bounce"
    assert result.thread_keys[0] == "<st-1234567890abcdef1234567890abcdef12345678@smarterteam.io>"


def test_a_non_dsn_bounce_is_left_to_flufl_bounce_detectors():
    raw = (
        b"From: MAILER-DAEMON@mx.oldco.example\r\nTo: anna@smarterteam.io\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\nX-Failed-Recipients: hello@oldco.example\r\n"
        b"\r\nThis message was created automatically by mail delivery software.\r\n\r\n"
        b"A message that you sent could not be delivered to one or more of its\r\n"
        b"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        b"  hello@oldco.example\r\n    Unrouteable address\r\n"
    )

    bounce = parse_bounce(read_message(raw))

    assert bounce is not None
    assert bounce.recipients == ("hello@oldco.example",)
    assert bounce.kind == "hard"


def test_a_person_s_reply_is_not_a_bounce():
    assert parse_bounce(read_message((FIXTURES / "gmail_reply.eml").read_bytes())) is None
