"""Declared wiring: every handoff, webhook target, schedule and act kind names something real.

Each rule of ``agents.checks.check_agent_wiring`` has a test that breaks it on purpose.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from pydantic import BaseModel

from agents import outbox, registry, roster
from agents.base import Agent
from agents.checks import check_agent_wiring
from agents.context import RunContext
from tests.agents.sample_agents import SideEffect


def _ids() -> list[str]:
    return [message.id or "" for message in check_agent_wiring()]


@pytest.fixture
def temporary() -> Iterator[list[str]]:
    """Agents a test registers, removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)


def _agent(name: str, **attrs: Any) -> type[Agent[Any, Any]]:
    body: dict[str, Any] = {"name": name, "category": "test", "trigger": "event", "__module__": __name__}
    body.setdefault("act", lambda self, ctx, facts: BaseModel())
    body.update(attrs)
    return type(f"Agent_{name}", (Agent,), body)


def test_the_project_as_it_stands_passes_the_wiring_check() -> None:
    assert check_agent_wiring() == []


def test_the_roster_has_the_76_agents_of_agents_md_and_planned_only_names_unbuilt_ones() -> None:
    assert len(roster.ROSTER) == 76
    assert set(roster.ROSTER) >= roster.PLANNED
    assert not any(registry.is_registered(name) for name in roster.PLANNED)


def test_a_declared_handoff_to_an_unknown_agent_fails_the_check(temporary: list[str]) -> None:
    registry.register(_agent("t_wired_wrong", next=("no_such_agent",)))
    temporary.append("t_wired_wrong")
    assert "agents.E010" in _ids()


class Ping(BaseModel):
    text: str = ""


class Pinger(Agent[Ping, Ping]):
    name = "t_pinger"
    category = "test"
    trigger = "event"
    Input = Ping
    Output = Ping
    next = ("t_echo",)

    def act(self, ctx: RunContext, facts: Ping) -> Ping:
        ctx.handoff("t_chain", {"n": 1})  # not declared in next
        return facts


def test_a_handoff_in_the_code_that_next_does_not_declare_fails_the_check(temporary: list[str]) -> None:
    registry.register(Pinger)
    temporary.append("t_pinger")
    errors = [m for m in check_agent_wiring() if m.id == "agents.E011"]
    assert errors and "'t_chain'" in errors[0].msg


def test_a_planned_agent_that_gets_registered_must_leave_the_planned_list(
    temporary: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The roster is complete: a future roster agent stands in for a planned one.
    monkeypatch.setattr(roster, "ROSTER", {**roster.ROSTER, "t_future": "test"})
    monkeypatch.setattr(roster, "PLANNED", frozenset({"t_future"}))
    registry.register(_agent("t_future"))
    temporary.append("t_future")
    assert "agents.E012" in _ids()


def test_an_agents_md_agent_neither_registered_nor_planned_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "ROSTER", {**roster.ROSTER, "t_future": "test"})
    assert "agents.E013" in _ids()


class Unheard(BaseModel):
    x: int = 0


class UnknownAct(Agent[Ping, Ping]):
    name = "t_unknown_act"
    category = "test"
    trigger = "event"
    Input = Ping
    Output = Ping

    def act(self, ctx: RunContext, facts: Ping) -> Ping:
        ctx.act("test.nobody_performs_this", "k", Unheard())
        return facts


class WrongPayload(Agent[Ping, Ping]):
    name = "t_wrong_payload"
    category = "test"
    trigger = "event"
    Input = Ping
    Output = Ping

    def act(self, ctx: RunContext, facts: Ping) -> Ping:
        ctx.act("test.side_effect", "k", Unheard())  # the kind takes a SideEffect
        return facts


def test_an_act_kind_no_performer_handles_fails_the_check(temporary: list[str]) -> None:
    registry.register(UnknownAct)
    temporary.append("t_unknown_act")
    assert "agents.E014" in _ids()


def test_an_act_given_another_kinds_payload_fails_the_check(temporary: list[str]) -> None:
    registry.register(WrongPayload)
    temporary.append("t_wrong_payload")
    errors = [m for m in check_agent_wiring() if m.id == "agents.E015"]
    assert errors and "takes SideEffect" in errors[0].msg
    assert SideEffect.__name__ == outbox.kind_spec("test.side_effect").payload.__name__


def test_a_webhook_provider_starting_an_unknown_agent_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from integrations.webhooks.providers import PROVIDERS

    typo = dataclasses.replace(PROVIDERS["stripe"], starts=("stripe_payment_processingg",))
    monkeypatch.setitem(PROVIDERS, "stripe", typo)
    assert "agents.E016" in _ids()


@pytest.mark.django_db
def test_a_schedule_naming_an_unknown_agent_fails_the_check() -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="agent:ghost", task="agents.start_scheduled", args=json.dumps(["ghost_agent"]), interval=every
    )
    assert "agents.E017" in _ids()


def test_manage_py_check_fails_on_broken_wiring(temporary: list[str]) -> None:
    registry.register(_agent("t_wired_wrong2", next=("no_such_agent",)))
    temporary.append("t_wired_wrong2")
    with pytest.raises(SystemCheckError, match="no_such_agent"):
        call_command("check")


@pytest.mark.django_db
def test_a_webhook_handler_cannot_start_an_agent_its_provider_does_not_declare() -> None:
    from integrations.models import WebhookEvent
    from integrations.webhooks.dispatch import UndeclaredAgent, start_event_run
    from integrations.webhooks.inputs import PaymentEvent

    event = WebhookEvent.objects.create(
        provider="stripe", event_id="evt_x", event_type="invoice.paid", signature_ok=True
    )
    with pytest.raises(UndeclaredAgent, match="does not declare"):
        start_event_run(event=event, agent_name="t_echo", input=PaymentEvent(kind="payment_succeeded"))


def test_agents_list_has_a_header_and_counts_the_roster(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("agents", "list")
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["NAME", "CATEGORY", "TRIGGER"]
    assert "data_validation" in out
    assert f"{len(roster.ROSTER)} of {len(roster.ROSTER)} AGENTS.md agents registered." in out
    assert "planned, not built yet" not in out  # the roster is complete
