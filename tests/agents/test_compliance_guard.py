"""The outbox's compliance guard: no act reaches a suppressed address, whichever agent performs it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from agents import outbox, runtime
from agents.errors import ComplianceBlocked
from agents.models import Action, AgentRun
from agents.services.runs import start_run
from crm.services.suppression import suppress, suppression_guard
from learning.models import ErrorLog, RuleApplication
from smarter_team import clock
from tests.agents.sample_agents import Outbox
from tests.factories.crm import LeadFactory, SuppressionEntryFactory
from tests.factories.learning import KnowledgeRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mailbag() -> Iterator[None]:
    Outbox.sent, Outbox.fail_next = [], 0
    yield
    Outbox.sent, Outbox.fail_next = [], 0


def _mail(*to: str, per_recipient: bool = False) -> AgentRun:
    run = start_run(
        agent_name="t_mailer",
        input={"to": list(to), "per_recipient": per_recipient},
        trigger="event",
        enqueue=False,
    )
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def test_the_crm_app_registers_the_suppression_guard() -> None:
    assert suppression_guard in outbox._guards.values()


def test_an_address_not_suppressed_is_sent_to() -> None:
    run = _mail("ada@fine.example")
    assert run.status == AgentRun.Status.SUCCEEDED
    assert Outbox.sent == ["ada@fine.example"]


def test_a_suppressed_address_is_never_sent_to_and_the_run_is_skipped_with_the_reason() -> None:
    suppress(email_or_domain="Jane@Acme.example", reason="unsubscribe")
    run = _mail("jane@acme.example")
    assert Outbox.sent == []
    assert run.status == AgentRun.Status.SKIPPED
    assert "suppression list" in run.error and run.output == {"skipped": run.error}
    assert "jane" not in run.error.lower()  # stored refusals name no one: an erasure does not scrub them
    action = Action.objects.get(run=run)
    assert action.status == Action.Status.FAILED and action.error.startswith("blocked: ")
    assert action.attempts == 0  # the provider was never called
    assert not ErrorLog.objects.exists()  # a refusal is the rule working, not an error to learn from


def test_a_suppressed_domain_covers_its_subdomains() -> None:
    suppress(email_or_domain="acme.example", reason="complaint")
    assert _mail("bob@mail.acme.example").status == AgentRun.Status.SKIPPED
    assert Outbox.sent == []


def test_an_agent_acting_for_many_recipients_skips_only_the_suppressed_one() -> None:
    suppress(email_or_domain="no@acme.example", reason="unsubscribe")
    run = _mail("yes@acme.example", "no@acme.example", "also@fine.example", per_recipient=True)
    assert run.status == AgentRun.Status.SUCCEEDED
    assert run.output == {"sent": ["yes@acme.example", "also@fine.example"], "blocked": ["no@acme.example"]}
    assert Outbox.sent == ["yes@acme.example", "also@fine.example"]


def test_an_unsubscribe_between_two_attempts_stops_the_retry() -> None:
    Outbox.fail_next = 1  # the first attempt times out at the provider, before sending
    run = _mail("jane@acme.example")
    assert run.status == AgentRun.Status.QUEUED and run.due_at is not None and run.due_at > clock.now()
    suppress(email_or_domain="jane@acme.example", reason="unsubscribe")  # the reply said "stop"
    AgentRun.objects.filter(pk=run.pk).update(due_at=clock.now())
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SKIPPED
    assert Outbox.sent == []


def test_an_act_that_already_happened_is_reconciled_not_blocked() -> None:
    # A send performed before the unsubscribe (the worker died before recording it) did happen:
    # the outbox must record it as done rather than pretend it was stopped.
    class Reconciling:
        def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
            raise AssertionError("must not send again")

        def reconcile(self, payload: dict[str, Any], key: str) -> dict[str, Any] | None:
            return {"message_id": "msg-from-provider"}

    outbox.register_performer("test.reconciled_email", contacts=("to",))(Reconciling)
    try:
        Action.objects.create(
            kind="test.reconciled_email",
            idempotency_key="test.reconciled_email:k",
            payload={"to": "jane@acme.example"},
            attempts=1,
        )
        suppress(email_or_domain="jane@acme.example", reason="unsubscribe")
        result = outbox.act(run=None, kind="test.reconciled_email", key="k", payload={"to": "jane@acme.example"})
    finally:
        outbox.unregister_performer("test.reconciled_email")
    assert result == {"message_id": "msg-from-provider"}
    assert Action.objects.get().status == Action.Status.DONE


@pytest.mark.parametrize("payload", [{}, {"to": ""}, {"to": []}, {"cc": "someone@fine.example"}])
def test_an_act_whose_recipient_cannot_be_found_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ComplianceBlocked, match="no recipient under to"):
        outbox.act(run=None, kind="test.email", key="k", payload=payload)
    assert Outbox.sent == []


def test_an_invalid_address_is_refused() -> None:
    with pytest.raises(ComplianceBlocked, match="not a valid address"):
        outbox.act(run=None, kind="test.email", key="k", payload={"to": "not an address"})
    assert Outbox.sent == []


def test_acts_that_reach_nobody_are_not_checked(tmp_path: Any) -> None:
    suppress(email_or_domain="acme.example", reason="manual")
    result = outbox.act(run=None, kind="test.side_effect", key="k", payload={"path": str(tmp_path / "x")})
    assert result == {"sent": "test.side_effect:k"}


def test_the_blocked_address_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    suppress(email_or_domain="jane@acme.example", reason="unsubscribe")
    with caplog.at_level(logging.DEBUG):
        _mail("jane@acme.example")
    assert "jane@acme.example" not in caplog.text


def test_a_performer_that_reaches_people_must_name_its_recipients() -> None:
    with pytest.raises(ValueError, match="reaches people"):
        outbox.register_performer("email.send", contacts=())
    assert "email.send" not in outbox._performers


def test_an_address_of_a_lead_marked_do_not_contact_is_refused() -> None:
    LeadFactory(email="quiet@fine.example", do_not_contact=True)
    assert _mail("quiet@fine.example").status == AgentRun.Status.SKIPPED
    assert Outbox.sent == []


class _Dialer:
    calls: list[str] = []  # reset by the fixture below

    def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        self.calls.append(payload["phone"])
        return {"call": key}


@pytest.fixture
def dialer() -> Iterator[type[_Dialer]]:
    _Dialer.calls = []
    outbox.register_performer("test.call", contacts=("phone", "profile"))(_Dialer)
    yield _Dialer
    outbox.unregister_performer("test.call")


def test_a_phone_number_is_checked_through_the_lead_it_belongs_to(dialer: type[_Dialer]) -> None:
    LeadFactory(email="ada@acme.example", phone="+14155550100")
    assert outbox.act(run=None, kind="test.call", key="ok", payload={"phone": "+1 (415) 555-0100"}) == {
        "call": "test.call:ok"
    }
    suppress(email_or_domain="acme.example", reason="complaint")
    with pytest.raises(ComplianceBlocked, match=r"do-not-contact|suppression list"):
        outbox.act(run=None, kind="test.call", key="after", payload={"phone": "+1 415 555 0100"})
    assert dialer.calls == ["+1 (415) 555-0100"]


def test_a_phone_number_no_lead_owns_cannot_be_checked_and_is_refused(dialer: type[_Dialer]) -> None:
    with pytest.raises(ComplianceBlocked, match="no lead owns"):
        outbox.act(run=None, kind="test.call", key="k", payload={"phone": "+14155550199"})
    assert dialer.calls == []


def test_a_profile_url_is_checked_through_its_lead(dialer: type[_Dialer]) -> None:
    LeadFactory(email="bo@acme.example", linkedin_url="https://www.linkedin.com/in/bo-acme", do_not_contact=True)
    with pytest.raises(ComplianceBlocked, match="do-not-contact"):
        outbox.act(run=None, kind="test.call", key="k", payload={"profile": "www.linkedin.com/in/bo-acme/"})
    assert dialer.calls == []


def test_rules_applied_before_a_blocked_act_are_closed_not_left_pending() -> None:
    rule = KnowledgeRuleFactory.create(agent_name="t_mailer", rule_type="always", condition={}, text="Be brief.")
    suppress(email_or_domain="jane@acme.example", reason="unsubscribe")
    run = _mail("jane@acme.example")
    assert run.status == AgentRun.Status.SKIPPED
    outcomes = set(RuleApplication.objects.filter(run=run).values_list("outcome", flat=True))
    assert outcomes and RuleApplication.Outcome.PENDING not in outcomes
    assert rule.pk in {a.rule_id for a in RuleApplication.objects.filter(run=run)}


def test_a_phone_number_of_a_lead_whose_address_is_listed_is_refused(dialer: type[_Dialer]) -> None:
    # The entry alone (written by another path, the lead not flagged yet) must be enough.
    SuppressionEntryFactory(value="kim@acme.example")
    LeadFactory(email="kim@acme.example", phone="+14155550111", do_not_contact=False)
    with pytest.raises(ComplianceBlocked, match="address is on the suppression list"):
        outbox.act(run=None, kind="test.call", key="k", payload={"phone": "+14155550111"})
    assert dialer.calls == []
