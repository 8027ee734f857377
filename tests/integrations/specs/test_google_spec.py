"""Google Calendar, Drive (+ Docs), Sheets, Gmail and Tasks against Google's discovery documents.

The documents are the ones google-api-python-client 2.202.0 (Apache-2.0, a test-only dependency)
ships in ``googleapiclient/discovery_cache/documents/``; each document's ``revision`` is printed in
a failure. Every request the clients make must be a method of the document (HTTP method and path),
send its required query parameters and no undeclared one, and a JSON body with only the request
schema's fields; every fixture may hold only fields of the method's response schema.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from integrations.providers.gmail import GmailClient
from integrations.providers.google_calendar import GoogleCalendarClient, event_id_for
from integrations.providers.google_drive import GoogleDriveClient
from integrations.providers.google_sheets import GoogleSheetsClient
from integrations.providers.google_tasks import GoogleTasksClient
from integrations.values import Recipient
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import Discovery, recorded_requests

pytestmark = pytest.mark.django_db
CALENDAR, DRIVE, DOCS = Discovery.load("calendar", "v3"), Discovery.load("drive", "v3"), Discovery.load("docs", "v1")
SHEETS, GMAIL, TASKS = Discovery.load("sheets", "v4"), Discovery.load("gmail", "v1"), Discovery.load("tasks", "v1")
GCAL, GDRIVE = "https://www.googleapis.com/calendar/v3", "https://www.googleapis.com/drive/v3"
GMAIL_ME, GTASKS = "https://gmail.googleapis.com/gmail/v1/users/me", "https://tasks.googleapis.com/tasks/v1"
UTC = dt.UTC
DOC_ID = "1AbCdEfGhIjKlMnOp"


@pytest.fixture(autouse=True)
def _google_oauth(keys: Callable[..., None], mock_http: respx.MockRouter) -> Iterator[None]:
    keys(
        GOOGLE_CLIENT_ID="client-id.apps.googleusercontent.com",
        GOOGLE_CLIENT_SECRET="gocspx-test-secret",
        GOOGLE_REFRESH_TOKEN="1//refresh-test-secret",
    )
    mock_http.post("https://oauth2.googleapis.com/token").respond(200, json=load_fixture("google", "token"))
    yield


def _api_requests(router: respx.MockRouter) -> list[httpx.Request]:
    return [r for r in recorded_requests(router) if r.url.host != "oauth2.googleapis.com"]


def _errors(spec: Discovery, requests: list[httpx.Request]) -> list[str]:
    return [
        f"{r.method} {r.url.path}: {e} (rev {spec.document['revision']})"
        for r in requests
        for e in spec.request_errors(r)
    ]


def test_calendar_requests_are_methods_of_calendar_v3(mock_http: respx.MockRouter) -> None:
    event = {**load_fixture("google_calendar", "event"), "id": event_id_for("meet-1")}
    mock_http.post(f"{GCAL}/freeBusy").respond(200, json=load_fixture("google_calendar", "freebusy"))
    mock_http.post(f"{GCAL}/calendars/primary/events").respond(409, json=load_fixture("google_calendar", "duplicate"))
    mock_http.get(url__regex=rf"{GCAL}/calendars/primary/events/\w+").respond(200, json=event)
    mock_http.patch(url__regex=rf"{GCAL}/calendars/primary/events/\w+").respond(200, json=event)
    mock_http.delete(url__regex=rf"{GCAL}/calendars/primary/events/\w+").respond(204)
    mock_http.get(f"{GCAL}/users/me/calendarList").respond(200, json={"kind": "calendar#calendarList", "items": []})
    client = GoogleCalendarClient()
    start = dt.datetime(2026, 3, 3, 15, tzinfo=UTC)

    client.available_slots(start=start, end=start + dt.timedelta(days=1), duration_minutes=30, timezone="UTC")
    client.book(
        idempotency_key="meet-1",
        start=start,
        duration_minutes=30,
        attendee_email="dana@acmedental.example",
        attendee_name="Dana Lee",
        title="Discovery call",
    )
    client.reschedule(booking_id=event["id"], start=start + dt.timedelta(days=1))
    client.cancel(booking_id=event["id"])
    client.health_check()

    requests = _api_requests(mock_http)
    assert {CALENDAR.method(r.method, str(r.url)).id for r in requests} == {
        "calendar.freebusy.query",
        "calendar.events.insert",
        "calendar.events.get",
        "calendar.events.patch",
        "calendar.events.delete",
        "calendar.calendarList.list",
    }
    assert _errors(CALENDAR, requests) == []


def test_drive_and_docs_requests_are_methods_of_drive_v3_and_docs_v1(mock_http: respx.MockRouter) -> None:
    file = load_fixture("google_drive", "file")
    mock_http.get(f"{GDRIVE}/files").respond(200, json=load_fixture("google_drive", "files_empty"))
    mock_http.post("https://www.googleapis.com/upload/drive/v3/files").respond(200, json=file)
    mock_http.post(f"{GDRIVE}/files/tmpl-1/copy").respond(200, json=file)
    mock_http.post(f"https://docs.googleapis.com/v1/documents/{DOC_ID}:batchUpdate").respond(200, json={})
    mock_http.get(f"{GDRIVE}/files/{DOC_ID}").respond(200, json=file)
    mock_http.post(f"{GDRIVE}/files/{DOC_ID}/permissions").respond(200, json=load_fixture("google_drive", "permission"))
    mock_http.patch(f"{GDRIVE}/files/{DOC_ID}").respond(200, json=load_fixture("google_drive", "file_sent"))
    mock_http.post(f"{GDRIVE}/files").respond(200, json=file)
    mock_http.get(f"{GDRIVE}/about").respond(200, json=load_fixture("google_drive", "about"))
    client = GoogleDriveClient()
    dana = [Recipient(email="dana@acmedental.example", first_name="Dana", last_name="Lee")]

    client.create_document(idempotency_key="prop-1", name="Proposal", recipients=dana, content="<h1>Proposal</h1>")
    client.create_document(
        idempotency_key="prop-2", name="SOW", recipients=dana, template_id="tmpl-1", fields={"Price": "$1"}
    )
    client.send_document(document_id=DOC_ID, message="Here it is")
    client.create_folder(name="Acme Dental", parent_id="0Bparent")
    client.health_check()

    requests = _api_requests(mock_http)
    docs = [r for r in requests if r.url.host == "docs.googleapis.com"]
    drive = [r for r in requests if r not in docs]
    assert [DOCS.method(r.method, str(r.url)).id for r in docs] == ["docs.documents.batchUpdate"]
    assert {DRIVE.method(r.method, str(r.url)).id for r in drive} == {
        "drive.files.list",
        "drive.files.create",
        "drive.files.copy",
        "drive.files.get",
        "drive.permissions.create",
        "drive.files.update",
        "drive.about.get",
    }
    assert _errors(DRIVE, drive) + _errors(DOCS, docs) == []


def test_drive_upload_metadata_is_a_drive_file(mock_http: respx.MockRouter) -> None:
    upload = mock_http.post("https://www.googleapis.com/upload/drive/v3/files").respond(
        200, json=load_fixture("google_drive", "file")
    )
    mock_http.get(f"{GDRIVE}/files").respond(200, json=load_fixture("google_drive", "files_empty"))
    GoogleDriveClient().create_document(idempotency_key="prop-1", name="Proposal", recipients=[], content="<p>x</p>")
    metadata = re.search(rb"application/json; charset=UTF-8\r\n\r\n(.*?)\r\n--", upload.calls.last.request.content)
    assert metadata is not None
    create = DRIVE.method("POST", f"{GDRIVE}/files")
    assert DRIVE.unknown_fields(json.loads(metadata.group(1)), create.spec["request"]) == []
    assert upload.calls.last.request.url.params["uploadType"] == "multipart"


def test_sheets_requests_are_methods_of_sheets_v4(mock_http: respx.MockRouter) -> None:
    base = "https://sheets.googleapis.com/v4/spreadsheets/sheet123/values"
    mock_http.post(f"{base}/Leads!A1:append").respond(200, json=load_fixture("google_sheets", "append"))
    mock_http.get(f"{base}/Leads!A1:C3").respond(200, json=load_fixture("google_sheets", "values"))
    client = GoogleSheetsClient()
    client.append_rows(spreadsheet_id="sheet123", range="Leads!A1", rows=[["Acme", "d@a.example"]])
    client.get_values(spreadsheet_id="sheet123", range="Leads!A1:C3")

    requests = _api_requests(mock_http)
    assert [SHEETS.method(r.method, str(r.url)).id for r in requests] == [
        "sheets.spreadsheets.values.append",
        "sheets.spreadsheets.values.get",
    ]
    assert _errors(SHEETS, requests) == []


def test_gmail_requests_are_methods_of_gmail_v1(mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{GMAIL_ME}/messages").respond(200, json=load_fixture("gmail", "messages_empty"))
    mock_http.post(f"{GMAIL_ME}/messages/send").respond(200, json=load_fixture("gmail", "sent"))
    mock_http.get(f"{GMAIL_ME}/messages/18e2f1c3a4b5c6d7").respond(200, json=load_fixture("gmail", "sent"))
    mock_http.get(f"{GMAIL_ME}/threads/18e2f1c3a4b5c6d7").respond(200, json=load_fixture("gmail", "thread_replied"))
    mock_http.get(f"{GMAIL_ME}/profile").respond(200, json=load_fixture("gmail", "profile"))
    client = GmailClient()
    client.send_email(
        idempotency_key="act-7",
        from_mailbox="sales@agency.example",
        to="dana@acmedental.example",
        subject="Quick question",
        body="Hi Dana",
        headers={},
        thread_id="thr-1",
    )
    client.get_message_status("18e2f1c3a4b5c6d7")
    client.health_check()

    requests = _api_requests(mock_http)
    assert {GMAIL.method(r.method, str(r.url)).id for r in requests} == {
        "gmail.users.messages.list",
        "gmail.users.messages.send",
        "gmail.users.messages.get",
        "gmail.users.threads.get",
        "gmail.users.getProfile",
    }
    assert _errors(GMAIL, requests) == []


def test_the_inbox_poll_requests_are_methods_of_gmail_v1(mock_http: respx.MockRouter) -> None:
    user = "https://gmail.googleapis.com/gmail/v1/users/anna@smarterteam.io"
    mock_http.get(f"{user}/history").respond(200, json=load_fixture("gmail", "history"))
    mock_http.get(f"{user}/messages").respond(200, json=load_fixture("gmail", "messages_recent"))
    mock_http.get(f"{user}/messages/18f0a1b2c3d4e5f6").respond(200, json=load_fixture("gmail", "raw_reply"))
    mock_http.get(f"{user}/profile").respond(200, json=load_fixture("gmail", "profile"))
    client = GmailClient()
    client.inbox_changes(user="anna@smarterteam.io", start_history_id="9000")
    client.recent_inbox(user="anna@smarterteam.io", newer_than_days=7, limit=200)
    client.raw_message(user="anna@smarterteam.io", message_id="18f0a1b2c3d4e5f6")
    client.current_history_id(user="anna@smarterteam.io")

    requests = _api_requests(mock_http)
    assert {GMAIL.method(r.method, str(r.url)).id for r in requests} == {
        "gmail.users.history.list",
        "gmail.users.messages.list",
        "gmail.users.messages.get",
        "gmail.users.getProfile",
    }
    assert _errors(GMAIL, requests) == []


def test_tasks_requests_are_methods_of_tasks_v1(mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{GTASKS}/users/@me/lists").respond(200, json=load_fixture("google_tasks", "tasklists_empty"))
    mock_http.post(f"{GTASKS}/users/@me/lists").respond(200, json=load_fixture("google_tasks", "tasklist"))
    mock_http.post(f"{GTASKS}/lists/MTIzNDU2Nzg5/tasks").respond(200, json=load_fixture("google_tasks", "task"))
    mock_http.get(f"{GTASKS}/lists/MTIzNDU2Nzg5/tasks").respond(200, json=load_fixture("google_tasks", "tasks_page_2"))
    client = GoogleTasksClient()
    client.create_project(idempotency_key="p1", name="Acme Dental")
    client.create_task(idempotency_key="t1", project_id="MTIzNDU2Nzg5", title="Kick-off", due=dt.date(2026, 3, 10))
    client.list_tasks(project_id="MTIzNDU2Nzg5")
    client.health_check()

    requests = _api_requests(mock_http)
    assert {TASKS.method(r.method, str(r.url)).id for r in requests} == {
        "tasks.tasklists.list",
        "tasks.tasklists.insert",
        "tasks.tasks.insert",
        "tasks.tasks.list",
    }
    assert _errors(TASKS, requests) == []


@pytest.mark.parametrize(
    ("spec", "method", "url", "provider", "fixture"),
    [
        (CALENDAR, "POST", f"{GCAL}/freeBusy", "google_calendar", "freebusy"),
        (CALENDAR, "GET", f"{GCAL}/calendars/primary/events/ev1", "google_calendar", "event"),
        (DRIVE, "GET", f"{GDRIVE}/files/{DOC_ID}", "google_drive", "file"),
        (DRIVE, "PATCH", f"{GDRIVE}/files/{DOC_ID}", "google_drive", "file_sent"),
        (DRIVE, "GET", f"{GDRIVE}/files", "google_drive", "files_empty"),
        (DRIVE, "POST", f"{GDRIVE}/files/{DOC_ID}/permissions", "google_drive", "permission"),
        (DRIVE, "GET", f"{GDRIVE}/about", "google_drive", "about"),
        (SHEETS, "POST", "https://sheets.googleapis.com/v4/spreadsheets/s/values/A1:append", "google_sheets", "append"),
        (SHEETS, "GET", "https://sheets.googleapis.com/v4/spreadsheets/s/values/A1:C3", "google_sheets", "values"),
        (GMAIL, "GET", f"{GMAIL_ME}/messages", "gmail", "messages_empty"),
        (GMAIL, "GET", f"{GMAIL_ME}/messages", "gmail", "messages_found"),
        (GMAIL, "POST", f"{GMAIL_ME}/messages/send", "gmail", "sent"),
        (GMAIL, "GET", f"{GMAIL_ME}/threads/t1", "gmail", "thread_replied"),
        (GMAIL, "GET", f"{GMAIL_ME}/profile", "gmail", "profile"),
        (GMAIL, "GET", f"{GMAIL_ME}/history", "gmail", "history"),
        (GMAIL, "GET", f"{GMAIL_ME}/history", "gmail", "history_empty"),
        (GMAIL, "GET", f"{GMAIL_ME}/messages", "gmail", "messages_recent"),
        (GMAIL, "GET", f"{GMAIL_ME}/messages/m1", "gmail", "raw_reply"),
        (GMAIL, "GET", f"{GMAIL_ME}/messages/m1", "gmail", "raw_bounce"),
        (TASKS, "POST", f"{GTASKS}/users/@me/lists", "google_tasks", "tasklist"),
        (TASKS, "GET", f"{GTASKS}/users/@me/lists", "google_tasks", "tasklists_empty"),
        (TASKS, "POST", f"{GTASKS}/lists/l1/tasks", "google_tasks", "task"),
        (TASKS, "GET", f"{GTASKS}/lists/l1/tasks", "google_tasks", "tasks_page_1"),
        (TASKS, "GET", f"{GTASKS}/lists/l1/tasks", "google_tasks", "tasks_page_2"),
    ],
)
def test_fixture_holds_only_fields_of_the_response_schema(
    spec: Discovery, method: str, url: str, provider: str, fixture: str
) -> None:
    assert spec.response_errors(method, url, load_fixture(provider, fixture)) == []


def test_the_checker_catches_a_parameter_calendar_does_not_take() -> None:
    request = httpx.Request("POST", f"{GCAL}/calendars/primary/events", params={"sendNotifications": "yes"}, json={})
    assert CALENDAR.request_errors(request) == []  # deprecated, but still declared
    request = httpx.Request("POST", f"{GCAL}/calendars/primary/events", params={"notify": "all"}, json={"when": 1})
    assert CALENDAR.request_errors(request) == [
        "query parameter 'notify' is not one calendar.events.insert takes",
        "body <root>: 'when' is not a field of Event",
    ]
