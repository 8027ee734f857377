"""change_request: what a client's message asks, a scope change priced and approved before it is
accepted, quick answers, and what we cannot read left to a person."""

from __future__ import annotations

import sys
import types
from decimal import Decimal
from typing import Any

import pytest

from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, drain, rerun, run_agent
from crm.models import Message
from delivery.agents.projects.change_request import read_message
from delivery.agents.projects.language import detect
from delivery.agents.projects.pricing_adapter import quote_change
from delivery.models import ChangeRequest, Milestone, ProjectTask
from integrations.models import SandboxRecord
from tests.delivery.agents.projects.scene import contact, inbound, market_person, planned_project, signed_client
from tests.factories.crm import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

WHATSAPP = (
    "Could we also add a WhatsApp channel to the assistant? Many of our customers message us there and we "
    "would like it to answer them too."
)


def asked(text: str = WHATSAPP, subject: str = "Adding WhatsApp") -> tuple[Any, Message]:
    project = planned_project()
    return project, inbound(project.client, text, subject=subject)


def test_a_scope_change_is_priced_answered_at_once_and_waits_for_an_operator() -> None:
    project, message = asked()

    result = run_agent("change_request", {"message_id": message.pk})

    assert result.run.status == AgentRun.Status.ESCALATED
    change = ChangeRequest.objects.get(source_message=message)
    assert change.status == ChangeRequest.Status.AWAITING_APPROVAL and change.project == project
    assert "WhatsApp channel" in change.description
    # A new channel is a large change: 40 hours at the blended 150 an hour.
    assert change.price == Decimal("6000.00") and change.currency == "USD"
    ack = Message.objects.get(idempotency_key=f"change_request:{change.pk}:received")
    assert ack.subject == "Re: Adding WhatsApp" and ack.status == Message.Status.SENT
    assert "logged it as a change to the agreed scope" in ack.body
    approval = result.escalations[0]
    assert approval.kind == Escalation.Kind.APPROVAL and "6000.00 USD" in approval.reason
    assert result.output["hours"] == "40.0" and result.output["answered"]


def test_once_approved_the_change_is_planned_on_the_board_committed_and_confirmed() -> None:
    project, message = asked()
    first = run_agent("change_request", {"message_id": message.pk})
    hours_before = project.committed_hours
    decide(escalation=first.escalations[0], approve=True, user=None)

    result = rerun(first.run)

    assert result.status == "succeeded", result.error
    change = ChangeRequest.objects.get()
    assert change.status == ChangeRequest.Status.APPROVED
    milestone = Milestone.objects.get(project=project, name__startswith="Change 1:")
    assert milestone.amount == change.price and milestone.acceptance_criteria[0].startswith("Delivered as asked:")
    task = ProjectTask.objects.get(milestone=milestone)
    assert task.kind == ProjectTask.Kind.CHANGE and task.estimate_hours == Decimal("40.0") and task.external_id
    project.refresh_from_db()
    assert project.committed_hours == hours_before + Decimal("40") and project.due_on >= milestone.due_on
    confirmation = Message.objects.get(idempotency_key=f"change_request:{change.pk}:approved")
    assert "6000.00 USD" in confirmation.body and confirmation.status == Message.Status.SENT


def test_a_rejected_change_gets_a_polite_no_when_tracking_comes_round() -> None:
    _project, message = asked()
    first = run_agent("change_request", {"message_id": message.pk})
    decide(escalation=first.escalations[0], approve=False, user=None, note="not this quarter")
    first.run.refresh_from_db()
    assert first.run.status == AgentRun.Status.CANCELED

    sweep = run_agent("progress_tracking", {})
    drain()

    assert [r.input for r in sweep.handed_to("change_request")] == [{"message_id": message.pk}]
    change = ChangeRequest.objects.get()
    assert change.status == ChangeRequest.Status.REJECTED
    no = Message.objects.get(idempotency_key=f"change_request:{change.pk}:declined")
    assert "cannot take this on within the current engagement" in no.body
    assert not run_agent("progress_tracking", {}).handed_to("change_request")  # answered once


