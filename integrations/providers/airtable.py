"""Airtable: Projects and Tasks tables in AIRTABLE_BASE_ID (the ProjectTool role).

API reference: https://airtable.com/developers/web/api/introduction
The base needs a "Projects" table (Name, Notes, Key) and a "Tasks" table (Name, Notes, Project
linked to Projects, Due, Done, Key). "Key" holds our idempotency key: creates are upserts merged
on it, so a retried create updates the same record instead of adding a second.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.http.pagination import by_cursor
from integrations.registry import register_provider
from integrations.values import Project, Task

TABLE = "{base_id}/{table}"  # https://airtable.com/developers/web/api/update-multiple-records (upsert), list-records
WHOAMI = "meta/whoami"  # https://airtable.com/developers/web/api/get-user-id-scopes
PROJECTS_TABLE = "Projects"
TASKS_TABLE = "Tasks"


class AirtableRecord(pydantic.BaseModel):
    id: str
    createdTime: str = ""
    fields: dict[str, Any]


class RecordList(pydantic.BaseModel):
    records: list[AirtableRecord]
    offset: str | None = None


class WhoAmI(pydantic.BaseModel):
    id: str


def _task(record: AirtableRecord) -> Task:
    due = record.fields.get("Due")
    done = bool(record.fields.get("Done"))
    return Task(
        task_id=record.id,
        title=str(record.fields.get("Name", "")),
        done=done,
        status="done" if done else "open",
        due=dt.date.fromisoformat(due) if due else None,
    )


@register_provider("project_tool", "airtable")
class AirtableClient(BaseClient):
    name = "airtable"
    base_url = "https://api.airtable.com/v0"
    api_key_name = "AIRTABLE_API_KEY"
    required_keys = ("AIRTABLE_API_KEY", "AIRTABLE_BASE_ID")
    rate: ClassVar[Rate | None] = Rate(capacity=5, per_second=5.0)  # 5 requests per second per base

    def _table(self, table: str) -> str:
        return TABLE.format(base_id=self.setting("AIRTABLE_BASE_ID"), table=table)

    def upsert(self, table: str, *, key: str, fields: dict[str, Any], operation: str) -> AirtableRecord:
        result = self.request_json(
            "PATCH",
            self._table(table),
            operation=operation,
            model=RecordList,
            json={
                "performUpsert": {"fieldsToMergeOn": ["Key"]},
                "typecast": True,
                "records": [{"fields": {**fields, "Key": key}}],
            },
            idempotent=True,  # merged on Key
        )
        if not result.records:
            from integrations.http import InvalidResponseError

            raise InvalidResponseError("no record returned", provider=self.name, operation=operation, field="records")
        return result.records[0]

    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        record = self.upsert(
            PROJECTS_TABLE, key=idempotency_key, fields={"Name": name, "Notes": description}, operation="create_project"
        )
        return Project(project_id=record.id, name=name)

    def create_task(
        self,
        *,
        idempotency_key: str,
        project_id: str,
        title: str,
        description: str = "",
        due: dt.date | None = None,
    ) -> Task:
        fields: dict[str, Any] = {"Name": title, "Notes": description, "Project": [project_id]}
        if due is not None:
            fields["Due"] = due.isoformat()
        return _task(self.upsert(TASKS_TABLE, key=idempotency_key, fields=fields, operation="create_task"))

    def list_records(self, table: str, *, formula: str = "", operation: str = "list_records") -> list[AirtableRecord]:
        def fetch(cursor: str | None) -> tuple[list[AirtableRecord], str | None]:
            params: dict[str, Any] = {"pageSize": 100}
            if formula:
                params["filterByFormula"] = formula
            if cursor:
                params["offset"] = cursor
            page = self.get(self._table(table), operation=operation, model=RecordList, params=params)
            return page.records, page.offset

        return list(by_cursor(fetch))

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        # Linked records are matched by the project's primary field in formulas; filter by id here instead.
        records = self.list_records(TASKS_TABLE, operation="list_tasks")
        tasks = [_task(r) for r in records if project_id in (r.fields.get("Project") or [])]
        return [t for t in tasks if include_done or not t.done]

    def ping(self) -> str:
        return f"user {self.get(WHOAMI, operation='health_check', model=WhoAmI, attempts=1).id}"
