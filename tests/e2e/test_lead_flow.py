"""From an ICP to qualified leads on the sandbox, on simulated time (From niche to qualified lead).

seed_demo gives the agency its profile, two ICPs and two mailboxes; the schedules tick on business
time; the sandbox answers searches through the real webhook endpoint. Every imported lead must end
in a definite status with its reason: none lost, none stuck half-way. The one expected failure is
the market's: some of the smallest businesses are listed with a webmail domain as their website,
which the email finder refuses to search (as Findymail does, with a 422); those leads stop there,
each with its failed run (what the learning loop learns a rule from).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import AgentRun, AuditLog
from agents.testing import advance
from crm.models import Lead, Niche, Persona, ResearchReport
from tests.e2e.expected import unexpected_runs, webmail_leads

pytestmark = pytest.mark.django_db

STAGES = (
    "niche_research",
    "persona_research",
    "lead_list_builder",
    "data_validation",
    "deduplication",
    "email_finder",
    "email_verification",
    "lead_enrichment",
    "company_research",
    "lead_scoring",
    "lead_research",
)


def test_an_icp_becomes_researched_scored_leads_and_none_is_lost(frozen_clock: Any, settings: Any) -> None:
    settings.LEAD_LIST_DAILY_QUOTA = 40  # two ICPs: at most 80 leads a day, well under 200
    call_command("seed_demo", verbosity=0)
    call_command("sync_schedules", verbosity=0)
    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(hours=36), step=dt.timedelta(minutes=30))

    # Every stage ran, and nothing failed or was left waiting.
    succeeded = {name for name in STAGES if AgentRun.objects.filter(agent_name=name, status="succeeded").exists()}
    assert succeeded == set(STAGES)
    assert not unexpected_runs().exists()
    assert not AgentRun.objects.filter(status="queued", due_at__lte=frozen_clock.now).exists()
    assert Niche.objects.exists() and Persona.objects.exists()

    leads = Lead.objects.filter(merged_into__isnull=True)
    imported = leads.count()
    assert 40 <= imported <= 200
    # The webmail listings: a few, each refused once; every other lead went the whole way.
    webmail = webmail_leads(leads)
    assert 1 <= webmail.count() <= imported * 0.1
    leads = leads.exclude(pk__in=webmail)
    # None lost: every lead ended qualified or disqualified, each with its reasons.
    assert set(leads.values_list("status", flat=True)) <= {"qualified", "disqualified"}
    assert not leads.filter(score_reasons=[]).exists()
    qualified = leads.filter(status="qualified")
    assert qualified.exists() and leads.filter(status="disqualified").exists()
    # Each stage's work shows in the data: verified addresses, sourced research, scores.
    # A lead the finder found no address of its own for ends disqualified with that reason (in a big
    # enough list two colleagues share a first name, and a first@domain guess names the other).
    unfound = leads.filter(email__isnull=True)
    assert set(unfound.values_list("status", flat=True)) <= {"disqualified"}
    assert all("email_finder:" in str(lead.score_reasons) for lead in unfound)
    assert not leads.exclude(pk__in=unfound).filter(email_status="unknown").exists()
    assert not qualified.filter(email_status__in=["invalid", "disposable"]).exists()
    assert ResearchReport.objects.filter(kind="company").count() >= qualified.values("company").distinct().count()
    assert AgentRun.objects.filter(agent_name="lead_research", status="succeeded").count() == qualified.count()
    assert AuditLog.objects.filter(action__startswith="lead.").exists()
    # A stage never ran twice for the same input (no duplicate work after retries or replays).
    for name in ("email_finder", "email_verification", "lead_enrichment", "lead_scoring", "lead_research"):
        runs = AgentRun.objects.filter(agent_name=name)
        assert runs.count() == runs.values("payload_hash").distinct().count(), name
