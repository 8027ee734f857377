"""knowledge_transfer: a handover document grounded in stored facts, saved and emailed once."""

from __future__ import annotations

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.agents.offboarding.common import CHECKLIST, HANDOVER, item_done
from delivery.models import Offboarding
from delivery.services.offboarding import start_offboarding
from tests.delivery.agents.lifecycle import delivered_client, signed_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def leaving(client: object) -> Offboarding:
    return start_offboarding(client=client, reason="Budget cut", checklist=CHECKLIST)  # type: ignore[arg-type]


def section(title: str, body: str, *sources: str) -> dict[str, object]:
    return {"heading": title, "body": body, "sources": list(sources)}


def test_the_handover_says_what_was_built_and_how_to_run_it_from_the_stored_facts() -> None:
    offboarding = leaving(delivered_client())

    result = run_agent("knowledge_transfer", {"offboarding_id": offboarding.pk})

    assert result.status == "succeeded", result.error
    offboarding.refresh_from_db()
    doc = offboarding.handover_document
    assert result.output["sections"] == ["What we built", "How to run it", "Accounts and access"]
    assert "Email assistant" in doc and "https://docs.example.com/assistant-runbook" in doc
    assert "answers 90% of the test questions" in doc and "93% on 200 questions" in doc
    assert "HubSpot" in doc and "Slack" in doc and "rotate" in doc
    assert "(Based on: deliverable 'Email assistant'" in doc
    assert item_done(offboarding, HANDOVER)
    email = Message.objects.get(idempotency_key=f"offboarding:{offboarding.pk}:handover")
    contact = offboarding.client.primary_contact
    assert contact is not None and email.body == doc and email.to_email == contact.email
    assert email.status == Message.Status.SENT


def test_a_document_with_an_invented_link_or_an_uncited_section_is_replaced_by_the_heuristic() -> None:
    offboarding = leaving(delivered_client())
    invented = {
        "title": "Handover",
        "sections": [
            section("What we built", "A voice bot, see https://made-up.example.com/bot", "client"),
            section("How to run it", "Restart it weekly.", "client"),
        ],
    }

    result = run_agent("knowledge_transfer", {"offboarding_id": offboarding.pk}, answers=[invented])

    assert result.status == "succeeded", result.error
    offboarding.refresh_from_db()
    assert "made-up.example.com" not in offboarding.handover_document
    assert "Email assistant" in offboarding.handover_document


def test_a_grounded_document_from_the_brain_is_used_as_written() -> None:
    offboarding = leaving(delivered_client())
    deliverable = offboarding.client.projects.get().milestones.get().deliverables.get()
    good = {
        "title": "Handover: what you have",
        "sections": [
            section("What we built", "An email assistant for routine support mail.", f"deliverable:{deliverable.pk}"),
            section(
                "How to run it",
                "The runbook is at https://docs.example.com/assistant-runbook.",
                f"deliverable:{deliverable.pk}",
            ),
        ],
    }

    result = run_agent("knowledge_transfer", {"offboarding_id": offboarding.pk}, answers=[good])

    assert result.status == "succeeded", result.error
    offboarding.refresh_from_db()
    assert offboarding.handover_document.startswith("Handover: what you have")
    assert "An email assistant for routine support mail." in offboarding.handover_document
    assert result.output["cited"] == 1


def test_sections_citing_facts_that_do_not_exist_are_refused() -> None:
    offboarding = leaving(delivered_client())
    bad = {
        "title": "x",
        "sections": [section("What we built", "Things.", "deliverable:99999"), section("How to run it", "Run.", "")],
    }

    result = run_agent("knowledge_transfer", {"offboarding_id": offboarding.pk}, answers=[bad])

    offboarding.refresh_from_db()
    assert result.status == "succeeded" and "Things." not in offboarding.handover_document


def test_without_any_recorded_work_the_document_says_so_instead_of_inventing_it() -> None:
    offboarding = leaving(signed_client())

    run_agent("knowledge_transfer", {"offboarding_id": offboarding.pk})

    offboarding.refresh_from_db()
    assert "No project or deliverable was recorded under this engagement." in offboarding.handover_document


def test_the_handover_is_written_and_emailed_once() -> None:
    offboarding = leaving(delivered_client())

    assert_idempotent("knowledge_transfer", {"offboarding_id": offboarding.pk})

    assert Message.objects.filter(intent="offboarding_handover").count() == 1
