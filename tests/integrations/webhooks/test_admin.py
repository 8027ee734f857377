"""The WebhookEvent console: filters, search, a readable body, masked headers, replay."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.models import WebhookEvent
from integrations.webhooks.admin import decoded_body
from tests.integrations.webhooks.conftest import SECRETS, fixture_body

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/webhookevent/"


@pytest.fixture
def events(post_signed: Any) -> list[WebhookEvent]:
    post_signed("stripe", fixture_body("stripe", "invoice_paid"))
    post_signed("instantly", fixture_body("instantly", "reply_received"))
    post_signed("stripe", fixture_body("stripe", "charge_refunded"), secret="wrong")
    return list(WebhookEvent.objects.order_by("pk"))


def test_the_changelist_filters_and_searches_by_event_id(
    staff_client: Any, events: list[WebhookEvent], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12):
        page = staff_client.get(CHANGELIST)
    assert page.status_code == 200
    for name in ("provider", "status", "signature_ok", "event_type"):
        assert f"{name}__exact=" in page.content.decode() or f"{name}=" in page.content.decode()
    found = staff_client.get(CHANGELIST, {"q": "evt_1PqInvoicePaid"})
    assert list(found.context["cl"].result_list) == [events[0]]
    rejected = staff_client.get(CHANGELIST, {"status__exact": "rejected"})
    assert list(rejected.context["cl"].result_list) == [events[2]]


def test_the_detail_shows_the_decoded_body_and_masked_headers(staff_client: Any, events: list[WebhookEvent]) -> None:
    page = staff_client.get(f"{CHANGELIST}{events[1].pk}/change/").content.decode()
    assert "This sounds relevant" in page
    assert "x-webhook-secret" in page
    assert SECRETS["instantly"] not in page
    assert 'name="raw_body"' not in page


def test_the_replay_action_queues_events_and_skips_rejected_ones(
    staff_client: Any, events: list[WebhookEvent], django_capture_on_commit_callbacks: Any
) -> None:
    WebhookEvent.objects.filter(pk=events[0].pk).update(status="failed", attempts=5)
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            CHANGELIST,
            {"action": "replay_selected", "_selected_action": [events[0].pk, events[2].pk]},
            follow=True,
        )
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown[0] == ("success", "Queued for replay: 1 row(s).")
    assert shown[1][0] == "warning" and "a rejected event (its signature failed) is never replayed" in shown[1][1]
    assert len(callbacks) == 1
    assert WebhookEvent.objects.get(pk=events[0].pk).status == "received"
    assert WebhookEvent.objects.get(pk=events[2].pk).status == "rejected"


def test_events_cannot_be_added_or_edited_by_hand(staff_client: Any, events: list[WebhookEvent]) -> None:
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    page = staff_client.get(f"{CHANGELIST}{events[0].pk}/change/")
    assert 'name="_save"' not in page.content.decode()


def test_a_binary_body_is_shown_without_crashing() -> None:
    assert decoded_body(b"\xff\xfe{") == "\ufffd\ufffd{"
    assert decoded_body(b'{"a":1}') == '{\n  "a": 1\n}'
