"""Where every new lead enters the lead generation chain, whoever created it.

A lead from a CSV import or typed into the admin starts a data_validation run in the creating
transaction (published on commit), so it is normalised, deduplicated, given an email, verified and
enriched like a sourced one. Keyed by the lead: entering twice starts one chain.
"""

from __future__ import annotations

from crm.models import Lead


def lead_entered(*, lead: Lead, source: str) -> None:
    """Start the chain for a lead just created (call inside the creating transaction)."""
    from agents.models import AgentRun
    from agents.services.runs import start_run

    start_run(
        agent_name="data_validation",
        input={"lead_id": lead.pk},
        trigger=AgentRun.Trigger.EVENT,
        idempotency_key=f"lead_flow:lead:{lead.pk}",
        correlation_id=None,
    )
