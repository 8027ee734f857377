"""Pushing planned work to the PM tool (the ProjectTool role: ClickUp, Notion, ... or the sandbox).

One outbox act per piece of planning (the plan, a QA rework, an approved change), keyed by that
piece's identity. The tool's project and each task carry our keys as their idempotency keys, and
tasks are looked up by title before they are created, because some tools (ClickUp) take no key: a
retry after a lost answer finds the task instead of making a second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from agents.context import RunContext
from agents.models import Action
from agents.outbox import register_performer
from delivery.models import Project, ProjectTask
from smarter_team import clock

PUSH_KIND = "project_tool.push"


class PushedTask(BaseModel):
    key: str
    title: str
    description: str = ""
    due: dt.date | None = None


class ProjectPush(BaseModel):
    project_pk: int
    project_key: str
    name: str
    description: str = ""
    pm_project_id: str = ""  # blank until the tool has the project
    tasks: list[PushedTask]


def project_key(project: Project) -> str:
    return f"project:{project.pk}"


def push(ctx: RunContext, *, key: str, project: Project, description: str, tasks: Sequence[ProjectTask]) -> Action:
    """In ``act``: send ``tasks`` (and the project itself, while the tool does not have it) once per ``key``."""
    return ctx.act(
        PUSH_KIND,
        key,
        ProjectPush(
            project_pk=project.pk,
            project_key=project_key(project),
            name=project.name,
            description=description,
            pm_project_id=project.pm_tool_id,
            tasks=[PushedTask(key=t.key, title=t.title, description=t.description, due=t.due_on) for t in tasks],
        ),
    )


@register_performer(PUSH_KIND, payload=ProjectPush, contacts=())
class PushToProjectTool:
    def perform(self, payload: ProjectPush, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        tool = get_role("project_tool")
        project_id = payload.pm_project_id
        if not project_id:
            made = tool.create_project(
                idempotency_key=payload.project_key, name=payload.name, description=payload.description
            )
            project_id = made.project_id
        existing = {t.title: t for t in tool.list_tasks(project_id=project_id)}
        tasks: dict[str, dict[str, str]] = {}
        for task in payload.tasks:
            found = existing.get(task.title) or tool.create_task(
                idempotency_key=task.key,
                project_id=project_id,
                title=task.title,
                description=task.description,
                due=task.due,
            )
            tasks[task.key] = {"task_id": found.task_id, "url": found.url}
        return {"project_id": project_id, "tasks": tasks}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        now = clock.now()
        project_pk = action.payload.get("project_pk")
        Project.objects.filter(pk=project_pk, pm_tool_id="").update(
            pm_tool_id=str(result.get("project_id", ""))[:128], updated_at=now
        )
        for key, made in dict(result.get("tasks") or {}).items():
            ProjectTask.objects.filter(key=key, external_id="").update(
                external_id=str(made.get("task_id", ""))[:128], url=str(made.get("url", ""))[:500], updated_at=now
            )
