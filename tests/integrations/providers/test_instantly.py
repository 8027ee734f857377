from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from integrations.http import TransientError
from integrations.providers import instantly
from integrations.providers.instantly import InstantlyClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
BASE = "https://api.instantly.ai/api/v2"
MAILBOX = "sales@agency.example"


@pytest.fixture
def client(keys: Callable[..., None]) -> Iterator[InstantlyClient]:
    keys(INSTANTLY_API_KEY="inst-test-secret-0001", GOOGLE_CLIENT_ID="", GOOGLE_CLIENT_SECRET="")
    instantly._campaign_ids.clear()
    chosen = get_role("outreach")
    assert isinstance(chosen, InstantlyClient)
    yield chosen
    instantly._campaign_ids.clear()


def test_first_touch_creates_the_mailbox_campaign_once_and_adds_the_lead(
    client: InstantlyClient, mock_http: respx.MockRouter
) -> None:
    listing = mock_http.get(f"{BASE}/campaigns").respond(200, json=load_fixture("instantly", "campaigns_empty"))
    created = mock_http.post(f"{BASE}/campaigns").respond(200, json=load_fixture("instantly", "campaign"))
    activated = mock_http.post(f"{BASE}/campaigns/0191b8f2-6d4a-7a2e-9c1d-2e3f4a5b6c7d/activate").respond(200, json={})
    lead = mock_http.post(f"{BASE}/leads").respond(200, json=load_fixture("instantly", "lead"))
    for _ in range(2):
        sent = client.send_email(
            idempotency_key="act-1",
            from_mailbox=MAILBOX,
            to="dana@acmedental.example",
            subject="Quick question",
            body="Hi Dana",
            headers={},
        )
    assert sent.message_id == "lead:0191b8f2-aaaa-7a2e-9c1d-2e3f4a5b6c7d" and sent.status == "queued"
    assert (listing.call_count, created.call_count, activated.call_count, lead.call_count) == (1, 1, 1, 2)
    campaign = body(created)
    assert campaign["email_list"] == [MAILBOX]
    assert campaign["sequences"][0]["steps"][0]["variants"][0] == {"subject": "{{subject}}", "body": "{{body}}"}
    lead_body = body(lead)
    assert lead_body["skip_if_in_campaign"] is True  # a retried add never sends twice
    assert lead_body["custom_variables"]["subject"] == "Quick question"
    assert lead.calls.last.request.headers["Authorization"] == "Bearer inst-test-secret-0001"


def test_a_reply_goes_through_emails_reply(client: InstantlyClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/emails/reply").respond(200, json=load_fixture("instantly", "reply"))
    sent = client.send_email(
        idempotency_key="act-2",
        from_mailbox=MAILBOX,
        to="dana@acmedental.example",
        subject="Re: Quick question",
        body="Tuesday works.",
        headers={},
        thread_id="019d9c5f-aaaa",
    )
    assert sent.message_id == "019d9c5f-9685-78bb-9ea7-36a61999b4c3"
    assert body(route) == {
        "eaccount": MAILBOX,
        "reply_to_uuid": "019d9c5f-aaaa",
        "subject": "Re: Quick question",
        "body": {"text": "Tuesday works."},
    }


def test_a_reply_that_fails_with_5xx_is_not_blindly_resent(
    client: InstantlyClient, mock_http: respx.MockRouter
) -> None:
    route = mock_http.post(f"{BASE}/emails/reply").mock(side_effect=[httpx.Response(502), httpx.Response(200)])
    with pytest.raises(TransientError):
        client.send_email(
            idempotency_key="act-3",
            from_mailbox=MAILBOX,
            to="d@a.example",
            subject="s",
            body="b",
            headers={},
            thread_id="t",
        )
    assert route.call_count == 1


def test_message_status_of_a_lead(client: InstantlyClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/leads/abc").respond(200, json=load_fixture("instantly", "lead_replied"))
    assert client.get_message_status("lead:abc").status == "replied"


def test_campaigns_are_paged_by_cursor(client: InstantlyClient, mock_http: respx.MockRouter) -> None:
    campaign = load_fixture("instantly", "campaign")
    mock_http.get(f"{BASE}/campaigns", params={"starting_after": "c1"}).respond(
        200, json={"items": [{**campaign, "id": "c2"}], "next_starting_after": None}
    )
    mock_http.get(f"{BASE}/campaigns").respond(
        200, json={"items": [{**campaign, "id": "c1"}], "next_starting_after": "c1"}
    )
    assert [c.id for c in client.list_campaigns()] == ["c1", "c2"]
