"""The campaign agents: copy, spam check, personalisation with citations, send times, rotation, sending."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agents.brains import scripted
from agents.models import Action, AgentRun, Escalation
from agents.services.escalations import decide, raise_escalation
from agents.testing import assert_idempotent, crash_and_finish, drain, run_agent
from crm.agents.campaign._compose import KNOWN_VARIABLES, grounding_problem, unresolved
from crm.models import Campaign, CampaignStep, Enrollment, Lead, Mailbox, MailboxDay, Message
from crm.services.agency import profile
from crm.services.mailboxes import DaySends, reserve_send
from crm.services.suppression import suppress
from crm.services.unsubscribe import link_for
from integrations.models import SandboxRecord
from smarter_team import clock
from tests.factories.crm import (
    CampaignFactory,
    CampaignStepFactory,
    EnrollmentFactory,
    IdealCustomerProfileFactory,
    LeadFactory,
    MailboxFactory,
)

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MONDAY_10_BERLIN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FETCHED = "2026-02-20T10:00:00+00:00"
CLAIM = "Acme Dental opened a second clinic in Potsdam"


@pytest.fixture(autouse=True)
def _scripted_reset() -> Iterator[None]:
    scripted.reset()
    yield
    scripted.reset()


@pytest.fixture
def monday() -> Iterator[clock.FrozenClock]:
    with clock.frozen(MONDAY_10_BERLIN) as handle:
        yield handle


def finding(claim: str = CLAIM, kind: str = "news") -> dict[str, Any]:
    return {
        "kind": kind,
        "claim": claim,
        "source_url": "https://acme-dental.example/news",
        "provider": "web",
        "fetched_at": FETCHED,
    }


def active_campaign(**kw: Any) -> Campaign:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE, **kw)
    CampaignStepFactory.create(
        campaign=campaign,
        order=0,
        delay_business_days=0,
        subject_template="{{ company }} and the front desk",
        body_template="Hi {{ first_name }},\n\n{{ first_line }}\n\nWe build AI receptionists.\n\n{{ sender_name }}",
    )
    CampaignStepFactory.create(
        campaign=campaign,
        order=1,
        delay_business_days=3,
        subject_template="Re: {{ company }}",
        body_template="Hi {{ first_name }}, a short follow-up.\n\n{{ sender_name }}",
    )
    campaign.mailboxes.add(MailboxFactory.create())
    return campaign


def personal_enrollment(campaign: Campaign, **lead_kw: Any) -> Enrollment:
    lead = LeadFactory.create(research={"findings": [finding()]}, status=Lead.Status.QUALIFIED, **lead_kw)
    variables = {
        "first_line": f"I read that {CLAIM}.",
        "grounding": [{"text": f"I read that {CLAIM}.", "cites": [CLAIM]}],
    }
    return EnrollmentFactory.create(lead=lead, campaign=campaign, variables=variables, next_send_at=clock.now())


def approve_first_batch(campaign: Campaign, django_user_model: Any) -> None:
    """An operator approved the campaign's first batch (the gate itself has its own test)."""
    escalation = raise_escalation(
        kind=Escalation.Kind.APPROVAL, reason="first batch", dedupe_key=f"approval:campaign:{campaign.pk}:first-batch"
    )
    decide(
        escalation=escalation, approve=True, user=django_user_model.objects.create_user(f"ops{campaign.pk}"), note="ok"
    )


def send_due() -> None:
    run_agent("sequence_scheduler")


# --- send_time_optimization ---------------------------------------------------------------------


def test_send_time_skips_weekend_and_holidays_in_the_leads_zone() -> None:
    # Thursday before Easter 2026, 18:00 in Berlin: Good Friday and Easter Monday are German holidays.
    with clock.frozen(dt.datetime(2026, 4, 2, 16, 0, tzinfo=dt.UTC)):
        enrollment = EnrollmentFactory.create(campaign=CampaignFactory.create(), next_send_at=clock.now())
        result = run_agent("send_time_optimization", {"enrollment_id": enrollment.pk})
    assert result.status == "succeeded", result.error
    enrollment.refresh_from_db()
    assert enrollment.next_send_at is not None
    local = enrollment.next_send_at.astimezone(BERLIN)
    assert local.date() == dt.date(2026, 4, 7) and dt.time(9) <= local.time() < dt.time(13)
    assert [w.action for w in result.writes] == ["enrollment.send_time"]


