"""Celery tasks of the webhooks: thin, they load by id and call the service."""

from __future__ import annotations

from celery import shared_task

from integrations.webhooks import services


@shared_task(name="integrations.webhooks.process_event", queue="system", acks_late=True, ignore_result=True)
def process_webhook_event(event_pk: int) -> str:
    return services.process_event(event_pk=event_pk)


@shared_task(name="integrations.webhooks.process_events", queue="system", acks_late=True, ignore_result=True)
def process_webhook_events(event_pks: list[int]) -> dict[str, int]:
    """The events the endpoint accepted in one publish interval (see publisher.py)."""
    return services.process_events(event_pks=event_pks)


@shared_task(name="integrations.webhooks.replay_unprocessed", queue="system", acks_late=True, ignore_result=True)
def replay_unprocessed() -> int:
    """The webhook sweeper as a task (beat runs it through the webhook_replay agent, every minute)."""
    return services.replay_unprocessed()
