"""ClickUp: a list per client project, tasks in it (the ProjectTool role).

API reference: https://developer.clickup.com/reference
Projects are created as folderless lists in the space of the configured CLICKUP_LIST_ID.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.http.pagination import MAX_PAGES
from integrations.registry import register_provider
from integrations.values import Project, Task

GET_LIST = "list/{list_id}"  # https://developer.clickup.com/reference/getlist
# https://developer.clickup.com/reference/getfolderlesslists (GET), createfolderlesslist (POST)
SPACE_LISTS = "space/{space_id}/list"
LIST_TASKS = "list/{list_id}/task"  # https://developer.clickup.com/reference/gettasks (GET), createtask (POST)
USER = "user"  # https://developer.clickup.com/reference/getauthorizeduser


class _Ref(pydantic.BaseModel):
    id: str


class ClickUpList(pydantic.BaseModel):
    id: str
    name: str
    space: _Ref | None = None


class Lists(pydantic.BaseModel):
    lists: list[ClickUpList]


class _Status(pydantic.BaseModel):
    status: str
    type: str = ""


class ClickUpTask(pydantic.BaseModel):
    id: str
    name: str
    status: _Status
    url: str = ""
    due_date: str | None = None


class TaskPage(pydantic.BaseModel):
    tasks: list[ClickUpTask]
    last_page: bool = True


class _User(pydantic.BaseModel):
    username: str = ""


class UserEnvelope(pydantic.BaseModel):
    user: _User


def _task(task: ClickUpTask) -> Task:
    due = dt.datetime.fromtimestamp(int(task.due_date) / 1000, tz=dt.UTC).date() if task.due_date else None
    done = task.status.type in ("closed", "done")
    return Task(task_id=task.id, title=task.name, status=task.status.status, done=done, due=due, url=task.url)


@register_provider("project_tool", "clickup")
class ClickUpClient(BaseClient):
    name = "clickup"
    base_url = "https://api.clickup.com/api/v2"
    api_key_name = "CLICKUP_API_KEY"
    required_keys = ("CLICKUP_API_KEY", "CLICKUP_LIST_ID")
    auth_style = "header"  # personal tokens go raw in Authorization
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=1.6)  # 100 requests/minute per token

    def _space_id(self) -> str:
        home = self.get(
            GET_LIST.format(list_id=self.setting("CLICKUP_LIST_ID")), operation="get_list", model=ClickUpList
        )
        if home.space is None:
            from integrations.http import InvalidResponseError

            raise InvalidResponseError("list has no space", provider=self.name, operation="get_list", field="space")
        return home.space.id

    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        space_id = self._space_id()
        # ClickUp takes no idempotency key; list names are unique per space, so look before creating.
        existing = self.get(SPACE_LISTS.format(space_id=space_id), operation="create_project", model=Lists)
        found = next((item for item in existing.lists if item.name == name), None)
        if found is None:
            found = self.post(
                SPACE_LISTS.format(space_id=space_id),
                operation="create_project",
                model=ClickUpList,
                json={"name": name, "content": description},
            )
        return Project(project_id=found.id, name=found.name)

    def create_task(
        self,
        *,
        idempotency_key: str,
        project_id: str,
        title: str,
        description: str = "",
        due: dt.date | None = None,
    ) -> Task:
        body: dict[str, Any] = {"name": title, "description": description}
        if due is not None:
            body["due_date"] = int(dt.datetime.combine(due, dt.time(17), tzinfo=dt.UTC).timestamp() * 1000)
        return _task(
            self.post(LIST_TASKS.format(list_id=project_id), operation="create_task", model=ClickUpTask, json=body)
        )

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        tasks: list[Task] = []
        for page in range(MAX_PAGES):
            result = self.get(
                LIST_TASKS.format(list_id=project_id),
                operation="list_tasks",
                model=TaskPage,
                params={"page": page, "include_closed": str(include_done).lower()},
            )
            tasks.extend(_task(t) for t in result.tasks)
            if result.last_page or not result.tasks:  # ClickUp says when it is done
                break
        return tasks

    def ping(self) -> str:
        return f"user {self.get(USER, operation='health_check', model=UserEnvelope, attempts=1).user.username}"