def test_send_time_inside_the_window_is_now_and_idempotent(monday: clock.FrozenClock) -> None:
    enrollment = EnrollmentFactory.create(campaign=CampaignFactory.create(), next_send_at=clock.now())
    assert_idempotent("send_time_optimization", {"enrollment_id": enrollment.pk})
    enrollment.refresh_from_db()
    assert enrollment.next_send_at == MONDAY_10_BERLIN


def test_send_time_uses_the_leads_own_zone(monday: clock.FrozenClock) -> None:
    # 09:00 UTC is 04:00 in New York: the send waits for its morning.
    lead = LeadFactory.create(time_zone="America/New_York", country="US")
    enrollment = EnrollmentFactory.create(lead=lead, campaign=CampaignFactory.create(), next_send_at=clock.now())
    run_agent("send_time_optimization", {"enrollment_id": enrollment.pk})
    enrollment.refresh_from_db()
    assert enrollment.next_send_at is not None
    local = enrollment.next_send_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert local.date() == dt.date(2026, 3, 2) and dt.time(9) <= local.time() < dt.time(13)


# --- spam_check ---------------------------------------------------------------------------------


def test_spam_check_passes_clean_copy_and_flags_spam_with_reasons() -> None:
    campaign = active_campaign()
    bad = CampaignStepFactory.create(
        campaign=campaign,
        order=2,
        subject_template="FREE audit for {{ company }}!!!",
        body_template='Click here: https://x.example <img src="a.png"> Your {{ revenue }} is 100% guaranteed.',
    )
    result = run_agent("spam_check", {"campaign_id": campaign.pk})
    assert result.status == "succeeded", result.error
    verdicts = {v["step_id"]: v for v in result.output["steps"]}
    assert result.output["passed"] is False
    clean = campaign.steps.get(order=0)
    assert verdicts[clean.pk]["passed"] is True
    flagged = verdicts[bad.pk]
    assert flagged["passed"] is False
    text = " ".join(flagged["findings"])
    for expected in ("'free'", "shouting", "exclamation", "image", "revenue", "click here"):
        assert expected in text
    bad.refresh_from_db()
    assert bad.spam_check["passed"] is False and bad.spam_check["checked_at"]
    assert not result.handoffs  # ab_testing only for a campaign that passed (and it is not built here)


def test_spam_check_requires_the_postal_address() -> None:
    agency = profile()
    agency.postal_address = " "
    agency.save()
    campaign = active_campaign()
    result = run_agent("spam_check", {"campaign_id": campaign.pk})
    assert all("postal address" in " ".join(v["findings"]) for v in result.output["steps"])


def test_spam_check_is_idempotent() -> None:
    assert_idempotent("spam_check", {"campaign_id": active_campaign().pk})


# --- copywriting --------------------------------------------------------------------------------


def test_copywriting_heuristic_writes_a_sequence_that_passes_the_spam_check() -> None:
    campaign = CampaignFactory.create(icp=IdealCustomerProfileFactory.create(pains=["missed calls after hours"]))
    result = run_agent("copywriting", {"campaign_id": campaign.pk})
    assert result.status == "succeeded", result.error
    steps = list(campaign.steps.order_by("order"))
    assert len(steps) == 4 and steps[0].delay_business_days == 0
    assert "{{ first_line }}" in steps[0].body_template and "missed calls after hours" in steps[0].body_template
    # The third touch comes back to what research found about them; the last one closes the file.
    assert "{{ first_line }}" in steps[2].body_template and "close the file" in steps[3].subject_template
    for step in steps:
        assert set(unresolved(step.subject_template + step.body_template)) <= KNOWN_VARIABLES
    assert [r.agent_name for r in result.handoffs] == ["spam_check"]
    checked = drain()
    assert [r.agent_name for r in checked] == ["spam_check", "ab_testing"]  # a checked sequence is tested
    assert (checked[0].output or {})["passed"] is True


def test_copywriting_replaces_a_model_sequence_with_invented_figures_or_unknown_variables() -> None:
    campaign = CampaignFactory.create()
    invented = {
        "steps": [
            {
                "subject": "Congrats on the $20M Series B",
                "body": "Hi {{ first_name }}, {{ first_line }} saw {{ company }} grew 300% last year. {{ revenue }}",
                "delay_business_days": 0,
            }
        ]
    }
    run_agent("copywriting", {"campaign_id": campaign.pk}, answers=[invented])
    text = " ".join(s.subject_template + s.body_template for s in campaign.steps.all())
    assert "Series B" not in text and "300%" not in text and "revenue" not in text


