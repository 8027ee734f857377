"""The response agents (AGENTS.md "Response"): a reply is threaded, understood, honoured and answered."""

from crm.agents.response import compliance, drafting, gmail_poll, handler, intelligence, knowledge

__all__ = ["compliance", "drafting", "gmail_poll", "handler", "intelligence", "knowledge"]
