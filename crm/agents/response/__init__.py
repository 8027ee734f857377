"""The response agents (AGENTS.md "Response"): a reply is threaded, understood, honoured and answered."""

from crm.agents.response import compliance, handler

__all__ = ["compliance", "handler"]