def test_copywriting_is_idempotent() -> None:
    assert_idempotent("copywriting", {"campaign_id": CampaignFactory.create().pk})


# --- personalization ----------------------------------------------------------------------------


def test_personalization_heuristic_cites_a_stored_finding() -> None:
    lead = LeadFactory.create(research={"findings": [finding()]})
    enrollment = EnrollmentFactory.create(lead=lead, variables={})
    result = run_agent("personalization", {"enrollment_id": enrollment.pk})
    assert result.status == "succeeded", result.error
    enrollment.refresh_from_db()
    assert CLAIM in enrollment.variables["first_line"]
    assert enrollment.variables["grounding"] == [{"text": enrollment.variables["first_line"], "cites": [CLAIM]}]
    assert [r.agent_name for r in result.handoffs] == ["send_time_optimization"]


def test_personalization_opens_with_what_the_company_is_doing_before_what_the_person_posted() -> None:
    posted = "Karen Lopez recently posted about patient and client reviews."
    hiring = "Acme Dental is hiring for operations roles."
    lead = LeadFactory.create(
        research={"findings": [finding(posted, kind="post"), finding(hiring, kind="signal"), finding(kind="offering")]}
    )
    enrollment = EnrollmentFactory.create(lead=lead, variables={})
    run_agent("personalization", {"enrollment_id": enrollment.pk})
    enrollment.refresh_from_db()
    assert enrollment.variables["first_line"] == "I read that Acme Dental is hiring for operations roles."
    # Without a company event, the person's post still beats a description of what the company sells.
    lead.research = {"findings": [finding(posted, kind="post"), finding(kind="offering")]}
    lead.save(update_fields=["research"])
    other = EnrollmentFactory.create(lead=lead, variables={})
    run_agent("personalization", {"enrollment_id": other.pk})
    other.refresh_from_db()
    assert "posted about patient and client reviews" in other.variables["first_line"]


def test_personalization_without_a_finding_makes_no_claim() -> None:
    enrollment = EnrollmentFactory.create(lead=LeadFactory.create(research={"notes": ["unsourced: they raised $5M"]}))
    run_agent("personalization", {"enrollment_id": enrollment.pk})
    enrollment.refresh_from_db()
    assert enrollment.variables["first_line"] == "" and enrollment.variables["grounding"] == []


@pytest.mark.parametrize(
    "answer",
    [
        {"line": "Congrats on Acme Dental's $20M Series B!", "cites": []},
        {"line": "Congrats on Acme Dental's $20M Series B round.", "cites": [CLAIM]},
        {"line": "Congrats on the $20M Series B.", "cites": ["Acme Dental raised a $20M Series B"]},
    ],
)
def test_a_model_that_invents_a_funding_round_never_reaches_a_send(
    monday: clock.FrozenClock, answer: dict[str, Any], django_user_model: Any
) -> None:
    campaign = active_campaign()
    lead = LeadFactory.create(research={"findings": [finding()]}, status=Lead.Status.QUALIFIED)
    enrollment = EnrollmentFactory.create(lead=lead, campaign=campaign, variables={}, next_send_at=clock.now())
    run_agent("personalization", {"enrollment_id": enrollment.pk}, answers=[answer])
    enrollment.refresh_from_db()
    assert "Series B" not in enrollment.variables["first_line"]
    drain()
    approve_first_batch(campaign, django_user_model)
    send_due()
    message = Message.objects.get(enrollment=enrollment)
    assert "Series B" not in message.body and "20M" not in message.body


def test_grounding_refuses_a_line_that_says_more_than_its_citation() -> None:
    facts = [__import__("crm.services.findings", fromlist=["Finding"]).Finding.model_validate(finding())]
    ok = {"first_line": f"I read that {CLAIM}.", "grounding": [{"text": "x", "cites": [CLAIM]}]}
    assert grounding_problem(ok, facts) is None
    padded = {"first_line": f"{CLAIM} after raising $20M.", "grounding": [{"text": "x", "cites": [CLAIM]}]}
    assert grounding_problem(padded, facts) == "the first line says more than the findings it cites"
    assert grounding_problem({"first_line": "You raised $20M."}, facts) is not None


