"""Shared checks for the sales and delivery admin tests: every page renders, no N+1 on changelists."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import factory_for


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def check_pages_render(staff_client: HttpClient, model: type[Model]) -> None:
    """The changelist (also searched), the add page and a row's change page answer 200 with data."""
    rows = factory_for(model).create_batch(2)
    model_admin = admin.site._registry[model]

    changelist = staff_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == model._default_manager.count() >= 1
    assert staff_client.get(admin_url(model, "changelist"), {"q": "x"}).status_code == 200

    add = staff_client.get(admin_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403)

    change = staff_client.get(admin_url(model, "change", rows[0].pk))
    assert change.status_code == 200
    assert str(rows[0]) in change.content.decode()


def changelist_query_count(staff_client: HttpClient, model: type[Model]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


def _every_relation_filled(model: type[Model]) -> dict[str, Any]:
    """Values for optional foreign keys the factories leave empty, so each list column has a related row."""
    from sales.models import Meeting, Proposal
    from tests.factories.sales import ClientFactory

    if model in (Meeting, Proposal):
        return {"client": ClientFactory.create()}
    return {}


def check_changelist_queries_do_not_grow(staff_client: HttpClient, model: type[Model]) -> tuple[int, int]:
    """Query count with 2 rows equals the count with 20 (no per-row query)."""
    factory = factory_for(model)
    extra = _every_relation_filled(model)
    factory.create_batch(2, **extra)
    changelist_query_count(staff_client, model)  # warm up (session, content types)
    with_two = changelist_query_count(staff_client, model)
    factory.create_batch(18, **extra)
    with_twenty = changelist_query_count(staff_client, model)
    assert model._default_manager.count() >= 20 or model._meta.model_name == "invoicesequence"
    return with_two, with_twenty


def management_data(response: Any) -> dict[str, str]:
    """Empty inline formsets for a POST to an admin add/change page."""
    data: dict[str, str] = {}
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": str(inline.formset.initial_form_count()),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data
