"""Celery task of the sandbox world: deliver the events whose time has come (beat, every 30 s)."""

from __future__ import annotations

from celery import shared_task

from integrations.sandbox.delivery import deliver_due


@shared_task(name="integrations.sandbox.deliver_due", queue="system", acks_late=True, ignore_result=True)
def deliver_due_events() -> int:
    return deliver_due()
