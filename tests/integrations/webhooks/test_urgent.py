"""Opt-outs are published alone before the answer, never left in the batcher's buffer."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agents.models import AgentRun
from integrations.models import WebhookEvent
from integrations.webhooks import publisher, services
from integrations.webhooks.providers import instantly
from integrations.webhooks.tasks import process_webhook_event
from tests.integrations.webhooks.conftest import fixture_body


class Channels:
    """The two ways out of the endpoint: the batcher (held by a gate) and a direct publish."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.batched: list[int] = []
        self.direct: list[int] = []
        self.broker_down = False
        self.process = False

    def publish_batch(self, batch: list[int]) -> None:
        assert self.gate.wait(5.0)
        self.batched.extend(batch)

    def apply_async(self, args: tuple[Any, ...], kwargs: Any = None, **options: Any) -> Any:
        if self.broker_down:
            raise ConnectionError("the broker is down")
        self.direct.append(args[0])
        return process_webhook_event.apply(args) if self.process else None


@pytest.fixture
def channels(monkeypatch: Any) -> Iterator[Channels]:
    found = Channels()
    batcher = publisher.BatchPublisher(found.publish_batch, linger=0.0)
    monkeypatch.setattr(publisher, "_publisher", batcher)
    monkeypatch.setattr(publisher, "_eager", lambda: False)  # whatever a developer's .env says
    monkeypatch.setattr(process_webhook_event, "apply_async", found.apply_async)
    yield found
    found.gate.set()
    batcher.close()


def post(post_signed: Any, name: str) -> WebhookEvent:
    response = post_signed("instantly", fixture_body("instantly", name))
    assert response.json()["status"] == "accepted", response.content
    return WebhookEvent.objects.get(event_id=response.json()["event_id"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "agent"),
    [
        ("lead_unsubscribed", "unsubscribe_compliance"),
        ("email_complained", "unsubscribe_compliance"),
        ("email_bounced", "email_response_handler"),
    ],
)
def test_an_opt_out_is_published_alone_and_processed_while_the_batcher_is_stuck(
    fixture: str, agent: str, channels: Channels, post_signed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    channels.process = True
    channels.gate.clear()  # the batcher's publish hangs: what it holds would die with the process
    with django_capture_on_commit_callbacks() as callbacks:
        reply = post(post_signed, "reply_received")
        opt_out = post(post_signed, fixture)
    # Run here rather than by the capture: the runs they start publish on commit too (a broker).
    for callback in callbacks:
        callback()
    assert channels.direct == [opt_out.pk]
    opt_out.refresh_from_db()
    assert opt_out.status == "processed"
    assert AgentRun.objects.get().agent_name == agent
    # The reply still goes out batched, once the batcher moves again.
    channels.gate.set()
    publisher.flush()
    publisher._publisher.close()
    assert channels.batched == [reply.pk]
    reply.refresh_from_db()
    assert reply.status == "received"


def test_instantly_declares_its_opt_outs_urgent_and_nothing_else() -> None:
    assert instantly.PROVIDER.urgent == {"lead_unsubscribed", "email_complained", "email_bounced"}
    assert instantly.PROVIDER.urgent <= set(instantly.PROVIDER.handlers)


@pytest.mark.django_db(transaction=True)
def test_a_broker_failure_marks_the_opt_out_for_the_sweepers_next_pass(
    channels: Channels, post_signed: Any, frozen_clock: Any, settings: Any, caplog: Any
) -> None:
    settings.WEBHOOK_REPLAY_AFTER_MINUTES = 10
    channels.broker_down = True
    # As in production: no transaction, so the publish runs within the request, after the commit.
    opt_out = post(post_signed, "lead_unsubscribed")
    reply = post(post_signed, "reply_received")  # lost with the batcher's buffer, say
    assert f"publishing webhook event {opt_out.pk} failed (ConnectionError)" in caplog.text
    assert "the broker is down" not in caplog.text  # the class only: a broker error may quote its URL
    assert channels.direct == []
    stored = WebhookEvent.objects.get(pk=opt_out.pk)
    assert stored.status == "received" and stored.publish_failed_at == frozen_clock.now

    channels.broker_down = False
    frozen_clock.tick(dt.timedelta(seconds=10))
    # The failed publish is retried on the next pass, not a minute (or ten) after arrival; the
    # reply, whose publish never failed (it sits in a buffer that dies with its process, say),
    # waits the usual WEBHOOK_REPLAY_AFTER_MINUTES.
    assert services.replay_unprocessed() == 1
    assert channels.direct == [opt_out.pk]
    assert WebhookEvent.objects.get(pk=opt_out.pk).publish_failed_at is None
    frozen_clock.tick(dt.timedelta(minutes=1))
    assert services.replay_unprocessed() == 1  # urgent: a minute after arrival, whatever happened
    frozen_clock.tick(dt.timedelta(minutes=10))
    assert services.replay_unprocessed() == 2
    assert channels.direct == [opt_out.pk, opt_out.pk, opt_out.pk, reply.pk]


@pytest.mark.django_db
def test_the_sweeper_takes_urgent_events_first_when_its_limit_is_reached(
    channels: Channels, post_signed: Any, frozen_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reply = post(post_signed, "reply_received")
    frozen_clock.tick(dt.timedelta(minutes=5))
    opt_out = post(post_signed, "lead_unsubscribed")
    frozen_clock.tick(dt.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.replay_unprocessed(limit=1) == 1
    assert channels.direct == [opt_out.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.replay_unprocessed() == 2
    assert channels.direct == [opt_out.pk, opt_out.pk, reply.pk]
