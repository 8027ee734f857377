"""The sales app's agents (meetings, calls, proposals, payments), registered on import."""

from sales.agents import calls, meeting, payment, proposal  # noqa: F401
