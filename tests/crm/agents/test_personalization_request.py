"""personalization's model request: a stable cached prefix above the cache floor, a small varying part."""

from __future__ import annotations

import json

import pytest

from agents.brains.anthropic import build_request
from agents.context import RunContext
from agents.services.runs import start_run
from crm.agents.campaign.personalization import PROMPT_FINDINGS, Personalization
from tests.crm.agents.test_campaign_agents import finding
from tests.factories.crm import EnrollmentFactory, LeadFactory

pytestmark = pytest.mark.django_db
# Anthropic's rule of thumb for English; the API caches a prefix of at least 1,024 tokens (Sonnet).
CHARS_PER_TOKEN, CACHE_FLOOR = 3.5, 1024


def request_for(n_findings: int) -> dict:
    claims = [f"Acme Dental opened clinic number {i} in Potsdam" for i in range(n_findings)]
    lead = LeadFactory.create(research={"findings": [finding(c) for c in claims]})
    enrollment = EnrollmentFactory.create(lead=lead)
    agent = Personalization()
    run = start_run(
        agent_name="personalization", input={"enrollment_id": enrollment.pk}, trigger="manual", enqueue=False
    )
    ctx = RunContext(run=run, agent=agent, prompt_rules=[])
    facts = agent.load(ctx, agent.Input(enrollment_id=enrollment.pk))
    return build_request(agent, user_prompt=agent.prompt(ctx, facts), prompt_rules=[])


def test_the_cached_prefix_is_above_the_floor_and_the_same_for_every_lead() -> None:
    one, other = request_for(1), request_for(3)
    prefix = json.dumps(one.get("tools", [])) + "".join(b["text"] for b in one["system"])
    assert len(prefix) / CHARS_PER_TOKEN >= CACHE_FLOOR  # below it the API caches nothing
    assert one["system"] == other["system"] and one.get("tools") == other.get("tools")  # byte-identical
    assert all("cache_control" in b for b in one["system"])


def test_the_varying_part_stays_a_small_share_of_the_prompt() -> None:
    many = request_for(15)
    user = many["messages"][0]["content"]
    assert user.count("\n- [") == PROMPT_FINDINGS  # the best few findings, not all of them
    assert "https://" not in user  # sources stay out: cites name the claim
    prefix = json.dumps(many.get("tools", [])) + "".join(b["text"] for b in many["system"])
    assert len(user) / (len(user) + len(prefix)) < 0.2  # >= 80% of the input can be read from the cache
