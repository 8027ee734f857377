"""Google Tasks: a task list per project (the ProjectTool role).

API reference: https://developers.google.com/tasks/reference/rest
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic

from integrations.http.pagination import by_cursor
from integrations.providers._google import GoogleClient
from integrations.registry import register_provider
from integrations.values import Project, Task

TASKLISTS = "users/@me/lists"  # https://developers.google.com/tasks/reference/rest/v1/tasklists/insert, list
TASKS = "lists/{tasklist}/tasks"  # https://developers.google.com/tasks/reference/rest/v1/tasks/insert, list


class TaskList(pydantic.BaseModel):
    id: str
    title: str
    selfLink: str = ""


class TaskLists(pydantic.BaseModel):
    items: list[TaskList] = []
    nextPageToken: str | None = None


class GoogleTask(pydantic.BaseModel):
    id: str
    title: str = ""
    status: str = "needsAction"
    due: str | None = None
    webViewLink: str = ""


class GoogleTasks(pydantic.BaseModel):
    items: list[GoogleTask] = []
    nextPageToken: str | None = None


def _task(task: GoogleTask) -> Task:
    done = task.status == "completed"
    return Task(
        task_id=task.id,
        title=task.title,
        status=task.status,
        done=done,
        due=dt.date.fromisoformat(task.due[:10]) if task.due else None,
        url=task.webViewLink,
    )


@register_provider("project_tool", "google_tasks")
class GoogleTasksClient(GoogleClient):
    name = "google_tasks"
    base_url = "https://tasks.googleapis.com/tasks/v1"

    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        existing = next((t for t in self._tasklists() if t.title == name), None)  # no idempotency key: look first
        tasklist = existing or self.post(TASKLISTS, operation="create_project", model=TaskList, json={"title": name})
        return Project(project_id=tasklist.id, name=tasklist.title, url=tasklist.selfLink)

    def _tasklists(self) -> list[TaskList]:
        def fetch(cursor: str | None) -> tuple[list[TaskList], str | None]:
            params: dict[str, Any] = {"maxResults": 100, **({"pageToken": cursor} if cursor else {})}
            page = self.get(TASKLISTS, operation="list_projects", model=TaskLists, params=params)
            return page.items, page.nextPageToken

        return list(by_cursor(fetch))

    def create_task(
        self,
        *,
        idempotency_key: str,
        project_id: str,
        title: str,
        description: str = "",
        due: dt.date | None = None,
    ) -> Task:
        body: dict[str, Any] = {"title": title, "notes": description}
        if due is not None:
            body["due"] = f"{due.isoformat()}T00:00:00.000Z"  # Google keeps only the date part
        return _task(self.post(TASKS.format(tasklist=project_id), operation="create_task", model=GoogleTask, json=body))

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        def fetch(cursor: str | None) -> tuple[list[GoogleTask], str | None]:
            params: dict[str, Any] = {
                "maxResults": 100,
                "showCompleted": str(include_done).lower(),
                "showHidden": str(include_done).lower(),
            }
            if cursor:
                params["pageToken"] = cursor
            page = self.get(TASKS.format(tasklist=project_id), operation="list_tasks", model=GoogleTasks, params=params)
            return page.items, page.nextPageToken

        return [_task(t) for t in by_cursor(fetch)]

    def ping(self) -> str:
        self.get(TASKLISTS, operation="health_check", model=TaskLists, params={"maxResults": 1}, attempts=1)
        return "task lists readable"
