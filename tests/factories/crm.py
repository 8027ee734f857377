"""Factories for the crm models: realistic, and every value satisfies the database constraints
(lower-case emails and domains, E.164 phones, ISO country codes, unique sequences)."""

from __future__ import annotations

import datetime as dt
import hashlib

import factory
from factory.django import DjangoModelFactory

from crm.models import (
    AgencyProfile,
    Campaign,
    CampaignStats,
    CampaignStep,
    Company,
    Conversation,
    Enrollment,
    IdealCustomerProfile,
    Lead,
    Mailbox,
    MailboxDay,
    Message,
    Niche,
    Persona,
    ResearchReport,
    SuppressionEntry,
    Variant,
)
from smarter_team import clock

FIRST_NAMES = ["Anna", "Ben", "Clara", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Luca"]
LAST_NAMES = ["Schmidt", "Nguyen", "Garcia", "Okafor", "Müller", "Rossi", "Kowalski", "Lindqvist", "Dubois", "Tanaka"]
INDUSTRIES = ["SaaS", "Logistics", "E-commerce", "Fintech", "Healthcare", "Manufacturing", "Legal services"]
TITLES = ["Head of Operations", "CTO", "VP Sales", "Founder & CEO", "Marketing Director", "COO"]


class IdealCustomerProfileFactory(DjangoModelFactory[IdealCustomerProfile]):
    class Meta:
        model = IdealCustomerProfile

    name = factory.Sequence(lambda n: f"B2B teams {n}")
    industries = factory.LazyFunction(lambda: ["SaaS", "Logistics"])
    company_sizes = factory.LazyFunction(lambda: ["11-50", "51-200"])
    titles = factory.LazyFunction(lambda: ["COO", "Head of Operations"])
    countries = factory.LazyFunction(lambda: ["DE", "GB", "US"])
    pains = factory.LazyFunction(lambda: ["manual reporting", "slow onboarding"])


class NicheFactory(DjangoModelFactory[Niche]):
    class Meta:
        model = Niche

    name = factory.Sequence(lambda n: f"Mid-size logistics firms {n}")
    icp = factory.SubFactory(IdealCustomerProfileFactory)
    description = "Freight forwarders with 50-500 staff drowning in spreadsheets."
    demand_score = 70
    budget_score = 60
    competition_score = 30
    reachability_score = 80


class PersonaFactory(DjangoModelFactory[Persona]):
    class Meta:
        model = Persona

    niche = factory.SubFactory(NicheFactory)
    name = factory.Sequence(lambda n: f"Operations lead {n}")
    title_patterns = factory.LazyFunction(lambda: ["Head of Operations", "COO"])
    pains = factory.LazyFunction(lambda: ["manual dispatch"])


class CompanyFactory(DjangoModelFactory[Company]):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Northwind Freight {n} GmbH")
    domain = factory.Sequence(lambda n: f"northwind{n}.example.com")
    industry = factory.Iterator(INDUSTRIES)
    employee_range = "51-200"
    country = "DE"
    source = "factory"


class LeadFactory(DjangoModelFactory[Lead]):
    class Meta:
        model = Lead

    first_name = factory.Iterator(FIRST_NAMES)
    last_name = factory.Iterator(LAST_NAMES)
    company = factory.SubFactory(CompanyFactory)
    email = factory.Sequence(lambda n: f"person{n}@lead{n}.example.com")
    email_status = Lead.EmailStatus.VALID
    title = factory.Iterator(TITLES)
    phone = factory.Sequence(lambda n: f"+4930{1000000 + n}")
    country = "DE"
    time_zone = "Europe/Berlin"
    source = "factory"


class ResearchReportFactory(DjangoModelFactory[ResearchReport]):
    class Meta:
        model = ResearchReport

    kind = ResearchReport.Kind.COMPANY
    company = factory.SubFactory(CompanyFactory)
    subject = factory.LazyAttribute(lambda o: o.company.name if o.company else "market")
    summary = "Growing fast; hiring three dispatchers; uses spreadsheets for routing."
    findings = factory.LazyFunction(lambda: {"signals": ["hiring"], "confidence": 0.7})
    sources = factory.LazyFunction(lambda: ["https://example.com/careers"])


class MailboxFactory(DjangoModelFactory[Mailbox]):
    class Meta:
        model = Mailbox

    email = factory.Sequence(lambda n: f"sender{n}@outreach.example.com")
    display_name = "Mara from Smarter Team"
    provider = "sandbox"
    daily_cap = 40


class MailboxDayFactory(DjangoModelFactory[MailboxDay]):
    class Meta:
        model = MailboxDay

    mailbox = factory.SubFactory(MailboxFactory)
    day = factory.LazyFunction(lambda: clock.now().date())
    sent = 3


class CampaignFactory(DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Logistics Q{n % 4 + 1} outreach {n}")
    icp = factory.SubFactory(IdealCustomerProfileFactory)
    daily_limit = 50
    send_window_start = dt.time(9, 0)
    send_window_end = dt.time(17, 0)
    send_weekdays = factory.LazyFunction(lambda: [1, 2, 3, 4, 5])
    stop_rules = factory.LazyFunction(lambda: {"on_reply": True, "max_bounce_rate": 0.03})


class CampaignStatsFactory(DjangoModelFactory[CampaignStats]):
    class Meta:
        model = CampaignStats

    campaign = factory.SubFactory(CampaignFactory)
    day = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    totals = factory.LazyFunction(lambda: {"sent": 200, "replied": 9, "replied_rate": 0.045})
    by_step = factory.LazyFunction(lambda: {"1": {"sent": 200, "replied": 9, "replied_rate": 0.045}})
    by_variant = factory.LazyFunction(dict)


class CampaignStepFactory(DjangoModelFactory[CampaignStep]):
    class Meta:
        model = CampaignStep

    campaign = factory.SubFactory(CampaignFactory)
    order = factory.Sequence(lambda n: n)
    delay_business_days = 3
    subject_template = "Quick question about {{ company }}"
    body_template = "Hi {{ first_name }},\n\nSaw that {{ company }} is hiring dispatchers..."


class VariantFactory(DjangoModelFactory[Variant]):
    class Meta:
        model = Variant

    step = factory.SubFactory(CampaignStepFactory)
    label = factory.Sequence(lambda n: f"V{n}")
    subject = "Routing at {{ company }}"
    body = "Hi {{ first_name }}, ..."
    weight = 1


class EnrollmentFactory(DjangoModelFactory[Enrollment]):
    class Meta:
        model = Enrollment

    lead = factory.SubFactory(LeadFactory)
    campaign = factory.SubFactory(CampaignFactory)
    status = Enrollment.Status.ACTIVE
    next_send_at = factory.LazyFunction(clock.now)
    variables = factory.LazyFunction(lambda: {"pain": "manual dispatch"})


class ConversationFactory(DjangoModelFactory[Conversation]):
    class Meta:
        model = Conversation

    lead = factory.SubFactory(LeadFactory)
    channel = Conversation.Channel.EMAIL
    last_message_at = factory.LazyFunction(clock.now)


class MessageFactory(DjangoModelFactory[Message]):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    direction = Message.Direction.OUT
    mailbox = factory.SubFactory(MailboxFactory)
    from_email = factory.LazyAttribute(lambda o: o.mailbox.email if o.mailbox else "sender@outreach.example.com")
    to_email = factory.LazyAttribute(lambda o: o.conversation.lead.email or "")
    subject = "Quick question about routing"
    body = "Hi, ..."
    status = Message.Status.SENT
    sent_at = factory.LazyFunction(clock.now)
    provider_message_id = factory.Sequence(lambda n: f"<msg-{n}@outreach.example.com>")
    headers = factory.LazyAttribute(lambda o: {"Message-ID": o.provider_message_id})
    idempotency_key = factory.Sequence(lambda n: f"message:factory:{n}")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class SuppressionEntryFactory(DjangoModelFactory[SuppressionEntry]):
    class Meta:
        model = SuppressionEntry

    kind = SuppressionEntry.Kind.EMAIL
    value = factory.Sequence(lambda n: f"optout{n}@example.org")
    value_hash = factory.LazyAttribute(lambda o: _sha256(o.value))
    reason = SuppressionEntry.Reason.UNSUBSCRIBE
    source = "factory"


class AgencyProfileFactory(DjangoModelFactory[AgencyProfile]):
    class Meta:
        model = AgencyProfile
        django_get_or_create = ("id",)

    id = 1
    name = "Smarter Team"
    offer = "AI assistants and workflow automation for service businesses."
    services = factory.LazyFunction(lambda: ["AI chatbots", "workflow automation"])
    sender_name = "Alex Morgan"
    sender_email = "alex@agency.example"
    postal_address = "1 Example Street, Springfield, IL 62701, USA"
    rate_card = factory.LazyFunction(
        lambda: {"items": [{"service": "AI chatbot build", "unit": "project", "unit_price": "18000.00"}]}
    )
