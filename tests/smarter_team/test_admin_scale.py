"""The building block of the big changelists: counting, filters, search, sorting and the checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib import admin
from django.core import checks
from django.core.paginator import Paginator
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents import registry
from agents.models import AgentRun, AuditLog
from crm.models import Lead
from smarter_team import admin_scale, clock
from smarter_team.admin import BaseAdmin
from tests.factories.agents import AgentRunFactory, AuditLogFactory
from tests.factories.crm import LeadFactory
from tests.factories.integrations import ApiUsageFactory

pytestmark = pytest.mark.django_db
RUNS = "/admin/agents/agentrun/"


def test_counts_exactly_up_to_the_bound_then_estimates_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_scale.EstimatedCountPaginator, "exact_up_to", 5)
    AgentRunFactory.create_batch(4)
    small = admin_scale.EstimatedCountPaginator(AgentRun.objects.order_by("-pk"), 2)
    assert (small.count, small.estimated) == (4, False)
    AgentRunFactory.create_batch(30)
    big = admin_scale.EstimatedCountPaginator(AgentRun.objects.order_by("-pk"), 2)
    if connection.vendor == "postgresql":
        assert big.estimated and big.count >= 6  # the planner's figure, at least what was counted
        pages = list(big.get_elided_page_range(9))
        assert pages[-1] == Paginator.ELLIPSIS and big.num_pages not in pages  # no link to a guessed end
        assert pages[:3] == [1, 2, Paginator.ELLIPSIS] and 9 in pages
    else:
        assert (big.count, big.estimated) == (34, False)  # SQLite: exact, the embedded default is small


def test_an_estimated_count_reads_about_on_the_page(staff_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_scale.EstimatedCountPaginator, "exact_up_to", 3)
    AgentRunFactory.create_batch(8)
    page = staff_client.get(RUNS)
    estimated = page.context["cl"].paginator.estimated
    assert estimated == (connection.vendor == "postgresql")
    assert ("about " in page.content.decode()) == estimated


def test_registry_filters_list_the_codes_values_and_never_read_the_table(staff_client: Any) -> None:
    AgentRunFactory.create(agent_name="lead_scoring")
    with CaptureQueriesContext(connection) as ctx:
        page = staff_client.get(RUNS)
    html = page.content.decode()
    for name in [a.name for a in registry.all_agents()][:5]:
        assert f"?agent_name={name}" in html
    assert "?queue=system" in html
    assert not [q["sql"] for q in ctx.captured_queries if "DISTINCT" in q["sql"].upper()]


def test_recent_values_come_from_the_newest_rows_and_the_chosen_one_always_shows(
    staff_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_scale, "RECENT_ROWS", 2)
    AuditLogFactory.create(action="old.action")
    AuditLogFactory.create(action="lead.status")
    AuditLogFactory.create(action="run.retry")
    changelist = staff_client.get("/admin/agents/auditlog/").context["cl"]
    spec = next(s for s in changelist.filter_specs if getattr(s, "field_path", "") == "action")
    assert [str(v) for v in spec.lookup_choices] == ["lead.status", "run.retry"]
    chosen = staff_client.get("/admin/agents/auditlog/", {"action": "old.action"}).context["cl"]
    spec = next(s for s in chosen.filter_specs if getattr(s, "field_path", "") == "action")
    assert "old.action" in spec.lookup_choices
    assert [row.action for row in chosen.result_list] == ["old.action"]


def test_the_date_filter_counts_days_on_business_time(frozen_clock: Any) -> None:
    request = RequestFactory().get(RUNS)
    model_admin = admin.site._registry[AgentRun]
    field = AgentRun._meta.get_field("created_at")
    date_filter = admin_scale.DateFilter(field, request, {}, AgentRun, model_admin, "created_at")
    links = dict(date_filter.links)
    assert links["Today"]["created_at__gte"] == dt.datetime(2026, 3, 2, tzinfo=dt.UTC) == clock.now().replace(hour=0)
    assert links["Past 7 days"]["created_at__gte"] == dt.datetime(2026, 2, 23, tzinfo=dt.UTC)
    assert links["This year"]["created_at__lt"] == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert "No date" not in links  # created_at is never empty


def test_the_search_unites_each_tables_matches() -> None:
    lead = LeadFactory.create(first_name="Ada", last_name="Okafor", email="ada@harbor.example")
    assert lead.company is not None
    lead.company.name = "Harbor Dental Group"
    lead.company.save()
    LeadFactory.create(first_name="Ben", last_name="Weber", email="ben@weber.example")
    fields = ("email", "last_name", "company__name")

    def found(term: str) -> list[int]:
        return list(admin_scale.indexed_search(Lead.objects.all(), fields, term).values_list("pk", flat=True))

    assert found("okafor") == found("harbor dental") == found("'Harbor Dental Group'") == [lead.pk]
    assert found("okafor weber") == []  # every word must match
    only_local = admin_scale.indexed_search(Lead.objects.all(), ("email", "last_name"), "okafor")
    assert "UNION" not in str(only_local.query) and list(only_local) == [lead]


def test_a_search_reads_its_few_ids_first_and_leaves_many_to_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    okafors = [LeadFactory.create(last_name="Okafor", email=f"ada{n}@okafor.example") for n in range(3)]
    LeadFactory.create(last_name="Weber", email="ada@weber.example")
    fields = ("email", "last_name", "company__name")
    with CaptureQueriesContext(connection) as ctx:
        few = admin_scale.indexed_search(Lead.objects.all(), fields, "ada okafor")
    assert len(ctx) == 1  # the first word's ids: only three, so "okafor" filters those three
    assert sorted(lead.pk for lead in few) == sorted(lead.pk for lead in okafors)
    monkeypatch.setattr(admin_scale, "SEARCH_IDS_UP_TO", 2)
    many = admin_scale.indexed_search(Lead.objects.all(), fields, "ada okafor")
    assert "UNION" in str(many.query)  # both words match more than two rows: the database combines them
    assert sorted(lead.pk for lead in many) == sorted(lead.pk for lead in okafors)


def test_search_fields_read_as_the_admin_reads_them() -> None:
    assert admin_scale._lookup_and_relation(Lead, "email") == ("email__icontains", "")
    assert admin_scale._lookup_and_relation(Lead, "=email") == ("email__iexact", "")
    assert admin_scale._lookup_and_relation(Lead, "^last_name") == ("last_name__istartswith", "")
    assert admin_scale._lookup_and_relation(Lead, "company__name") == ("company__name__icontains", "company")
    assert admin_scale._lookup_and_relation(Lead, "company__domain__exact") == ("company__domain__exact", "company")


def test_only_columns_an_index_sorts_are_sortable() -> None:
    assert {"email", "created_at", "id"} <= admin_scale.index_sortable(Lead)
    assert "status" not in admin_scale.index_sortable(Lead)  # leads an index, but a few values: a full sort
    assert "title" not in admin_scale.index_sortable(Lead)
    request = RequestFactory().get(RUNS)
    assert admin.site._registry[AgentRun].get_sortable_by(request) == ["id", "created_at"]


def test_the_checks_refuse_what_reads_the_whole_table() -> None:
    class SlowAuditAdmin(admin_scale.LargeTableMixin, BaseAdmin):
        date_hierarchy = "at"  # type: ignore[assignment]
        # action: free text (a DISTINCT for its options); run: every run would be an option;
        # actor_type has choices and target_type is a small table.
        list_filter = ("action", "actor_type", "run", "target_type", ("at", admin_scale.DateFilter))

    found = admin_scale.large_table_checks(SlowAuditAdmin(AuditLog, admin.site))
    assert [(e.id, e.msg.split("list filter ")[-1][:8]) for e in found[1:]] == [
        ("smarter_team.E102", "'action'"),
        ("smarter_team.E102", "'run' wo"),
    ]
    assert found[0].id == "smarter_team.E101"
    registered = [e for e in checks.run_checks() if (e.id or "").startswith("smarter_team.E10")]
    assert registered == []


@pytest.mark.postgresql
def test_each_search_field_of_a_big_table_can_use_an_index() -> None:
    """Django's icontains SQL must match the trigram indexes' expression, or every search reads the table."""
    request = RequestFactory().get(RUNS)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: the planner would rather scan
        for model_admin in admin.site._registry.values():
            if not isinstance(model_admin, admin_scale.LargeTableMixin):
                continue
            for name in model_admin.get_search_fields(request):
                lookup, _ = admin_scale._lookup_and_relation(model_admin.model, name)
                column = lookup.rsplit("__", 1)[0]
                if "__" in column:
                    continue  # a related table's field: indexed on its own table's changelist
                queryset = model_admin.model._default_manager.filter(**{lookup: "abcd"}).values("pk")
                sql, params = queryset.query.sql_with_params()
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                label = f"{model_admin.model._meta.label}.{column}"
                assert "Seq Scan" not in plan, f"{label} is searched without an index:\n{plan}"


def test_the_bare_address_and_view_site_lead_to_the_console(staff_client: Any) -> None:
    root = staff_client.get("/")
    assert root.status_code == 302 and root["Location"] == reverse("admin:index")
    assert f'href="{reverse("admin:index")}"' in staff_client.get(RUNS).content.decode()


def test_a_chosen_number_is_listed_once(staff_client: Any) -> None:
    ApiUsageFactory.create(status_code=200)
    ApiUsageFactory.create(status_code=503)
    changelist = staff_client.get("/admin/integrations/apiusage/", {"status_code": "503"}).context["cl"]
    spec = next(s for s in changelist.filter_specs if getattr(s, "field_path", "") == "status_code")
    shown = [c["display"] for c in spec.choices(changelist)]
    assert shown == ["All", "200", "503"]
    assert [row.status_code for row in changelist.result_list] == [503]
