"""Every model in the operations console: its pages render with data, and changelists stay flat.

Walks the admin registry, so a model registered tomorrow is covered without a new test; a model
without a factory fails here, which is the point.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import factory_for

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"agents", "crm", "sales", "delivery", "learning", "integrations"}
REGISTERED = sorted(
    (model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS),
    key=lambda m: m._meta.label,
)


def _url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _changelist_queries(client: Any, model: type[models.Model]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(_url(model, "changelist"))
    assert response.status_code == 200, f"{model._meta.label} changelist: {response.status_code}"
    return len(ctx.captured_queries)


def test_every_project_model_is_in_the_console() -> None:
    from django.apps import apps

    missing = [
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS and m not in admin.site._registry and not m._meta.auto_created
    ]
    assert not missing, f"not registered in the admin: {missing}"


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_render_and_changelist_does_not_grow(
    staff_client: Any, model: type[models.Model]
) -> None:
    factory = factory_for(model)
    first = factory.create_batch(2)
    few = _changelist_queries(staff_client, model)
    factory.create_batch(18)
    many = _changelist_queries(staff_client, model)
    assert many == few, f"{model._meta.label} changelist: {few} queries with 2 rows, {many} with 20 (N+1)"

    model_admin = admin.site._registry[model]
    request = staff_client.get(_url(model, "changelist")).wsgi_request
    if model_admin.has_add_permission(request):
        assert staff_client.get(_url(model, "add")).status_code == 200
    change = staff_client.get(_url(model, "change", first[0].pk))
    assert change.status_code == 200, f"{model._meta.label} change page: {change.status_code}"
