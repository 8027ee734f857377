"""Auto-replies are recognised by their RFC 3834 headers before any rule reads the text."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from crm.services.replies import understand
from crm.services.replies.auto import detect_auto_reply

FIXTURES = Path(__file__).parent / "fixtures" / "replies"


def message(**headers: str) -> EmailMessage:
    result = EmailMessage()
    result["Subject"] = headers.pop("Subject", "Re: hello")
    for name, value in headers.items():
        result[name.replace("_", "-")] = value
    return result


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated"},
        {"Auto_Submitted": "auto-notified; owner-email=x@y.z"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"X_Auto_Response_Suppress": "All"},
    ],
)
def test_rfc_3834_and_vendor_headers_mark_a_message_automatic(headers):
    found = detect_auto_reply(message(**headers))

    assert found is not None and found.source == "header"


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "no"}, {"Precedence": "list"}, {}])
def test_a_person_s_message_is_not_automatic(headers):
    assert detect_auto_reply(message(**headers)) is None


@pytest.mark.parametrize(
    "subject", ["Automatic reply: hello", "Abwesenheitsnotiz: Ihre Anfrage", "Réponse automatique : bonjour"]
)
def test_the_subject_line_is_the_fallback_when_headers_say_nothing(subject):
    found = detect_auto_reply(message(Subject=subject))

    assert found is not None and found.source == "subject"


def test_ooo_with_auto_submitted_is_an_out_of_office_with_its_return_date():
    result = understand((FIXTURES / "ooo_auto_submitted.eml").read_bytes())

    assert result.auto is not None and result.auto.reason == "Auto-Submitted: auto-replied"
    assert result.classification.intent == "out_of_office"
    assert str(result.classification.return_date) == "2025-03-12"


def test_an_auto_reply_is_never_read_as_an_opt_out_even_when_it_quotes_one():
    raw = (
        b"From: bot@x.io\r\nTo: anna@smarterteam.io\r\nSubject: Re: hi\r\nAuto-Submitted: auto-replied\r\n"
        b"Date: Mon, 3 Mar 2025 09:00:00 +0000\r\n\r\n"
        b"We received your message. To unsubscribe from our newsletter click here."
    )

    assert understand(raw).classification.intent == "out_of_office"
