"""Celery discovers only ``<app>.tasks``: this registers the integrations' own task modules."""

from integrations.sandbox.tasks import deliver_due_events
from integrations.webhooks.tasks import process_webhook_event, replay_unprocessed

__all__ = ["deliver_due_events", "process_webhook_event", "replay_unprocessed"]
