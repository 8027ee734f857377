"""Factories for the runtime's models."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from agents.models import (
    Action,
    AgentRun,
    AuditLog,
    Budget,
    ClockOffset,
    CodeSchedule,
    Escalation,
    HealthCheck,
    LLMBatch,
    LLMBatchItem,
    LookupCache,
    Report,
)


class AgentRunFactory(DjangoModelFactory[AgentRun]):
    class Meta:
        model = AgentRun

    agent_name = "data_validation"
    trigger = AgentRun.Trigger.MANUAL
    input = factory.LazyFunction(dict)
    idempotency_key = factory.Sequence(lambda n: f"factory:{n}")
    correlation_id = factory.LazyFunction(uuid.uuid4)
    queue = "crm"


class ActionFactory(DjangoModelFactory[Action]):
    class Meta:
        model = Action

    kind = "email.send"
    idempotency_key = factory.Sequence(lambda n: f"email.send:factory-{n}")
    payload = factory.LazyFunction(lambda: {"to": "jane@example.org"})


class EscalationFactory(DjangoModelFactory[Escalation]):
    class Meta:
        model = Escalation

    kind = Escalation.Kind.APPROVAL
    reason = "Send the proposal with a 25% discount?"


class BudgetFactory(DjangoModelFactory[Budget]):
    class Meta:
        model = Budget

    # Agent budgets by default: a global one is unique per period, and tests need many rows.
    scope = Budget.Scope.AGENT
    key = factory.Sequence(lambda n: f"agent_{n}")
    period = Budget.Period.DAY
    limit = Decimal("10.00")
    on_exceed = Budget.OnExceed.DEGRADE


class AuditLogFactory(DjangoModelFactory[AuditLog]):
    class Meta:
        model = AuditLog

    actor_type = AuditLog.ActorType.SYSTEM
    actor = "system"
    action = "test.change"


class HealthCheckFactory(DjangoModelFactory[HealthCheck]):
    class Meta:
        model = HealthCheck

    component = "database"
    status = HealthCheck.Status.OK
    latency_ms = 3


class ReportFactory(DjangoModelFactory[Report]):
    class Meta:
        model = Report

    kind = Report.Kind.DAILY
    period_start = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    period_end = factory.LazyAttribute(lambda o: o.period_start)
    html = "<h1>Daily report</h1>"


class CodeScheduleFactory(DjangoModelFactory[CodeSchedule]):
    class Meta:
        model = CodeSchedule

    name = factory.Sequence(lambda n: f"agent:factory_{n}")


class LookupCacheFactory(DjangoModelFactory[LookupCache]):
    class Meta:
        model = LookupCache

    key = factory.Sequence(lambda n: f"email_finder:acme{n}.example:ada:lovelace")
    value = factory.LazyFunction(lambda: {"email": "ada@acme.example", "provider": "sandbox"})


class ClockOffsetFactory(DjangoModelFactory[ClockOffset]):
    class Meta:
        model = ClockOffset
        django_get_or_create = ("id",)

    id = 1
    seconds = 3600.0


class LLMBatchFactory(DjangoModelFactory[LLMBatch]):
    class Meta:
        model = LLMBatch

    provider_batch_id = factory.Sequence(lambda n: f"msgbatch_{n:06d}")
    agent_name = "t_bulk"
    model_name = "claude-sonnet-4-5"


class LLMBatchItemFactory(DjangoModelFactory[LLMBatchItem]):
    class Meta:
        model = LLMBatchItem

    batch = factory.SubFactory(LLMBatchFactory)
    run = factory.SubFactory(AgentRunFactory)
    custom_id = factory.LazyAttribute(lambda o: f"run-{o.run.pk}")
