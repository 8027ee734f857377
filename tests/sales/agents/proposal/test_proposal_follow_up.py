"""proposal_follow_up: sent proposals chased on business days 2, 5 and 10, then expired when stale."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Lead, Message
from integrations.sandbox.proposals import report
from integrations.sandbox.store import remember
from sales.models import Proposal
from tests.factories.crm import LeadFactory
from tests.factories.sales import ProposalFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(frozen: Any, day: dt.date, hour: int = 14) -> None:
    frozen.set(dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC))


def sent_proposal(**extra: Any) -> Proposal:
    lead = LeadFactory.create(status=Lead.Status.PROPOSAL_SENT, **extra)
    return ProposalFactory.create(
        sent=True,
        lead=lead,
        title="Lead follow-up automation",
        sent_at=MONDAY,
        valid_until=dt.date(2026, 4, 1),
        requirements={"needs": [{"text": "Leads are chased by hand", "quote": "we chase leads by hand"}]},
    )


def notes() -> list[Message]:
    return list(Message.objects.filter(idempotency_key__startswith="proposal:").order_by("pk"))


def test_the_first_nudge_goes_two_business_days_after_sending(frozen_clock: Any) -> None:
    proposal = sent_proposal()
    at(frozen_clock, dt.date(2026, 3, 3))  # Tuesday: one business day
    assert run_agent("proposal_follow_up").output["followed_up"] == []
    at(frozen_clock, dt.date(2026, 3, 4))  # Wednesday: two
    result = run_agent("proposal_follow_up")
    assert result.output["followed_up"] == [f"proposal:{proposal.pk}:follow-up:1"]
    [note] = notes()
    assert note.to_email == proposal.lead.email and note.status == Message.Status.SENT  # type: ignore[union-attr]
    assert note.subject.startswith("Did the proposal reach you?")
    assert "Lead follow-up automation, $9,000.00 in total, to fix that leads are chased by hand" in note.body
    proposal.refresh_from_db()
    assert proposal.follow_ups_sent == 1


def test_the_same_day_twice_sends_one_nudge(frozen_clock: Any) -> None:
    sent_proposal()
    at(frozen_clock, dt.date(2026, 3, 4))
    assert_idempotent("proposal_follow_up")
    assert len(notes()) == 1


def test_a_viewed_proposal_gets_a_different_note_and_the_cadence_stops_at_three(frozen_clock: Any) -> None:
    proposal = sent_proposal()
    for day in (dt.date(2026, 3, 4), dt.date(2026, 3, 9), dt.date(2026, 3, 16), dt.date(2026, 3, 24)):
        if day == dt.date(2026, 3, 9):
            Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.VIEWED)
        at(frozen_clock, day)
        run_agent("proposal_follow_up")
    first, second, third = notes()  # none on the 24th: three is the most
    assert "reach you" in first.subject
    assert "any questions" in second.subject and "Is anything holding it up?" in second.body
    assert "this is the last time I'll nudge you" in third.body and "valid until 01 April" in third.body
    assert [m.idempotency_key for m in (first, second, third)] == [
        f"proposal:{proposal.pk}:follow-up:{n}" for n in (1, 2, 3)
    ]


def test_the_cadence_counts_the_buyers_business_days(frozen_clock: Any) -> None:
    sent_proposal()
    at(frozen_clock, dt.date(2026, 3, 7))  # a Saturday, long past two days: not on their weekend
    assert run_agent("proposal_follow_up").output["followed_up"] == []
    friday = dt.datetime(2026, 3, 27, 15, 0, tzinfo=dt.UTC)
    easter = ProposalFactory.create(
        sent=True, sent_at=friday, valid_until=dt.date(2026, 4, 30),
        lead=LeadFactory.create(country="DE", time_zone="Europe/Berlin"),
    )  # fmt: skip
    Proposal.objects.exclude(pk=easter.pk).update(status=Proposal.Status.SIGNED, signed_at=friday)
    at(frozen_clock, dt.date(2026, 4, 6))  # Easter Monday: Mon 30, Tue 31, Wed 1, Thu 2 were days; Good Friday not
    assert run_agent("proposal_follow_up").output["followed_up"] == []
    at(frozen_clock, dt.date(2026, 4, 2))
    assert len(run_agent("proposal_follow_up").output["followed_up"]) == 1


def test_a_stale_proposal_expires_with_a_last_note_and_the_deal_rests(frozen_clock: Any) -> None:
    proposal = sent_proposal()
    at(frozen_clock, dt.date(2026, 4, 2))
    result = run_agent("proposal_follow_up")
    assert result.output["expired"] == [proposal.pk]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.EXPIRED and proposal.reactivate_after == dt.date(2026, 7, 1)
    [note] = notes()
    assert note.idempotency_key == f"proposal:{proposal.pk}:expired" and "expired on 01 April" in note.body
    assert proposal.lead.status == Lead.Status.LOST  # type: ignore[union-attr]
    assert run_agent("proposal_follow_up").output["expired"] == []


def test_signed_and_uncontactable_buyers_are_not_chased(frozen_clock: Any) -> None:
    ProposalFactory.create(signed=True, sent_at=MONDAY)
    sent_proposal(do_not_contact=True)
    at(frozen_clock, dt.date(2026, 3, 4))
    assert run_agent("proposal_follow_up").output == {
        "followed_up": [], "expired": [], "not_contactable": [], "moved_on": []
    }  # fmt: skip


def test_a_note_the_brain_fills_with_another_price_is_replaced(frozen_clock: Any) -> None:
    sent_proposal()
    at(frozen_clock, dt.date(2026, 3, 4))
    result = run_agent(
        "proposal_follow_up",
        answers=[{"subject": "A better deal", "body": "We can do it for $5,000 if you sign today."}],
    )
    assert len(result.output["followed_up"]) == 1
    [note] = notes()
    assert "$5,000" not in note.body and "$9,000.00" in note.body


def test_a_buyer_who_answered_at_pandadoc_is_not_chased_and_a_view_counts(frozen_clock: Any) -> None:
    signed_there, viewed_there = sent_proposal(), sent_proposal()
    for proposal, state in ((signed_there, "completed"), (viewed_there, "viewed")):
        document: dict[str, Any] = {
            "document_id": proposal.document_id,
            "name": proposal.title,
            "recipients": [],
            "metadata": {},
        }
        remember(kind="document", ref=proposal.document_id or "", data={**document, "status": "sent"})
        report(document, state, MONDAY + dt.timedelta(hours=3))
    at(frozen_clock, dt.date(2026, 3, 4))
    result = run_agent("proposal_follow_up")
    assert result.output["followed_up"] == [f"proposal:{viewed_there.pk}:follow-up:1"]
    [note] = notes()
    assert "any questions" in note.subject  # the webhook of the view had not come yet: PandaDoc said so
