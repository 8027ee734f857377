"""Notion: a page per client project under NOTION_PARENT_PAGE_ID, tasks as to-do blocks (ProjectTool).

API reference: https://developers.notion.com/reference/intro
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.http.pagination import by_cursor
from integrations.registry import register_provider
from integrations.values import Project, Task

PAGES = "pages"  # https://developers.notion.com/reference/post-page
BLOCK_CHILDREN = (
    "blocks/{block_id}/children"  # https://developers.notion.com/reference/get-block-children, patch-block-children
)
DATABASE_QUERY = "databases/{database_id}/query"  # https://developers.notion.com/reference/post-database-query
ME = "users/me"  # https://developers.notion.com/reference/get-self
NOTION_VERSION = "2022-06-28"  # https://developers.notion.com/reference/versioning


class Page(pydantic.BaseModel):
    id: str
    url: str = ""


class _RichText(pydantic.BaseModel):
    plain_text: str = ""
    type: str = "text"
    mention: dict[str, Any] | None = None


class _ToDo(pydantic.BaseModel):
    rich_text: list[_RichText]
    checked: bool = False


class Block(pydantic.BaseModel):
    id: str
    type: str
    to_do: _ToDo | None = None


class BlockList(pydantic.BaseModel):
    results: list[Block]
    next_cursor: str | None = None
    has_more: bool = False


class QueryResult(pydantic.BaseModel):
    results: list[dict[str, Any]]
    next_cursor: str | None = None
    has_more: bool = False


class Bot(pydantic.BaseModel):
    id: str
    name: str | None = None


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content[:2000]}}  # Notion's limit per rich text object


def _task(block: Block) -> Task | None:
    if block.to_do is None:
        return None
    title = "".join(part.plain_text for part in block.to_do.rich_text if part.type == "text").strip()
    due = None
    for part in block.to_do.rich_text:
        start = ((part.mention or {}).get("date") or {}).get("start")
        if start:
            due = dt.date.fromisoformat(start[:10])
    return Task(
        task_id=block.id,
        title=title,
        done=block.to_do.checked,
        status="done" if block.to_do.checked else "open",
        due=due,
    )


@register_provider("project_tool", "notion")
class NotionClient(BaseClient):
    name = "notion"
    base_url = "https://api.notion.com/v1"
    api_key_name = "NOTION_API_KEY"
    required_keys = ("NOTION_API_KEY", "NOTION_PARENT_PAGE_ID")
    default_headers: ClassVar[dict[str, str]] = {"Notion-Version": NOTION_VERSION}
    rate: ClassVar[Rate | None] = Rate(capacity=3, per_second=3.0)  # "an average of three requests per second"

    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        children = [{"object": "block", "type": "paragraph", "paragraph": {"rich_text": [_text(description)]}}]
        page = self.post(
            PAGES,
            operation="create_project",
            model=Page,
            json={
                "parent": {"page_id": self.setting("NOTION_PARENT_PAGE_ID")},
                "properties": {"title": {"title": [_text(name)]}},
                "children": children if description else [],
            },
        )
        return Project(project_id=page.id, name=name, url=page.url)

    def create_task(
        self,
        *,
        idempotency_key: str,
        project_id: str,
        title: str,
        description: str = "",
        due: dt.date | None = None,
    ) -> Task:
        rich_text: list[dict[str, Any]] = [_text(title)]
        if due is not None:
            rich_text += [
                _text(" due "),
                {"type": "mention", "mention": {"type": "date", "date": {"start": due.isoformat()}}},
            ]
        block = {"object": "block", "type": "to_do", "to_do": {"rich_text": rich_text, "checked": False}}
        added = self.request_json(
            "PATCH",
            BLOCK_CHILDREN.format(block_id=project_id),
            operation="create_task",
            model=BlockList,
            json={"children": [block]},
        )
        task = _task(added.results[-1]) if added.results else None
        if task is None:
            from integrations.http import InvalidResponseError

            raise InvalidResponseError(
                "no to_do block returned", provider=self.name, operation="create_task", field="results"
            )
        return task.model_copy(update={"title": title, "due": due})

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        def fetch(cursor: str | None) -> tuple[list[Block], str | None]:
            params: dict[str, Any] = {"page_size": 100, **({"start_cursor": cursor} if cursor else {})}
            page = self.get(
                BLOCK_CHILDREN.format(block_id=project_id), operation="list_tasks", model=BlockList, params=params
            )
            return page.results, page.next_cursor if page.has_more else None

        tasks = [task for block in by_cursor(fetch) if (task := _task(block)) is not None]
        return [t for t in tasks if include_done or not t.done]

    def query_database(self, database_id: str, *, filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            body: dict[str, Any] = {"page_size": 100, **({"filter": filter} if filter else {})}
            if cursor:
                body["start_cursor"] = cursor
            page = self.post(
                DATABASE_QUERY.format(database_id=database_id),
                operation="query_database",
                model=QueryResult,
                json=body,
                idempotent=True,
            )
            return page.results, page.next_cursor if page.has_more else None

        return list(by_cursor(fetch))

    def ping(self) -> str:
        bot = self.get(ME, operation="health_check", model=Bot, attempts=1)
        return f"integration {bot.name or bot.id}"
