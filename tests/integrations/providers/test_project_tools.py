"""The ProjectTool providers: ClickUp, Notion, Airtable, GoHighLevel, Google Tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import respx

from integrations.http import InvalidResponseError
from integrations.providers.airtable import AirtableClient
from integrations.providers.clickup import ClickUpClient
from integrations.providers.gohighlevel import GoHighLevelClient
from integrations.providers.google_tasks import GoogleTasksClient
from integrations.providers.notion import NotionClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
CLICKUP = "https://api.clickup.com/api/v2"
NOTION = "https://api.notion.com/v1"
AIRTABLE = "https://api.airtable.com/v0"
GHL = "https://services.leadconnectorhq.com"
GTASKS = "https://tasks.googleapis.com/tasks/v1"


# --- ClickUp -------------------------------------------------------------------------------------
@pytest.fixture
def clickup(keys: Callable[..., None]) -> ClickUpClient:
    keys(CLICKUP_API_KEY="pk_test_secret_0001", CLICKUP_LIST_ID="901", NOTION_API_KEY="secret_notion_0001")
    chosen = get_role("project_tool")  # ClickUp is preferred over Notion
    assert isinstance(chosen, ClickUpClient)
    return chosen


def test_clickup_creates_a_list_in_the_space_of_the_configured_list(
    clickup: ClickUpClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{CLICKUP}/list/901").respond(200, json=load_fixture("clickup", "list"))
    mock_http.get(f"{CLICKUP}/space/790/list").respond(200, json=load_fixture("clickup", "space_lists"))
    created = mock_http.post(f"{CLICKUP}/space/790/list").respond(200, json=load_fixture("clickup", "created_list"))
    project = clickup.create_project(idempotency_key="p1", name="Acme Dental onboarding", description="Kick-off")
    assert project.project_id == "903"
    assert created.calls.last.request.headers["Authorization"] == "pk_test_secret_0001"


def test_clickup_reuses_a_list_of_the_same_name(clickup: ClickUpClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{CLICKUP}/list/901").respond(200, json=load_fixture("clickup", "list"))
    mock_http.get(f"{CLICKUP}/space/790/list").respond(200, json=load_fixture("clickup", "space_lists"))
    created = mock_http.post(f"{CLICKUP}/space/790/list")
    assert clickup.create_project(idempotency_key="p1", name="Other client").project_id == "902"
    assert not created.called


def test_clickup_tasks_create_and_page_until_last_page(clickup: ClickUpClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{CLICKUP}/list/903/task").respond(200, json=load_fixture("clickup", "task"))
    task = clickup.create_task(idempotency_key="t1", project_id="903", title="Kick-off call", due=dt.date(2026, 3, 13))
    assert task.task_id == "9hz" and task.due == dt.date(2026, 3, 13)
    assert body(route)["due_date"] == 1773421200000
    mock_http.get(f"{CLICKUP}/list/903/task", params={"page": "1"}).respond(
        200, json=load_fixture("clickup", "tasks_page_1")
    )
    mock_http.get(f"{CLICKUP}/list/903/task", params={"page": "0"}).respond(
        200, json=load_fixture("clickup", "tasks_page_0")
    )
    tasks = clickup.list_tasks(project_id="903")
    assert [(t.title, t.done) for t in tasks] == [("Kick-off call", False), ("Send access form", True)]


# --- Notion --------------------------------------------------------------------------------------
@pytest.fixture
def notion(keys: Callable[..., None]) -> NotionClient:
    keys(NOTION_API_KEY="secret_notion_0001", NOTION_PARENT_PAGE_ID="parent-page")
    chosen = get_role("project_tool")
    assert isinstance(chosen, NotionClient)
    return chosen


def test_notion_project_page_and_todo_tasks(notion: NotionClient, mock_http: respx.MockRouter) -> None:
    page = mock_http.post(f"{NOTION}/pages").respond(200, json=load_fixture("notion", "page"))
    project = notion.create_project(idempotency_key="p1", name="Acme Dental", description="Onboarding")
    assert project.url.startswith("https://www.notion.so/")
    assert body(page)["parent"] == {"page_id": "parent-page"}
    assert page.calls.last.request.headers["Notion-Version"] == "2022-06-28"
    append = mock_http.patch(f"{NOTION}/blocks/{project.project_id}/children").respond(
        200, json=load_fixture("notion", "appended")
    )
    task = notion.create_task(
        idempotency_key="t1", project_id=project.project_id, title="Kick-off call", due=dt.date(2026, 3, 10)
    )
    assert task.task_id == "c02fc1d3-db8b-45c5-a222-27595b15aea7" and task.due == dt.date(2026, 3, 10)
    assert body(append)["children"][0]["to_do"]["rich_text"][-1]["mention"]["date"] == {"start": "2026-03-10"}


def test_notion_lists_todos_across_pages(notion: NotionClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{NOTION}/blocks/pg/children", params={"start_cursor": "cursor-2"}).respond(
        200, json=load_fixture("notion", "children_page_2")
    )
    mock_http.get(f"{NOTION}/blocks/pg/children").respond(200, json=load_fixture("notion", "children_page_1"))
    tasks = notion.list_tasks(project_id="pg")
    assert [(t.task_id, t.title, t.done, t.due) for t in tasks] == [
        ("t1", "Kick-off call due", False, dt.date(2026, 3, 10)),
        ("t2", "Send access form", True, None),
    ]
    assert [t.task_id for t in notion.list_tasks(project_id="pg", include_done=False)] == ["t1"]


def test_notion_append_without_blocks_is_invalid(notion: NotionClient, mock_http: respx.MockRouter) -> None:
    mock_http.patch(f"{NOTION}/blocks/pg/children").respond(200, json={"object": "list", "results": []})
    with pytest.raises(InvalidResponseError) as caught:
        notion.create_task(idempotency_key="t1", project_id="pg", title="x")
    assert caught.value.field == "results"


# --- Airtable ------------------------------------------------------------------------------------
@pytest.fixture
def airtable(keys: Callable[..., None]) -> AirtableClient:
    keys(AIRTABLE_API_KEY="pat_test_secret_0001", AIRTABLE_BASE_ID="appBase01")
    chosen = get_role("project_tool")
    assert isinstance(chosen, AirtableClient)
    return chosen


def test_airtable_creates_are_upserts_merged_on_key(airtable: AirtableClient, mock_http: respx.MockRouter) -> None:
    projects = mock_http.patch(f"{AIRTABLE}/appBase01/Projects").respond(
        200, json=load_fixture("airtable", "upsert_project")
    )
    project = airtable.create_project(idempotency_key="proj-key", name="Acme Dental")
    assert project.project_id == "recProj0001"
    sent = body(projects)
    assert sent["performUpsert"] == {"fieldsToMergeOn": ["Key"]}
    assert sent["records"][0]["fields"]["Key"] == "proj-key"
    mock_http.patch(f"{AIRTABLE}/appBase01/Tasks").respond(200, json=load_fixture("airtable", "upsert_task"))
    task = airtable.create_task(
        idempotency_key="task-key", project_id="recProj0001", title="Kick-off call", due=dt.date(2026, 3, 10)
    )
    assert (task.task_id, task.due) == ("recTask0001", dt.date(2026, 3, 10))


def test_airtable_lists_tasks_of_the_project_across_offsets(
    airtable: AirtableClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{AIRTABLE}/appBase01/Tasks", params={"offset": "itrX/recTask0009"}).respond(
        200, json=load_fixture("airtable", "tasks_page_2")
    )
    mock_http.get(f"{AIRTABLE}/appBase01/Tasks").respond(200, json=load_fixture("airtable", "tasks_page_1"))
    tasks = airtable.list_tasks(project_id="recProj0001")
    assert [(t.task_id, t.done) for t in tasks] == [("recTask0001", False), ("recTask0002", True)]


# --- GoHighLevel ---------------------------------------------------------------------------------
@pytest.fixture
def ghl(keys: Callable[..., None]) -> GoHighLevelClient:
    keys(GOHIGHLEVEL_API_KEY="pit-test-secret-0001", GOHIGHLEVEL_LOCATION_ID="ve9EPM428h8vShlRW1KT")
    chosen = get_role("project_tool")
    assert isinstance(chosen, GoHighLevelClient)
    return chosen


def test_gohighlevel_contact_tasks(ghl: GoHighLevelClient, mock_http: respx.MockRouter, frozen_clock: object) -> None:
    contact = mock_http.post(f"{GHL}/contacts/").respond(201, json=load_fixture("gohighlevel", "contact"))
    project = ghl.create_project(idempotency_key="p1", name="Acme Dental")
    assert project.project_id == "seD4PfOuKoVMLkEZqohJ"
    assert contact.calls.last.request.headers["Version"] == "2021-07-28"
    assert body(contact)["locationId"] == "ve9EPM428h8vShlRW1KT"
    created = mock_http.post(f"{GHL}/contacts/seD4PfOuKoVMLkEZqohJ/tasks").respond(
        201, json=load_fixture("gohighlevel", "task")
    )
    ghl.create_task(idempotency_key="t1", project_id=project.project_id, title="Kick-off call")
    assert body(created)["dueDate"] == "2026-03-09T17:00:00Z"  # a week after the frozen Monday
    mock_http.get(f"{GHL}/contacts/seD4PfOuKoVMLkEZqohJ/tasks").respond(200, json=load_fixture("gohighlevel", "tasks"))
    assert [t.task_id for t in ghl.list_tasks(project_id=project.project_id, include_done=False)] == ["tsk_01"]


def test_gohighlevel_opportunity_search_pages(ghl: GoHighLevelClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{GHL}/opportunities/search", params={"startAfterId": "opp_1"}).respond(
        200, json=load_fixture("gohighlevel", "opportunities_page_2")
    )
    mock_http.get(f"{GHL}/opportunities/search").respond(200, json=load_fixture("gohighlevel", "opportunities_page_1"))
    assert [o.id for o in ghl.search_opportunities(limit=1)] == ["opp_1"]


# --- Google Tasks --------------------------------------------------------------------------------
def test_google_tasks_project_and_tasks(google: respx.Route, mock_http: respx.MockRouter) -> None:
    client = get_role("project_tool")
    assert isinstance(client, GoogleTasksClient)
    mock_http.get(f"{GTASKS}/users/@me/lists").respond(200, json=load_fixture("google_tasks", "tasklists_empty"))
    created = mock_http.post(f"{GTASKS}/users/@me/lists").respond(200, json=load_fixture("google_tasks", "tasklist"))
    project = client.create_project(idempotency_key="p1", name="Acme Dental")
    assert project.project_id == "MTIzNDU2Nzg5"
    assert created.calls.last.request.headers["Authorization"] == "Bearer ya29.a0AfH6SMBtestaccesstoken"
    task_route = mock_http.post(f"{GTASKS}/lists/MTIzNDU2Nzg5/tasks").respond(
        200, json=load_fixture("google_tasks", "task")
    )
    task = client.create_task(
        idempotency_key="t1", project_id="MTIzNDU2Nzg5", title="Kick-off call", due=dt.date(2026, 3, 10)
    )
    assert task.due == dt.date(2026, 3, 10) and body(task_route)["due"] == "2026-03-10T00:00:00.000Z"
    mock_http.get(f"{GTASKS}/lists/MTIzNDU2Nzg5/tasks", params={"pageToken": "page-2"}).respond(
        200, json=load_fixture("google_tasks", "tasks_page_2")
    )
    mock_http.get(f"{GTASKS}/lists/MTIzNDU2Nzg5/tasks").respond(200, json=load_fixture("google_tasks", "tasks_page_1"))
    assert [t.done for t in client.list_tasks(project_id="MTIzNDU2Nzg5")] == [False, True]
    assert google.call_count == 1  # one token for all the calls
