"""The research agents (AGENTS.md, Research): niches, personas, companies, people, competitors, the ICP."""

from crm.agents.research import company, competitors, icp, lead, niche, persona

__all__ = ["company", "competitors", "icp", "lead", "niche", "persona"]
