"""The sales app's agents (meetings, calls, proposals, payments), registered on import: one line per package."""

from sales.agents import meeting as meeting
