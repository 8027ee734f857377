"""From an ICP to qualified leads on the sandbox, on simulated time (issue: From niche to qualified lead).

seed_demo gives the agency its profile, two ICPs and two mailboxes; the schedules tick on business
time; the sandbox answers searches through the real webhook endpoint. Every imported lead must end
in a definite status with its reason: none lost, none stuck half-way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import AgentRun, AuditLog
from agents.testing import advance
from crm.models import Lead, Niche, Persona, ResearchReport

pytestmark = pytest.mark.django_db


def test_an_icp_becomes_researched_scored_leads_and_none_is_lost(frozen_clock: Any, settings: Any) -> None:
    settings.LEAD_LIST_DAILY_QUOTA = 40  # two ICPs: at most 80 leads a day, well under 200
    call_command("seed_demo", verbosity=0)
    call_command("sync_schedules", verbosity=0)
    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(hours=36), step=dt.timedelta(minutes=30))

    runs = Counter(AgentRun.objects.values_list("agent_name", "status"))
    print(sorted(runs.items()))
    leads = Lead.objects.filter(merged_into__isnull=True)
    print(Counter(leads.values_list("status", "email_status")))
    assert Niche.objects.exists() and Persona.objects.exists()
    assert 0 < leads.count() <= 200
    assert not AgentRun.objects.filter(status__in=["failed", "queued", "running"]).exclude(due_at__gt=frozen_clock.now)
