"""The runtime's system agents (AGENTS.md, System): health_check, cost_monitor, escalation_manager,
database_manager, report_generator. Discovered like every app's ``agents`` module; each lives in
its own module."""

from agents.agents import (  # noqa: F401
    cost_monitor,
    database_manager,
    escalation_manager,
    health_check,
    report_generator,
)