def test_asking_again_about_the_same_message_records_nothing_twice() -> None:
    _project, message = asked()
    run_agent("change_request", {"message_id": message.pk})

    again = run_agent("change_request", {"message_id": message.pk})

    assert again.run.status == AgentRun.Status.ESCALATED  # it waits on the same approval
    assert ChangeRequest.objects.count() == 1
    assert Escalation.objects.filter(kind=Escalation.Kind.APPROVAL).count() == 1
    assert Message.objects.filter(idempotency_key__startswith="change_request:").count() == 1


def test_a_message_in_german_is_not_read_but_recorded_answered_and_escalated() -> None:
    _project, message = asked(
        "Könnten Sie bitte auch einen WhatsApp-Kanal für den Assistenten hinzufügen? Viele unserer Kunden "
        "schreiben uns dort.",
        subject="Erweiterung",
    )

    result = run_agent("change_request", {"message_id": message.pk})

    assert result.status == "succeeded", result.error
    assert not ChangeRequest.objects.exists()
    assert "written in German" in result.output["note"]
    escalation = Escalation.objects.get(dedupe_key=f"message:{message.pk}:language")
    assert "in German" in escalation.reason and escalation.payload["message_id"] == message.pk
    assert Message.objects.get(idempotency_key=f"message:{message.pk}:received").subject == "Re: Erweiterung"


def test_a_defect_becomes_a_fix_on_the_board_and_a_quick_answer() -> None:
    project, message = asked(
        "The assistant told a customer today that we are open on Sundays, which we are not. Could you take a look?",
        subject="Wrong opening hours",
    )

    first, _second = assert_idempotent("change_request", {"message_id": message.pk})

    assert first.output["kind"] == "bug_report" and first.output["answered"]
    fix = ProjectTask.objects.get(kind=ProjectTask.Kind.FIX)
    assert fix.project == project and fix.external_id and fix.title.startswith("Fix: The assistant told")
    assert not ChangeRequest.objects.exists()


def test_thanks_needs_nothing_and_a_question_goes_to_a_person() -> None:
    project, thanks = asked("Just wanted to say thanks, the team is really happy with how this is going.", "Thank you")
    question = inbound(project.client, "When is the next check-in call?", subject="Check-in")

    said_thanks = run_agent("change_request", {"message_id": thanks.pk})
    asked_question = run_agent("change_request", {"message_id": question.pk})

    assert said_thanks.output["kind"] == "thanks" and not said_thanks.acts and not said_thanks.escalations
    assert asked_question.output["kind"] == "question"
    assert "client question" in Escalation.objects.get(dedupe_key=f"message:{question.pk}:question").reason


def test_a_stranger_or_a_client_without_a_project_is_recorded_not_changed() -> None:
    stranger = inbound(signed_client(), WHATSAPP, lead=LeadFactory.create())
    idle = signed_client(person=market_person(index=1))
    from_idle = inbound(idle, WHATSAPP)

    outside = run_agent("change_request", {"message_id": stranger.pk})
    no_project = run_agent("change_request", {"message_id": from_idle.pk})

    assert "no client" in outside.output["note"]
    assert no_project.output["note"] == "no open project to change: escalated"
    assert Escalation.objects.filter(dedupe_key=f"message:{from_idle.pk}:no_project").exists()
    assert not ChangeRequest.objects.exists()


def test_the_reading_tells_changes_defects_questions_and_thanks_apart() -> None:
    assert read_message(
        "Can we extend the workflow so that it also creates the invoices in our accounting tool?"
    ).kind == ("scope_change")
    assert read_message("Could you change the button colour to our brand blue?").size == "small"
    assert read_message("The sync to our CRM seems to have stopped since yesterday. Is something broken?").kind == (
        "bug_report"
    )
    assert read_message("How do we export last month's conversations?").kind == "question"
    assert read_message("Thank you, great work!").kind == "thanks"
    assert detect(WHATSAPP) == "en" and detect("Vielen Dank, das Team ist sehr zufrieden mit dem Ergebnis.") == "de"
    assert detect("Thanks!") == ""


