from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from smarter_team.permissions import ensure_staff_groups

pytestmark = pytest.mark.django_db


def test_staff_groups_exist_after_migrate_with_graded_permissions() -> None:
    groups = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert {"operator", "manager", "admin"} <= set(groups)
    assert "change_escalation" in groups["operator"]
    assert "delete_lead" not in groups["operator"]
    assert "delete_lead" in groups["manager"]
    assert "change_budget" in groups["manager"] and "change_budget" not in groups["operator"]
    assert "add_user" in groups["admin"] and "add_user" not in groups["manager"]
    assert groups["operator"] < groups["manager"] < groups["admin"]


def test_setting_up_groups_twice_changes_nothing() -> None:
    first = ensure_staff_groups()
    second = ensure_staff_groups()
    assert first == second
    assert Group.objects.filter(name__in=["operator", "manager", "admin"]).count() == 3
