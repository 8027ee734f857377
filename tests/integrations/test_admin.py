from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories.integrations import ApiUsageFactory, LocalVectorFactory, MemoryEntryFactory

pytestmark = pytest.mark.django_db


def test_api_usage_changelist_filters_and_is_append_only(staff_client: Client) -> None:
    ApiUsageFactory.create_batch(3)
    ApiUsageFactory(provider="stripe", success=False, status_code=500, error_type="TransientError")
    url = reverse("admin:integrations_apiusage_changelist")
    response = staff_client.get(url, {"provider": "stripe", "success__exact": "0"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert staff_client.get(reverse("admin:integrations_apiusage_add")).status_code == 403


def test_api_usage_changelist_query_count_does_not_grow_with_rows(
    staff_client: Client, django_assert_max_num_queries: object
) -> None:
    ApiUsageFactory.create_batch(30)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert staff_client.get(reverse("admin:integrations_apiusage_changelist")).status_code == 200


def test_local_store_admins_render_without_the_embedding(staff_client: Client) -> None:
    vector = LocalVectorFactory.create(metadata={"agent": "reply_handler"})
    entry = MemoryEntryFactory.create()
    for name, obj in (("localvector", vector), ("memoryentry", entry)):
        assert staff_client.get(reverse(f"admin:integrations_{name}_changelist")).status_code == 200
        page = staff_client.get(reverse(f"admin:integrations_{name}_change", args=[obj.pk]))
        assert page.status_code == 200
        assert b'name="embedding"' not in page.content