def test_personalization_is_idempotent() -> None:
    lead = LeadFactory.create(research={"findings": [finding()]})
    assert_idempotent("personalization", {"enrollment_id": EnrollmentFactory.create(lead=lead).pk})


# --- inbox rotation -----------------------------------------------------------------------------


def test_reserve_send_respects_caps_the_warmup_ramp_and_pauses(monday: clock.FrozenClock) -> None:
    warming = MailboxFactory.create(daily_cap=40, warmup_stage=1)  # ramp day 1: 5 sends
    paused = MailboxFactory.create(paused=True)
    day = clock.now().date()
    picked = [reserve_send(mailboxes=[warming, paused], day=day) for _ in range(7)]
    assert picked[:5] == [warming] * 5 and picked[5:] == [None, None]
    assert MailboxDay.objects.get(mailbox=warming, day=day).sent == 5
    assert not MailboxDay.objects.filter(mailbox=paused).exists()


def test_reserve_send_spreads_over_mailboxes(monday: clock.FrozenClock) -> None:
    a, b = MailboxFactory.create(), MailboxFactory.create()
    day = clock.now().date()
    picked = [reserve_send(mailboxes=[a, b], day=day) for _ in range(4)]
    assert picked.count(a) == 2 and picked.count(b) == 2


def test_only_the_days_first_send_creates_the_counter_rows(monday: clock.FrozenClock) -> None:
    boxes = [MailboxFactory.create() for _ in range(5)]
    day = clock.now().date()
    with transaction.atomic():
        reserve_send(mailboxes=boxes, day=day)
        with CaptureQueriesContext(connection) as later:
            picked = [reserve_send(mailboxes=boxes, day=day) for _ in range(4)]
    assert set(picked) == set(boxes[1:]) and MailboxDay.objects.filter(day=day).count() == 5
    assert not [q for q in later.captured_queries if q["sql"].startswith("INSERT")]


def test_a_transactions_sends_lock_the_counters_once_then_write_one_row_each(monday: clock.FrozenClock) -> None:
    boxes = [MailboxFactory.create(daily_cap=2) for _ in range(30)]
    day = clock.now().date()
    with transaction.atomic():
        senders = DaySends(boxes, day)
        senders.reserve()
        with CaptureQueriesContext(connection) as later:
            picked = [senders.reserve() for _ in range(70)]
    # 59 more sends fill the 30 mailboxes' caps of 2; the rest find no room.
    assert picked.count(None) == 11 and {p for p in picked if p} == set(boxes)
    assert dict(MailboxDay.objects.filter(day=day).values_list("mailbox_id", "sent")) == {b.pk: 2 for b in boxes}
    statements = [q["sql"] for q in later.captured_queries]
    assert len(statements) == 59 and all(sql.startswith("UPDATE") for sql in statements)


def test_inbox_rotation_advances_the_warmup_once_a_day(monday: clock.FrozenClock) -> None:
    warming = MailboxFactory.create(warmup_stage=2)
    warm = MailboxFactory.create(warmup_stage=0)
    first, _ = assert_idempotent("inbox_rotation")
    warming.refresh_from_db()
    warm.refresh_from_db()
    assert warming.warmup_stage == 3 and warm.warmup_stage == 0
    caps = {c["mailbox_id"]: c["cap"] for c in first.output["capacity"]}
    assert caps == {warming.pk: 15, warm.pk: 40}
    monday.tick(dt.timedelta(days=1))
    run_agent("inbox_rotation")
    warming.refresh_from_db()
    assert warming.warmup_stage == 4


# --- sequence_scheduler -------------------------------------------------------------------------


def test_a_new_campaign_waits_for_one_approval_shown_with_its_copy(
    monday: clock.FrozenClock, django_user_model: Any
) -> None:
    campaign = active_campaign()
    enrollments = [personal_enrollment(campaign) for _ in range(3)]
    beat = run_agent("sequence_scheduler")
    assert beat.status == "succeeded" and beat.output["waiting_for_approval"] == [campaign.pk]
    assert not Message.objects.exists()
    drain()  # the campaign's own run asks once
    again = run_agent("sequence_scheduler", {"campaign_id": campaign.pk})
    assert again.status == AgentRun.Status.ESCALATED
    escalation = Escalation.objects.get(dedupe_key=f"approval:campaign:{campaign.pk}:first-batch")
    shown = escalation.payload["messages"]
    assert len(shown) == 3 and CLAIM in shown[0]["body"] and shown[0]["subject"].endswith("and the front desk")
    assert not Message.objects.exists() and not Action.objects.filter(kind="email.send").exists()
    decide(escalation=escalation, approve=True, user=django_user_model.objects.create_user("ops"), note="looks good")
    drain()
    assert Message.objects.filter(status=Message.Status.SENT).count() == 3
    assert SandboxRecord.objects.filter(kind="email").count() == 3
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.current_step == 1


