"""gmail_inbox_poll: a Gmail mailbox's replies, read through the history API, recorded once each."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import respx

from agents.models import AgentRun, Escalation
from agents.testing import assert_idempotent, drain, run_agent
from crm.agents.response.gmail_poll import run_key
from crm.models import Mailbox, Message
from crm.services.suppression import is_suppressed
from tests.crm.agents.response_helpers import contacted
from tests.factories.crm import MailboxFactory
from tests.integrations.conftest import _fresh_provider_state, keys, load_fixture, mock_http

pytestmark = pytest.mark.django_db
__all__ = ["_fresh_provider_state", "keys", "mock_http"]  # fixtures, used by name

BOX = "anna@smarterteam.io"
API = f"https://gmail.googleapis.com/gmail/v1/users/{BOX}"
REPLY_ID, BOUNCE_ID = "18f0a1b2c3d4e5f6", "18f0a1b2c3d4e600"
OUR_SECOND = "<st-9f8e7d6c5b4a39281706f5e4d3c2b1a098765432@smarterteam.io>"


@pytest.fixture
def gmail(keys: Callable[..., None], mock_http: respx.MockRouter) -> respx.MockRouter:
    keys(GOOGLE_CLIENT_ID="id.apps.googleusercontent.com", GOOGLE_CLIENT_SECRET="s", GOOGLE_REFRESH_TOKEN="1//r")
    mock_http.post("https://oauth2.googleapis.com/token").respond(200, json=load_fixture("google", "token"))
    mock_http.get(f"{API}/messages/{REPLY_ID}").respond(200, json=load_fixture("gmail", "raw_reply"))
    mock_http.get(f"{API}/messages/{BOUNCE_ID}").respond(200, json=load_fixture("gmail", "raw_bounce"))
    mock_http.get(f"{API}/profile").respond(200, json={**load_fixture("gmail", "profile"), "historyId": "9300"})
    mock_http.get(f"{API}/messages").respond(200, json=load_fixture("gmail", "messages_recent"))
    return mock_http


def box(history_id: str = "9000") -> Mailbox:
    return MailboxFactory.create(email=BOX, provider="gmail", history_id=history_id)


def test_a_reply_in_the_history_joins_its_thread_and_the_cursor_moves_on(gmail: respx.MockRouter) -> None:
    thread = contacted("karen.lopez@brightline-dental.com", message_id=OUR_SECOND)
    mailbox = box()
    history = gmail.get(f"{API}/history").respond(200, json=load_fixture("gmail", "history"))

    result = run_agent("gmail_inbox_poll")

    assert result.status == "succeeded", result.error
    assert result.output["started"] == 1  # our own SENT message in the history is not a reply
    request = history.calls.last.request
    assert request.url.params["startHistoryId"] == "9000" and request.url.params["labelId"] == "INBOX"
    assert gmail.routes  # raw fetched with format=raw
    raw_call = next(c for c in gmail.calls if c.request.url.path.endswith(REPLY_ID))
    assert raw_call.request.url.params["format"] == "raw"
    mailbox.refresh_from_db()
    assert mailbox.history_id == "9110" and mailbox.history_synced_at is not None
    [handler] = AgentRun.objects.filter(agent_name="email_response_handler")
    assert handler.idempotency_key == run_key(BOX, REPLY_ID) and handler.parent_id == result.run.pk

    drain()
    inbound = Message.objects.get(direction="in")
    assert inbound.conversation == thread.conversation  # threaded by In-Reply-To
    assert inbound.intent == "interested" and "Tuesday after 2pm" in inbound.body
    assert "Saw that you're hiring" not in inbound.body  # the quoted history is cut


def test_polling_twice_records_each_gmail_message_once(gmail: respx.MockRouter) -> None:
    contacted("karen.lopez@brightline-dental.com", message_id=OUR_SECOND)
    box()
    gmail.get(f"{API}/history").respond(200, json=load_fixture("gmail", "history"))
    assert_idempotent("gmail_inbox_poll")
    Mailbox.objects.filter(email=BOX).update(history_id="9000")  # a poll that lost its cursor sees it again
    again = run_agent("gmail_inbox_poll")
    assert again.output["started"] == 0 and again.output["already"] == 1
    assert AgentRun.objects.filter(agent_name="email_response_handler").count() == 1
    raw_fetches = [c for c in gmail.calls if c.request.url.path.endswith(REPLY_ID)]
    assert len(raw_fetches) == 1  # a message already started is not fetched again


def test_an_expired_history_id_resyncs_the_recent_window(gmail: respx.MockRouter) -> None:
    contacted("jdoe@northwind-logistics.com", message_id="<st-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567@smarterteam.io>")
    mailbox = box("17")
    gmail.get(f"{API}/history").respond(404, json=load_fixture("gmail", "history_expired"))

    result = run_agent("gmail_inbox_poll")

    assert result.status == "succeeded", result.error
    assert result.output["started"] == 2 and "expired" in result.output["resynced"][0]
    listing = next(c for c in gmail.calls if c.request.url.path == f"/gmail/v1/users/{BOX}/messages")
    assert listing.request.url.params["q"] == "newer_than:7d"
    mailbox.refresh_from_db()
    assert mailbox.history_id == "9300"  # the profile's, taken before the listing
    drain()
    assert is_suppressed("jdoe@northwind-logistics.com")  # the hard bounce went the ingest path
    assert Message.objects.filter(direction="in").count() == 2


def test_a_first_poll_reads_the_window_and_an_idle_mailbox_writes_nothing(gmail: respx.MockRouter) -> None:
    mailbox = box("")
    first = run_agent("gmail_inbox_poll")
    assert "first poll" in first.output["resynced"][0]
    mailbox.refresh_from_db()
    assert mailbox.history_id == "9300"
    gmail.get(f"{API}/history").respond(200, json=load_fixture("gmail", "history_empty") | {"historyId": "9300"})
    idle = run_agent("gmail_inbox_poll")
    assert idle.output["started"] == 0 and not idle.writes


def test_a_message_that_is_not_an_email_is_escalated_and_the_rest_go_on(gmail: respx.MockRouter) -> None:
    contacted("karen.lopez@brightline-dental.com", message_id=OUR_SECOND)
    mailbox = box()
    junk = base64.urlsafe_b64encode(b"\xff\xfe\x00h\x00i").decode()
    gmail.get(f"{API}/history").respond(
        200,
        json={
            "history": [
                {"id": "9101", "messagesAdded": [{"message": {"id": "junk1", "threadId": "t", "labelIds": ["INBOX"]}}]},
                *load_fixture("gmail", "history")["history"],
            ],
            "historyId": "9110",
        },
    )
    gmail.get(f"{API}/messages/junk1").respond(200, json={"id": "junk1", "threadId": "t", "raw": junk})

    result = run_agent("gmail_inbox_poll")

    assert result.status == "succeeded", result.error
    assert result.output["started"] == 1 and "wrong encoding" in result.output["unreadable"][0]
    [escalation] = Escalation.objects.filter(kind="error")
    assert "junk1" in str(escalation.payload) and BOX in escalation.reason
    mailbox.refresh_from_db()
    assert mailbox.history_id == "9110"


def test_history_pages_are_followed(gmail: respx.MockRouter) -> None:
    box()
    page_two = {"history": [], "historyId": "9120"}
    route = gmail.get(f"{API}/history")
    route.side_effect = [
        respx.MockResponse(200, json={**load_fixture("gmail", "history"), "nextPageToken": "p2"}),
        respx.MockResponse(200, json=page_two),
    ]
    result = run_agent("gmail_inbox_poll")
    assert route.calls[1].request.url.params["pageToken"] == "p2"
    assert Mailbox.objects.get(email=BOX).history_id == "9120" and result.output["started"] == 1


def test_no_gmail_mailbox_no_call_and_an_unconfigured_gmail_is_a_skip(mock_http: respx.MockRouter) -> None:
    MailboxFactory.create(provider="sandbox")
    quiet = run_agent("gmail_inbox_poll")
    assert quiet.status == "succeeded" and quiet.output["mailboxes"] == 0 and not mock_http.calls
    box()
    skipped = run_agent("gmail_inbox_poll")
    assert skipped.status == "skipped" and "not configured" in skipped.run.error + str(skipped.output)


def test_a_profile_without_history_id_fails_the_run_with_the_reason(gmail: respx.MockRouter) -> None:
    mailbox = box("")
    gmail.get(f"{API}/profile").respond(200, json={"emailAddress": BOX})
    result = run_agent("gmail_inbox_poll")
    assert result.status == "failed" and "historyId" in result.error
    mailbox.refresh_from_db()
    assert mailbox.history_id == ""  # nothing half-written
