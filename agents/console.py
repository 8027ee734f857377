"""The runtime's columns in the console: filter options read from the code, a compact run link.

An agent's name, a queue, an outbox kind: the code declares every value these columns can hold,
so a filter lists them without a DISTINCT over millions of rows (smarter_team.admin_scale).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from agents import registry
from agents.base import QUEUES
from agents.outbox import registered_kinds


def agent_names() -> list[str]:
    return [agent.name for agent in registry.all_agents()]


def queue_names() -> list[str]:
    return sorted(QUEUES)


def act_kinds() -> list[str]:
    return sorted(registered_kinds())


@admin.display(description="run")
def run_link(obj: Any) -> str:
    """A row's run as "#id", linked: no join (the run's own label is as long as a column)."""
    if obj.run_id is None:
        return "-"
    return format_html('<a href="{}">#{}</a>', reverse("admin:agents_agentrun_change", args=[obj.run_id]), obj.run_id)
