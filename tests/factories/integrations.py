"""Factories for the integrations app's models."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from integrations.local.embedding import embed
from integrations.models import ApiUsage, LocalVector, MemoryEntry, SandboxEvent, SandboxRecord, WebhookEvent
from smarter_team import clock


class ApiUsageFactory(DjangoModelFactory[ApiUsage]):
    class Meta:
        model = ApiUsage

    provider = "perplexity"
    operation = "search"
    method = "POST"
    url = "https://api.perplexity.ai/chat/completions"
    status_code = 200
    success = True
    latency_ms = 120
    cost = Decimal("0")


class WebhookEventFactory(DjangoModelFactory[WebhookEvent]):
    class Meta:
        model = WebhookEvent

    provider = "stripe"
    event_id = factory.Sequence(lambda n: f"evt_{n:06d}")
    event_type = "invoice.paid"
    raw_body = b"{}"
    signature_ok = True


class LocalVectorFactory(DjangoModelFactory[LocalVector]):
    class Meta:
        model = LocalVector

    namespace = "learnings"
    record_id = factory.Sequence(lambda n: f"rec-{n}")
    text = factory.Sequence(lambda n: f"note number {n}")
    embedding = factory.LazyAttribute(lambda o: embed(o.text))


class MemoryEntryFactory(DjangoModelFactory[MemoryEntry]):
    class Meta:
        model = MemoryEntry

    session_id = "lead-1"
    role = "user"
    content = factory.Sequence(lambda n: f"message {n}")
    embedding = factory.LazyAttribute(lambda o: embed(o.content))


class SandboxEventFactory(DjangoModelFactory[SandboxEvent]):
    class Meta:
        model = SandboxEvent

    key = factory.Sequence(lambda n: f"sandbox-event-{n}")
    provider = "calcom"
    kind = "booking_created"
    subject = factory.Sequence(lambda n: f"booking-{n}")
    payload = factory.LazyFunction(dict)
    due_at = factory.LazyFunction(clock.now)


class SandboxRecordFactory(DjangoModelFactory[SandboxRecord]):
    class Meta:
        model = SandboxRecord

    kind = "document"
    ref = factory.Sequence(lambda n: f"doc-{n}")
