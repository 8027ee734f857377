"""niche_research, persona_research, competitive_intelligence, icp_refinement."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, rerun, run_agent
from crm.models import Lead, Niche, Persona, ResearchReport
from crm.services import findings
from tests.factories.crm import CompanyFactory, LeadFactory, NicheFactory

pytestmark = pytest.mark.django_db


def test_niche_research_scores_the_icp_industries_from_sourced_answers(icp: Any) -> None:
    result = run_agent("niche_research", {})
    assert result.status == "succeeded", result.error
    niche = Niche.objects.get(name="dental clinics")
    assert niche.demand_score > 0 and niche.competition_score > 0 and niche.icp == icp
    report = ResearchReport.objects.get(kind="niche", niche=niche)
    assert findings.load(report.findings) and all(s.startswith("https://") for s in report.sources)
    assert [r.agent_name for r in result.handoffs] == ["persona_research"]
    assert_idempotent("niche_research", {})


def test_a_niche_nothing_is_known_about_is_not_scored() -> None:
    result = run_agent("niche_research", {"candidates": ["underwater basket weaving"]})
    assert result.output["niches"][0]["note"].startswith("no sourced market information")
    assert not Niche.objects.exists()


def test_persona_research_writes_personas_and_hands_on_to_the_list_builder(icp: Any) -> None:
    niche = NicheFactory.create(name="dental clinics", icp=icp)
    result = run_agent("persona_research", {"niche_id": niche.pk})
    assert result.status == "succeeded", result.error
    personas = Persona.objects.filter(niche=niche)
    assert personas.count() == 2 and all(p.title_patterns and p.objections for p in personas)
    assert [(r.agent_name, r.input["niche_id"]) for r in result.handoffs] == [("lead_list_builder", niche.pk)]
    assert_idempotent("persona_research", {"niche_id": niche.pk})


def test_model_nonsense_for_personas_is_refused() -> None:
    niche = NicheFactory.create()
    result = run_agent("persona_research", {"niche_id": niche.pk}, answers=[{"personas": "lots"}])
    assert result.status == "succeeded", result.error  # the heuristic's personas instead
    assert Persona.objects.filter(niche=niche).count() == 2


def test_competitive_intelligence_keeps_one_sourced_report_per_niche_and_week() -> None:
    NicheFactory.create(name="law firms")
    result = run_agent("competitive_intelligence", {})
    assert result.status == "succeeded", result.error
    report = ResearchReport.objects.get(kind="competitor")
    found = findings.load(report.findings)
    assert {f.kind for f in found} >= {"pricing"} and all("/pricing" in f.source_url for f in found)
    assert_idempotent("competitive_intelligence", {})


def _outcomes(icp: Any, *, won_in: str, lost_in: str, n: int) -> None:
    for i in range(n):
        won = i % 2 == 0
        company = CompanyFactory.create(industry=won_in if won else lost_in, employee_range="11-50", country="US")
        LeadFactory.create(company=company, icp=icp, status=Lead.Status.WON if won else Lead.Status.LOST)


def test_icp_refinement_with_few_outcomes_proposes_nothing_and_says_why(icp: Any) -> None:
    result = run_agent("icp_refinement", {})
    assert result.status == "succeeded"
    assert "0 outcomes" in result.output["note"] and "below the minimum" in result.output["note"]
    assert not result.escalations


def test_icp_refinement_asks_approval_and_applies_only_once_approved(icp: Any, django_user_model: Any) -> None:
    _outcomes(icp, won_in="orthodontists", lost_in="dental clinics", n=40)
    result = run_agent("icp_refinement", {})
    assert result.status == "escalated", result.error
    [escalation] = result.escalations
    assert escalation.kind == Escalation.Kind.APPROVAL and escalation.dedupe_key.startswith(f"approval:icp:{icp.pk}:")
    icp.refresh_from_db()
    assert "orthodontists" not in icp.industries
    user = django_user_model.objects.create_user("op", "op@example.com", "pw")
    decide(escalation=escalation, approve=True, user=user)
    done = rerun(result.run)
    assert done.status == "succeeded", done.error
    icp.refresh_from_db()
    assert "orthodontists" in icp.industries and "dental clinics" not in icp.industries