def test_an_autopilot_without_a_first_batch_sends_at_once(monday: clock.FrozenClock) -> None:
    agency = profile()
    agency.autopilot = {"first_batch_size": 0}
    agency.save()
    campaign = active_campaign()
    personal_enrollment(campaign)
    beat = run_agent("sequence_scheduler")
    assert beat.output["waiting_for_approval"] == [] and len(beat.output["sent"]) == 1
    drain()
    assert Message.objects.filter(status=Message.Status.SENT).count() == 1
    assert not Escalation.objects.filter(kind=Escalation.Kind.APPROVAL).exists()


def test_a_send_carries_footer_headers_and_advances_the_sequence(
    monday: clock.FrozenClock, django_user_model: Any
) -> None:
    campaign = active_campaign()
    enrollment = personal_enrollment(campaign)
    approve_first_batch(campaign, django_user_model)
    send_due()
    message = Message.objects.get(enrollment=enrollment)
    agency = profile()
    assert message.status == Message.Status.SENT and message.provider_message_id and message.sent_at == clock.now()
    assert message.idempotency_key == f"email:enrollment:{enrollment.pk}:step:0"
    assert (
        Action.objects.get(kind="email.send").idempotency_key == f"email.send:email:enrollment:{enrollment.pk}:step:0"
    )
    assert message.body.startswith(f"Hi {enrollment.lead.first_name},\n\nI read that {CLAIM}.")
    assert agency.postal_address.strip() in message.body and f"Unsubscribe: {link_for(enrollment.lead)}" in message.body
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Unsubscribe"].startswith("<http")
    assert message.mailbox is not None and message.from_email == message.mailbox.email
    enrollment.refresh_from_db()
    enrollment.lead.refresh_from_db()
    assert enrollment.lead.status == Lead.Status.CONTACTED
    assert enrollment.current_step == 1 and enrollment.next_send_at is not None
    local = enrollment.next_send_at.astimezone(BERLIN)
    assert local.date() == dt.date(2026, 3, 5) and dt.time(9) <= local.time() < dt.time(17)


def test_the_last_step_completes_the_enrollment(monday: clock.FrozenClock, django_user_model: Any) -> None:
    campaign = active_campaign()
    enrollment = personal_enrollment(campaign)
    approve_first_batch(campaign, django_user_model)
    send_due()
    monday.tick(dt.timedelta(days=4))
    run_agent("sequence_scheduler")
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED and enrollment.next_send_at is None
    assert Message.objects.filter(enrollment=enrollment, status=Message.Status.SENT).count() == 2


def test_outside_the_window_the_send_is_rescheduled(django_user_model: Any) -> None:
    with clock.frozen(MONDAY_10_BERLIN) as frozen:
        campaign = active_campaign()
        enrollment = personal_enrollment(campaign)
        approve_first_batch(campaign, django_user_model)
        send_due()
        follow_up = personal_enrollment(campaign)
        frozen.tick(dt.timedelta(hours=10))  # 20:00 in Berlin
        result = run_agent("sequence_scheduler")
        assert result.output["rescheduled"] == 1 and not Message.objects.filter(enrollment=follow_up).exists()
        follow_up.refresh_from_db()
        assert follow_up.next_send_at is not None
        assert follow_up.next_send_at.astimezone(BERLIN).date() == dt.date(2026, 3, 3)
        assert enrollment.pk != follow_up.pk


