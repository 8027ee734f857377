"""Delivery: the plan, its progress, quality, the weekly report, capacity and change requests."""

from delivery.agents.projects import (
    change_request,
    client_reporting,
    pm_tool,
    progress_tracking,
    project_management,
    quality_assurance,
    resource_planning,
)

__all__ = [
    "change_request",
    "client_reporting",
    "pm_tool",
    "progress_tracking",
    "project_management",
    "quality_assurance",
    "resource_planning",
]