def test_the_price_comes_from_the_pricing_service_when_it_is_installed(monkeypatch: Any) -> None:
    line = types.SimpleNamespace(quantity=Decimal("16"))
    estimate = types.SimpleNamespace(
        price=Decimal("2400.00"), currency="USD", size="medium", lines=[line], basis="a medium change: 16 hours",
        as_json=lambda: {"size": "medium", "price": "2400.00"},
    )  # fmt: skip
    service = types.ModuleType("sales.services.pricing")
    service.Terms = types.SimpleNamespace(of=lambda agency: "terms")  # type: ignore[attr-defined]
    service.estimate_change = lambda description, terms: estimate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sales.services.pricing", service)

    quote = quote_change("Rename the labels", hours=Decimal("6"))

    assert (quote.price, quote.hours, quote.basis) == (Decimal("2400.00"), Decimal("16.0"), "a medium change: 16 hours")
    assert quote.estimate == {"size": "medium", "price": "2400.00"}


def test_a_clients_reply_reaches_change_request_through_the_response_handler() -> None:
    project = planned_project()
    lead = contact(project.client)

    run_agent(
        "email_response_handler",
        {"kind": "reply", "lead_email": lead.email, "message_id": "<cr-1@client.example.com>",
         "subject": "Adding WhatsApp", "text": WHATSAPP},
    )  # fmt: skip
    drain()

    change = ChangeRequest.objects.get()
    assert change.project == project and change.source_message is not None and change.source_message.body == WHATSAPP
    assert SandboxRecord.objects.filter(kind="email", data__to=lead.email, data__subject="Re: Adding WhatsApp").exists()


def test_a_colleague_of_the_contact_gets_the_answer() -> None:
    project = planned_project()
    colleague = LeadFactory.create(company=project.client.company, email=f"ops@{project.client.company.domain}")
    message = inbound(project.client, WHATSAPP, subject="Adding WhatsApp", lead=colleague)

    run_agent("change_request", {"message_id": message.pk})

    ack = Message.objects.get(idempotency_key__endswith=":received")
    assert ack.to_email == colleague.email


def test_a_defect_reported_again_is_one_fix_while_open_and_a_new_one_once_it_was_closed() -> None:
    # A client wrote the same defect twice (the sandbox's clients do): a second task of the same
    # title broke the project's unique title and failed the run.
    sundays = (
        "The assistant told a customer today that we are open on Sundays, which we are not. Could you take a look?"
    )
    project, first = asked(sundays, subject="Wrong opening hours")
    run_agent("change_request", {"message_id": first.pk})
    again = inbound(project.client, sundays, subject="Wrong opening hours")

    result = run_agent("change_request", {"message_id": again.pk})

    assert result.status == "succeeded", result.error
    fix = ProjectTask.objects.get(kind=ProjectTask.Kind.FIX)
    assert result.output["tasks"] == [fix.title]
    answer = Message.objects.get(idempotency_key=f"message:{again.pk}:fix-answer")
    assert "on our board already" in answer.body

    ProjectTask.objects.filter(pk=fix.pk).update(status=ProjectTask.Status.DONE)
    back = inbound(project.client, sundays, subject="Wrong opening hours")
    reopened = run_agent("change_request", {"message_id": back.pk})

    assert reopened.status == "succeeded", reopened.error
    fixes = list(ProjectTask.objects.filter(kind=ProjectTask.Kind.FIX).order_by("pk"))
    assert [t.title for t in fixes] == [fix.title, f"{fix.title} (report 2)"]
    assert fixes[1].external_id and fixes[1].status == ProjectTask.Status.TO_DO
