"""report_generator: grounded figures on a week of known rows, valid charts, one email per report."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from agents.models import AgentRun, Report
from agents.testing import run_agent
from crm.models import Lead, Message
from smarter_team import clock
from tests.factories.agents import AgentRunFactory
from tests.factories.crm import (
    CampaignFactory,
    CampaignStepFactory,
    ConversationFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
    VariantFactory,
)
from tests.factories.sales import InvoiceFactory, MeetingFactory, PaymentFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 3, 9, 6, 0, tzinfo=dt.UTC)  # reports on Sun 8 Mar and on the week 2-8 Mar


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=dt.UTC)


@pytest.fixture
def week(django_user_model):
    managers, _ = Group.objects.get_or_create(name="manager")
    boss = django_user_model.objects.create_user("boss", "boss@agency.example.com", "pw-for-tests-only")
    boss.groups.add(managers)
    with clock.frozen(at(3)):
        leads = [LeadFactory.create() for _ in range(10)]
    with clock.frozen(at(8)):
        leads += [LeadFactory.create() for _ in range(4)]
    with clock.frozen(at(1)):
        LeadFactory.create()  # before the week: counted nowhere
    campaign = CampaignFactory.create(name="Dental clinics, owners")
    step = CampaignStepFactory.create(campaign=campaign, order=1)
    a, b = VariantFactory.create(step=step, label="A"), VariantFactory.create(step=step, label="B")
    enrollments = []
    for position, lead in enumerate(leads[:5]):
        enrollment = EnrollmentFactory.create(lead=lead, campaign=campaign)
        enrollments.append(enrollment)
        MessageFactory.create(
            conversation=ConversationFactory.create(lead=lead),
            enrollment=enrollment,
            step=step,
            variant=a if position < 3 else b,
            sent_at=at(4),
        )
    for enrollment, intent in ((enrollments[0], "interested"), (enrollments[1], "question")):
        MessageFactory.create(
            conversation=enrollment.lead.conversations.first(),
            enrollment=enrollment,
            direction=Message.Direction.IN,
            status=Message.Status.DELIVERED,
            intent=intent,
            created_at=at(5),
            sent_at=at(5),
        )
    with clock.frozen(at(5)):
        MeetingFactory.create(lead=enrollments[0].lead, starts_at=at(12))
        # Their kickoff as a client, the same week: delivery, not a second sales call.
        MeetingFactory.create(lead=enrollments[0].lead, kind="kickoff", starts_at=at(13))
    paid = InvoiceFactory.create(amount=Decimal("1000.00"), issued_on=at(6).date(), due_on=at(20).date())
    PaymentFactory.create(invoice=paid, amount=Decimal("1000.00"), paid_at=at(8))
    PaymentFactory.create(invoice=paid, amount=Decimal("200.00"), status="refunded", paid_at=at(8, 15))
    InvoiceFactory.create(amount=Decimal("500.00"), issued_on=at(1).date() - dt.timedelta(days=20), due_on=at(1).date())
    for status, cost in (("succeeded", "0.25"), ("succeeded", "0.25"), ("succeeded", "0"), ("failed", "0.5")):
        AgentRunFactory.create(
            agent_name="copywriting", status=status, cost=Decimal(cost), created_at=at(7), started_at=at(7),
            finished_at=at(7, 11), tokens_in=300, cache_read_tokens=700,
        )  # fmt: skip
    return leads


def test_the_weekly_report_shows_exactly_the_weeks_figures(week) -> None:
    with clock.frozen(MONDAY):
        result = run_agent("report_generator", {})
    assert result.status == "succeeded", result.error
    weekly = Report.objects.get(kind="weekly")
    assert (weekly.period_start, weekly.period_end) == (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    funnel = {s["name"]: s["count"] for s in weekly.figures["funnel"]}
    assert funnel["leads found"] == 14 and funnel["cold emails sent"] == 5
    assert funnel["replies"] == 2 and funnel["positive replies"] == 1 and funnel["meetings booked"] == 1
    lines = {(c["campaign"], c["variant"]): c for c in weekly.figures["campaigns"]}
    assert lines[("Dental clinics, owners", "A")] == {
        "campaign": "Dental clinics, owners", "variant": "A", "sent": 3, "replies": 2, "positive": 1, "meetings": 1,
    }  # fmt: skip
    assert lines[("Dental clinics, owners", "B")]["sent"] == 2
    assert weekly.figures["revenue"]["USD"] == {"invoiced": "1000.00", "paid": "800.00", "overdue": "500.00"}
    assert weekly.figures["agents"]["runs"] == 4 and weekly.figures["agents"]["failed"] == 1
    assert weekly.figures["cost"]["llm"] == "1.000000" and weekly.figures["cost"]["cache hit rate"] == 0.7
    assert weekly.figures["cost"]["per lead"] == "0.0714"  # 1.00 spent over 14 leads
    assert "Dental clinics, owners" in weekly.html and "A: 3 sent, replies 66.7%" in weekly.text
    daily = Report.objects.get(kind="daily")
    assert {s["name"]: s["count"] for s in daily.figures["funnel"]}["leads found"] == 4


def test_the_reports_funnel_counts_what_the_console_counts(week) -> None:
    from agents.services.reports.figures import REPORT_STAGES, funnel
    from smarter_team.dashboard.funnel import funnel as console_funnel

    # Inbound mail that is no reply to a campaign: a bounce notice and a client's message.
    enrollment = week[0].enrollments.first()
    MessageFactory.create(
        conversation=week[0].conversations.first(), enrollment=enrollment, direction=Message.Direction.IN,
        status=Message.Status.BOUNCED, intent="bounce", created_at=at(5), sent_at=at(5),
    )  # fmt: skip
    MessageFactory.create(
        conversation=ConversationFactory.create(lead=week[7]), direction=Message.Direction.IN,
        status=Message.Status.DELIVERED, created_at=at(5), sent_at=at(5),
    )  # fmt: skip
    start, end = at(2, 0), at(9, 0)
    reported = {s.name: s.count for s in funnel(start, end)}
    shown = {s.key: s.figure.count for s in console_funnel(start, end)}
    assert reported["replies"] == 2  # neither the bounce nor the client's message
    for name, key, narrower in REPORT_STAGES:
        if not narrower:
            assert reported[name] == shown[key], name


def test_charts_are_png_images_the_html_shows_by_content_id_and_the_mail_carries(week) -> None:
    with clock.frozen(MONDAY):
        run_agent("report_generator", {"kind": "weekly"})
    report = Report.objects.get(kind="weekly")
    names = {image["name"] for image in report.images}
    assert names == {"funnel", "cost", "paid"}
    for image in report.images:
        data = base64.b64decode(image["data_base64"])
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and b"IHDR" in data[:16] and data.rstrip().endswith(b"IEND\xaeB`\x82")
        assert f'src="cid:{image["name"]}"' in report.html
    assert "<style" not in report.html and 'style="' in report.html  # CSS inlined for mail clients
    [sent] = mail.outbox
    assert sent.to == ["boss@agency.example.com"] and sent.body.startswith("Smarter Team weekly report")
    assert isinstance(sent, EmailMultiAlternatives)
    html, kind = sent.alternatives[0]
    assert kind == "text/html" and "cid:funnel" in str(html)
    cids = {part["Content-ID"] for part in sent.attachments if hasattr(part, "get")}
    assert cids == {"<funnel>", "<cost>", "<paid>"}
    report.refresh_from_db()
    assert report.sent_to == ["boss@agency.example.com"] and report.sent_at is not None


def test_a_second_run_makes_and_sends_nothing_twice(week) -> None:
    with clock.frozen(MONDAY):
        run_agent("report_generator", {})
        again = run_agent("report_generator", {})
    assert Report.objects.count() == 2 and len(mail.outbox) == 2
    assert again.output["reports"] == [] and len(again.output["already"]) == 2


def test_an_empty_period_is_a_report_that_says_so() -> None:
    with clock.frozen(MONDAY):
        result = run_agent("report_generator", {"kind": "daily"})
    assert result.status == "succeeded", result.error
    report = Report.objects.get(kind="daily")
    assert "No activity in this period." in report.html and report.images == []
    assert report.sent_to == []  # nobody in the managers group: kept in the admin only
    assert not Lead.objects.exists() and AgentRun.objects.filter(agent_name="copywriting").count() == 0
