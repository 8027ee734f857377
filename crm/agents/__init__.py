"""The crm app's agents, registered on import (the runtime autodiscovers ``crm.agents``)."""

from crm.agents import data_validation, deduplication, lead_scoring, research

__all__ = ["data_validation", "deduplication", "lead_scoring", "research"]
