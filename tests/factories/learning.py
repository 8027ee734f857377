"""Factories of the learning app."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory

from agents.models import AgentRun
from learning.fingerprint import fingerprint
from learning.models import (
    FAQ,
    AgentLearning,
    ErrorGroupNote,
    ErrorLog,
    KnowledgeRule,
    ResponseTracking,
    RuleApplication,
)
from smarter_team import clock


def make_run(**kwargs: Any) -> AgentRun:
    """A finished-enough AgentRun (the agents app owns its factory; this keeps learning's tests standalone)."""
    kwargs.setdefault("agent_name", "lead_research")
    kwargs.setdefault("idempotency_key", f"test:{uuid.uuid4().hex}")
    return AgentRun.objects.create(**kwargs)


class ErrorLogFactory(DjangoModelFactory[ErrorLog]):
    class Meta:
        model = ErrorLog

    agent_name = "lead_research"
    error_type = "ValueError"
    step = "enrich"
    message = factory.Sequence(lambda n: f"lead {n} has no company domain")
    fingerprint = factory.LazyAttribute(
        lambda o: fingerprint(agent_name=o.agent_name, error_type=o.error_type, step=o.step, message=o.message)
    )
    occurred_at = factory.LazyFunction(clock.now)


class KnowledgeRuleFactory(DjangoModelFactory[KnowledgeRule]):
    class Meta:
        model = KnowledgeRule

    agent_name = "lead_research"
    error_type = "ValueError"
    rule_type = KnowledgeRule.RuleType.VALIDATE
    text = "Skip leads without a company domain."
    condition = factory.LazyFunction(lambda: {"field": "company_domain", "op": "empty"})
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    status = KnowledgeRule.Status.ACTIVE


class RuleApplicationFactory(DjangoModelFactory[RuleApplication]):
    class Meta:
        model = RuleApplication

    rule = factory.SubFactory(KnowledgeRuleFactory)
    run = factory.LazyFunction(make_run)
    mode = RuleApplication.Mode.APPLIED
    stage = "before"
    effect = "skipped"


class ResponseTrackingFactory(DjangoModelFactory[ResponseTracking]):
    class Meta:
        model = ResponseTracking

    run = factory.LazyFunction(make_run)
    agent_name = factory.LazyAttribute(lambda o: o.run.agent_name if o.run else "lead_research")
    response_type = "run"
    actual_outcome = ResponseTracking.Outcome.SUCCESS


class AgentLearningFactory(DjangoModelFactory[AgentLearning]):
    class Meta:
        model = AgentLearning

    agent_name = "lead_research"
    learning_area = factory.Sequence(lambda n: f"fp:{n:012x}")
    period_start = factory.LazyFunction(lambda: clock.now().date())
    period_end = factory.LazyAttribute(lambda o: o.period_start)
    success_rate_before = Decimal("0.5")
    success_rate_after = Decimal("0.9")
    improvement_delta = Decimal("0.4")


class FAQFactory(DjangoModelFactory[FAQ]):
    class Meta:
        model = FAQ

    question = factory.Sequence(lambda n: f"Question {n}?")
    answer = "An answer."
    category = "general"
    approved = True


class ErrorGroupNoteFactory(DjangoModelFactory[ErrorGroupNote]):
    class Meta:
        model = ErrorGroupNote

    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    agent_name = "lead_research"
    failed_runs = 3
    reason = "no condition over the input and the facts separates the failing runs from the succeeding ones"
