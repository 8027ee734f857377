"""The big changelists still find what they should with indexed searches and fixed-choice filters.

One case per changelist on a few rows: a row the search or filter must find, another it must not
(a different value, or created 40 days earlier for the date filter). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import Action, AgentRun, AuditLog, HealthCheck
from crm.models import Company, Conversation, Enrollment, Lead, Message
from integrations.models import ApiUsage, WebhookEvent
from learning.models import ErrorLog
from smarter_team import admin_scale, clock
from tests.factories import factory_for
from tests.factories.agents import (
    ActionFactory,
    AgentRunFactory,
    AuditLogFactory,
    HealthCheckFactory,
)
from tests.factories.crm import (
    CampaignFactory,
    CompanyFactory,
    ConversationFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
)
from tests.factories.integrations import ApiUsageFactory, WebhookEventFactory
from tests.factories.learning import ErrorLogFactory

pytestmark = pytest.mark.django_db

Rows = tuple[models.Model, models.Model]  # (the row to find, one that must not be found)


@dataclass(frozen=True)
class Case:
    model: type[models.Model]
    make: Callable[[], Rows]
    searches: tuple[str, ...]
    filters: tuple[dict[str, str], ...]
    date_field: str = field(default="created_at")

    def __str__(self) -> str:
        return self.model._meta.label


def _lead_rows() -> Rows:
    company = CompanyFactory.create(name="Harbor Dental Group", domain="harbordental.example")
    target = LeadFactory.create(
        first_name="Ada", last_name="Okafor", email="ada.okafor@harbordental.example", company=company, source="apify"
    )
    target.status = Lead.Status.QUALIFIED
    target.save()
    other = LeadFactory.create(first_name="Ben", last_name="Weber", email="ben@weber.example", source="csv")
    return target, other


def _company_rows() -> Rows:
    return (
        CompanyFactory.create(name="Harbor Dental Group", domain="harbordental.example", source="apify"),
        CompanyFactory.create(name="Summit Roofing", domain="summit.example", source="csv"),
    )


def _conversation_rows() -> Rows:
    target = ConversationFactory.create(lead=LeadFactory.create(last_name="Okafor", email="ada@harbor.example"))
    Conversation.objects.filter(pk=target.pk).update(intent="interested")
    other = ConversationFactory.create(lead=LeadFactory.create(last_name="Weber", email="ben@weber.example"))
    return target, other


def _message_rows() -> Rows:
    lead = LeadFactory.create(email="ada@harbor.example")
    target = MessageFactory.create(
        conversation=ConversationFactory.create(lead=lead),
        subject="Your dental chairs",
        provider_message_id="<abc-1@mail.example>",
    )
    Message.objects.filter(pk=target.pk).update(direction=Message.Direction.IN, intent="question")
    other = MessageFactory.create(subject="Roofing season")
    return target, other


def _enrollment_rows() -> Rows:
    target = EnrollmentFactory.create(
        lead=LeadFactory.create(last_name="Okafor"), campaign=CampaignFactory.create(name="Dental spring")
    )
    other = EnrollmentFactory.create(
        lead=LeadFactory.create(last_name="Weber"),
        campaign=CampaignFactory.create(name="Roofing autumn"),
        status=Enrollment.Status.PAUSED,
    )
    return target, other


def _run_rows() -> Rows:
    target = AgentRunFactory.create(agent_name="lead_scoring", idempotency_key="lead_scoring:lead:42", queue="crm")
    other = AgentRunFactory.create(agent_name="invoice_generation", idempotency_key="invoice:7", queue="sales")
    return target, other


def _action_rows() -> Rows:
    return (
        ActionFactory.create(kind="email.send", idempotency_key="email.send:enrollment:42:step:2"),
        ActionFactory.create(kind="invoice.create", idempotency_key="invoice.create:7"),
    )


def _webhook_rows() -> Rows:
    return (
        WebhookEventFactory.create(provider="stripe", event_id="evt_1PqTarget", event_type="invoice.paid"),
        WebhookEventFactory.create(provider="calcom", event_id="evt_other", event_type="BOOKING_CREATED"),
    )


def _error_rows() -> Rows:
    target = ErrorLogFactory.create(
        agent_name="lead_scoring", provider="instantly", error_type="RateLimited", message="mailbox quota reached"
    )
    other = ErrorLogFactory.create(agent_name="invoice_generation", error_type="ValueError", message="no amount")
    return target, other


def _audit_rows() -> Rows:
    return (
        AuditLogFactory.create(actor="lead_scoring", action="lead.status", target_id="42"),
        AuditLogFactory.create(actor="system", action="run.retry", target_id="7"),
    )


def _api_usage_rows() -> Rows:
    return (
        ApiUsageFactory.create(provider="instantly", url="https://api.instantly.ai/api/v2/emails"),
        ApiUsageFactory.create(provider="stripe", url="https://api.stripe.com/v1/invoices"),
    )


def _health_rows() -> Rows:
    return HealthCheckFactory.create(component="redis"), HealthCheckFactory.create(component="database")


CASES = [
    Case(
        Lead,
        _lead_rows,
        ("okafor", "Harbor Dental", "ada.okafor@", "harbordental.example", '"Ada" okafor'),
        ({"status__exact": "qualified"}, {"source": "apify"}),
    ),
    Case(Company, _company_rows, ("harbor", "harbordental.example"), ({"source": "apify"},)),
    Case(
        Conversation,
        _conversation_rows,
        ("okafor", "ada@harbor"),
        ({"intent": "interested"},),
        date_field="last_message_at",
    ),
    Case(
        Message,
        _message_rows,
        ("dental chairs", "ada@harbor", "<abc-1@mail.example>"),
        ({"direction__exact": "in"}, {"intent": "question"}),
    ),
    Case(
        Enrollment,
        _enrollment_rows,
        ("okafor", "Dental spring"),
        ({"status__exact": "active"},),
    ),
    Case(
        AgentRun,
        _run_rows,
        ("lead_scoring:lead:42", "lead_scoring"),
        ({"agent_name": "lead_scoring"}, {"queue": "crm"}),
    ),
    Case(
        Action,
        _action_rows,
        ("email.send:enrollment:42:step:2", "email.send"),
        ({"kind": "email.send"},),
    ),
    Case(
        WebhookEvent,
        _webhook_rows,
        ("evt_1PqTarget",),
        ({"provider": "stripe"}, {"event_type": "invoice.paid"}),
        date_field="received_at",
    ),
    Case(
        ErrorLog,
        _error_rows,
        ("quota", "RateLimited", "lead_scoring"),
        ({"agent_name": "lead_scoring"}, {"provider": "instantly"}),
        date_field="occurred_at",
    ),
    Case(AuditLog, _audit_rows, ("lead_scoring", "42"), ({"action": "lead.status"},), date_field="at"),
    Case(ApiUsage, _api_usage_rows, ("instantly.ai", "instantly"), ({"provider": "instantly"},), date_field="at"),
    Case(HealthCheck, _health_rows, ("redis",), ({"component": "redis"},), date_field="checked_at"),
]


def _changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _found(staff_client: Any, model: type[models.Model], params: dict[str, str]) -> list[Any]:
    response = staff_client.get(_changelist(model), params)
    assert response.status_code == 200, f"{model._meta.label} {params}: {response.status_code}"
    assert "?e=1" not in response.get("Location", ""), f"{model._meta.label} refused {params}"
    return [row.pk for row in response.context["cl"].result_list]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_searches_and_filters_find_the_row_and_only_it(staff_client: Any, case: Case) -> None:
    target, other = case.make()
    assert isinstance(admin.site._registry[case.model], admin_scale.LargeTableMixin)
    for term in case.searches:
        found = _found(staff_client, case.model, {"q": term})
        assert target.pk in found and other.pk not in found, f"{case} search {term!r}: {found}"
    for params in case.filters:
        found = _found(staff_client, case.model, params)
        assert target.pk in found and other.pk not in found, f"{case} filter {params}: {found}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_date_filter_keeps_todays_rows_on_business_time(staff_client: Any, case: Case) -> None:
    target, other = case.make()
    case.model._default_manager.filter(pk=other.pk).update(**{case.date_field: clock.now() - dt.timedelta(days=40)})
    changelist = staff_client.get(_changelist(case.model)).context["cl"]
    spec = next(s for s in changelist.filter_specs if getattr(s, "field_path", "") == case.date_field)
    assert isinstance(spec, admin_scale.DateFilter)
    choices = {c["display"]: c["query_string"] for c in spec.choices(changelist)}
    today = staff_client.get(_changelist(case.model) + choices["Today"]).context["cl"]
    found = [row.pk for row in today.result_list]
    assert target.pk in found and other.pk not in found, f"{case} today: {found}"


def test_a_run_is_found_by_its_correlation_id(staff_client: Any) -> None:
    target, _ = _run_rows()
    found = _found(staff_client, AgentRun, {"q": f" {target.correlation_id} "})  # type: ignore[attr-defined]
    assert found == [target.pk]


def test_an_errors_alike_count_links_to_every_error_with_its_fingerprint(staff_client: Any) -> None:
    first = ErrorLogFactory.create(message="mailbox quota reached")
    twin = ErrorLogFactory.create(message="mailbox quota reached", fingerprint=first.fingerprint)
    ErrorLogFactory.create(message="something else")
    page = staff_client.get(_changelist(ErrorLog)).content.decode()
    assert f"fingerprint__exact={first.fingerprint}" in page
    assert sorted(_found(staff_client, ErrorLog, {"fingerprint__exact": first.fingerprint})) == [first.pk, twin.pk]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_page_past_the_exact_count_costs_the_same_queries_at_any_size(
    staff_client: Any, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the exact-count bound the paginator estimates (PostgreSQL) or counts (SQLite); either
    way the page's queries do not grow with the table."""
    monkeypatch.setattr(admin_scale.EstimatedCountPaginator, "exact_up_to", 3)
    rows = factory_for(case.model)
    rows.create_batch(5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(_changelist(case.model)).status_code == 200
        return len(ctx)

    queries()  # the session and content types, once
    few = queries()
    rows.create_batch(20)
    assert queries() == few


def test_ids_stay_distinct_across_a_multi_valued_search() -> None:
    """A union of per-table matches never repeats a row (the admin's DISTINCT is not needed)."""
    lead = LeadFactory.create(last_name="Okafor", email=f"okafor-{uuid.uuid4().hex[:6]}@okafor.example")
    CompanyFactory.create(name="Okafor Holdings")
    Lead.objects.filter(pk=lead.pk).update(company=Company.objects.get(name="Okafor Holdings"))
    fields = ("email", "last_name", "company__name")
    found = admin_scale.indexed_search(Lead.objects.all(), fields, "okafor")
    assert list(found.values_list("pk", flat=True)) == [lead.pk]
