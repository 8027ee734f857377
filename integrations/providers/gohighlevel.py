"""GoHighLevel (LeadConnector API v2): contacts, their tasks, opportunities (the ProjectTool role).

API reference: https://highlevel.stoplight.io/docs/integrations/
A project is a contact of the configured location (the client), its tasks are the contact's tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.registry import register_provider
from integrations.values import Project, Task
from smarter_team import clock

CONTACTS = "contacts/"  # https://highlevel.stoplight.io/docs/integrations/4c8362223c17b-create-contact
CONTACT_TASKS = (
    "contacts/{contact_id}/tasks"  # https://highlevel.stoplight.io/docs/integrations/ (Tasks: get all / create)
)
OPPORTUNITIES = "opportunities/"  # https://highlevel.stoplight.io/docs/integrations/ (Opportunities: create)
OPPORTUNITIES_SEARCH = "opportunities/search"  # https://highlevel.stoplight.io/docs/integrations/ (Search Opportunity)
LOCATION = "locations/{location_id}"  # https://highlevel.stoplight.io/docs/integrations/ (Get Location)
API_VERSION = "2021-07-28"
DEFAULT_DUE_DAYS = 7  # GoHighLevel requires a due date on every task


class Contact(pydantic.BaseModel):
    id: str
    firstName: str | None = None
    companyName: str | None = None


class ContactEnvelope(pydantic.BaseModel):
    contact: Contact


class GhlTask(pydantic.BaseModel):
    id: str
    title: str
    dueDate: str | None = None
    completed: bool = False


class TaskEnvelope(pydantic.BaseModel):
    task: GhlTask


class TaskList(pydantic.BaseModel):
    tasks: list[GhlTask]


class Opportunity(pydantic.BaseModel):
    id: str
    name: str
    status: str = ""
    monetaryValue: float | None = None


class OpportunityEnvelope(pydantic.BaseModel):
    opportunity: Opportunity


class _Meta(pydantic.BaseModel):
    startAfter: int | None = None
    startAfterId: str | None = None


class OpportunitySearch(pydantic.BaseModel):
    opportunities: list[Opportunity]
    meta: _Meta = _Meta()


class _Location(pydantic.BaseModel):
    id: str
    name: str = ""


class LocationEnvelope(pydantic.BaseModel):
    location: _Location


def _task(task: GhlTask) -> Task:
    due = dt.datetime.fromisoformat(task.dueDate.replace("Z", "+00:00")).date() if task.dueDate else None
    return Task(
        task_id=task.id,
        title=task.title,
        done=task.completed,
        status="completed" if task.completed else "open",
        due=due,
    )


@register_provider("project_tool", "gohighlevel")
class GoHighLevelClient(BaseClient):
    name = "gohighlevel"
    base_url = "https://services.leadconnectorhq.com"
    api_key_name = "GOHIGHLEVEL_API_KEY"
    required_keys = ("GOHIGHLEVEL_API_KEY", "GOHIGHLEVEL_LOCATION_ID")
    default_headers: ClassVar[dict[str, str]] = {"Version": API_VERSION, "Accept": "application/json"}
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=8.0)  # 100 requests per 10 seconds

    @property
    def location_id(self) -> str:
        return self.setting("GOHIGHLEVEL_LOCATION_ID")

    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        contact = self.post(
            CONTACTS,
            operation="create_project",
            model=ContactEnvelope,
            json={
                "locationId": self.location_id,
                "firstName": name,
                "companyName": name,
                "tags": ["smarter-team-project"],
                "source": "smarter-team",
            },
        ).contact
        return Project(project_id=contact.id, name=name)

    def create_task(
        self,
        *,
        idempotency_key: str,
        project_id: str,
        title: str,
        description: str = "",
        due: dt.date | None = None,
    ) -> Task:
        due = due or (clock.now() + dt.timedelta(days=DEFAULT_DUE_DAYS)).date()
        created = self.post(
            CONTACT_TASKS.format(contact_id=project_id),
            operation="create_task",
            model=TaskEnvelope,
            json={"title": title, "body": description, "dueDate": f"{due.isoformat()}T17:00:00Z", "completed": False},
        )
        return _task(created.task)

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        tasks = [
            _task(t)
            for t in self.get(CONTACT_TASKS.format(contact_id=project_id), operation="list_tasks", model=TaskList).tasks
        ]
        return [t for t in tasks if include_done or not t.done]

    def create_opportunity(
        self, *, pipeline_id: str, stage_id: str, contact_id: str, name: str, value: float | None = None
    ) -> Opportunity:
        body: dict[str, Any] = {
            "pipelineId": pipeline_id,
            "pipelineStageId": stage_id,
            "locationId": self.location_id,
            "contactId": contact_id,
            "name": name,
            "status": "open",
        }
        if value is not None:
            body["monetaryValue"] = value
        return self.post(
            OPPORTUNITIES, operation="create_opportunity", model=OpportunityEnvelope, json=body
        ).opportunity

    def search_opportunities(self, *, query: str = "", limit: int = 100) -> list[Opportunity]:
        found: list[Opportunity] = []
        params: dict[str, Any] = {"location_id": self.location_id, "limit": limit, **({"q": query} if query else {})}
        for _ in range(100):
            page = self.get(
                OPPORTUNITIES_SEARCH, operation="search_opportunities", model=OpportunitySearch, params=params
            )
            found += page.opportunities
            if len(page.opportunities) < limit or not page.meta.startAfterId:
                break
            params.update(startAfter=page.meta.startAfter, startAfterId=page.meta.startAfterId)
        return found

    def ping(self) -> str:
        location = self.get(
            LOCATION.format(location_id=self.location_id), operation="health_check", model=LocationEnvelope, attempts=1
        ).location
        return f"location {location.name or location.id}"