def test_an_uncited_claim_or_unresolved_variable_is_never_sent(
    monday: clock.FrozenClock, django_user_model: Any
) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    uncited = EnrollmentFactory.create(
        campaign=campaign, variables={"first_line": "Congrats on your $20M Series B."}, next_send_at=clock.now()
    )
    nameless = EnrollmentFactory.create(
        campaign=campaign, lead=LeadFactory.create(first_name=""), variables={"first_line": ""}
    )
    result = run_agent("sequence_scheduler")
    assert len(result.output["refused"]) == 2
    assert not Message.objects.exists() and not Action.objects.filter(kind="email.send").exists()
    uncited.refresh_from_db()
    nameless.refresh_from_db()
    assert uncited.status == nameless.status == Enrollment.Status.STOPPED
    assert "cites no finding" in uncited.stopped_reason and "first_name" in nameless.stopped_reason


def test_no_suppressed_address_is_ever_sent_to(monday: clock.FrozenClock, django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    enrollment = personal_enrollment(campaign)
    # The opt-out lands between the decision and the send: the outbox guard stops it.
    result = run_agent("sequence_scheduler", perform_acts=False)
    assert result.acts and result.acts[0].status == Action.Status.PENDING
    suppress(email_or_domain=enrollment.lead.email or "", reason="unsubscribe", source="test")
    from agents import outbox

    outbox.perform(result.acts[0].pk)
    action = Action.objects.get(pk=result.acts[0].pk)
    assert action.status == Action.Status.BLOCKED
    assert not SandboxRecord.objects.filter(kind="email").exists()
    message = Message.objects.get(enrollment=enrollment)
    assert message.status == Message.Status.FAILED and message.failed_reason.startswith("blocked:")
    enrollment.refresh_from_db()
    assert enrollment.status in Enrollment.STOPPED_STATES and enrollment.next_send_at is None


def test_a_worker_killed_mid_send_sends_once(monday: clock.FrozenClock, django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    enrollment = personal_enrollment(campaign)
    result = crash_and_finish("sequence_scheduler", {}, at="after_call")
    assert result.status == "succeeded", result.error
    message = Message.objects.get(enrollment=enrollment)
    assert message.status == Message.Status.SENT and message.provider_message_id
    assert SandboxRecord.objects.filter(kind="email").count() == 1
    assert Action.objects.filter(kind="email.send", status=Action.Status.DONE).count() == 1


def test_the_scheduler_is_idempotent(monday: clock.FrozenClock, django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    personal_enrollment(campaign)
    assert_idempotent("sequence_scheduler")
    assert Message.objects.count() == 1


def test_daily_limits_hold(monday: clock.FrozenClock, django_user_model: Any) -> None:
    campaign = active_campaign(daily_limit=2)
    approve_first_batch(campaign, django_user_model)
    for _ in range(4):
        personal_enrollment(campaign)
    run_agent("sequence_scheduler")
    assert Message.objects.count() == 2
    mailbox = campaign.mailboxes.get()
    Mailbox.objects.filter(pk=mailbox.pk).update(paused=True)
    monday.tick(dt.timedelta(days=1))
    result = run_agent("sequence_scheduler")
    assert Message.objects.count() == 2 and result.output["capped"] >= 1
    assert CampaignStep.objects.filter(campaign=campaign).count() == 2


def test_an_enrollment_waits_for_its_personalisation(monday: clock.FrozenClock, django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    early = EnrollmentFactory.create(campaign=campaign, variables={}, next_send_at=clock.now())
    result = run_agent("sequence_scheduler")
    assert result.output["waiting_for_personalisation"] == 1 and not Message.objects.exists()
    early.refresh_from_db()
    assert early.status == Enrollment.Status.ACTIVE
    run_agent("personalization", {"enrollment_id": early.pk})  # no finding: an empty line, no claim
    drain()
    run_agent("sequence_scheduler")
    message = Message.objects.get(enrollment=early)
    assert message.body.startswith(f"Hi {early.lead.first_name},\n\nWe build AI receptionists.")


def test_the_demo_skip_stops_when_the_next_step_falls_due(frozen_clock: Any) -> None:
    from crm.agents.campaign.sequence_scheduler import SequenceScheduler

    now = frozen_clock.now
    live = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    EnrollmentFactory.create(campaign=live, next_send_at=now - dt.timedelta(minutes=1))  # due: its tick runs it
    later = EnrollmentFactory.create(campaign=live, next_send_at=now + dt.timedelta(days=2))
    paused = CampaignFactory.create(status=Campaign.Status.PAUSED)
    EnrollmentFactory.create(campaign=paused, next_send_at=now + dt.timedelta(hours=1))
    assert SequenceScheduler.next_work_at(now) == later.next_send_at
