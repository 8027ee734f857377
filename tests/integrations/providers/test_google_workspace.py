"""Gmail, Google Drive and Google Sheets, and the OAuth refresh they share."""

from __future__ import annotations

import base64
import email
import json
from collections.abc import Callable
from typing import Any

import pytest
import respx

from integrations.http import AuthError
from integrations.http.shared import shared_redis
from integrations.providers.gmail import GmailClient, message_id_for
from integrations.providers.google_drive import GoogleDriveClient
from integrations.providers.google_sheets import GoogleSheetsClient
from integrations.roles import get_role
from integrations.values import Recipient
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import GOOGLE_TOKEN_URL, body

pytestmark = pytest.mark.django_db
GMAIL = "https://gmail.googleapis.com/gmail/v1/users/me"
DRIVE = "https://www.googleapis.com/drive/v3"


@pytest.fixture
def gmail(google: respx.Route) -> GmailClient:
    chosen = get_role("outreach")
    assert isinstance(chosen, GmailClient)
    return chosen


def test_send_builds_mime_with_a_message_id_from_the_key(
    gmail: GmailClient, mock_http: respx.MockRouter, google: respx.Route
) -> None:
    mock_http.get(f"{GMAIL}/messages").respond(200, json=load_fixture("gmail", "messages_empty"))
    send = mock_http.post(f"{GMAIL}/messages/send").respond(200, json=load_fixture("gmail", "sent"))
    sent = gmail.send_email(
        idempotency_key="act-7",
        from_mailbox="sales@agency.example",
        to="dana@acmedental.example",
        subject="Quick question",
        body="Hi Dana",
        headers={"List-Unsubscribe": "<mailto:unsubscribe@agency.example>"},
        thread_id="thr-1",
    )
    assert sent.message_id == "18e2f1c3a4b5c6d7"
    payload = body(send)
    assert payload["threadId"] == "thr-1"
    mime = email.message_from_bytes(base64.urlsafe_b64decode(payload["raw"]))
    assert mime["Message-ID"] == message_id_for("act-7", "sales@agency.example")
    assert mime["List-Unsubscribe"] == "<mailto:unsubscribe@agency.example>"
    assert mime["To"] == "dana@acmedental.example"
    token_form = google.calls.last.request.content.decode()
    assert "grant_type=refresh_token" in token_form


def test_a_retried_send_finds_the_first_email_and_does_not_send_again(
    gmail: GmailClient, mock_http: respx.MockRouter
) -> None:
    search = mock_http.get(f"{GMAIL}/messages").respond(200, json=load_fixture("gmail", "messages_found"))
    send = mock_http.post(f"{GMAIL}/messages/send")
    sent = gmail.send_email(
        idempotency_key="act-7",
        from_mailbox="sales@agency.example",
        to="d@a.example",
        subject="s",
        body="b",
        headers={},
    )
    assert sent.message_id == "18e2f1c3a4b5c6d7" and not send.called
    assert search.calls.last.request.url.params["q"] == "rfc822msgid:" + message_id_for(
        "act-7", "sales@agency.example"
    ).strip("<>")


def test_status_is_replied_when_someone_else_wrote_in_the_thread(
    gmail: GmailClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{GMAIL}/messages/18e2f1c3a4b5c6d7").respond(200, json=load_fixture("gmail", "sent"))
    mock_http.get(f"{GMAIL}/threads/18e2f1c3a4b5c6d7").respond(200, json=load_fixture("gmail", "thread_replied"))
    assert gmail.get_message_status("18e2f1c3a4b5c6d7").status == "replied"


def test_the_access_token_is_refreshed_once_and_shared(
    gmail: GmailClient, mock_http: respx.MockRouter, google: respx.Route
) -> None:
    mock_http.get(f"{GMAIL}/profile").respond(200, json=load_fixture("gmail", "profile"))
    assert gmail.health_check().detail == "mailbox sales@agency.example"
    assert GmailClient().health_check().ok  # a second instance (another worker) reuses the cached token
    assert google.call_count == 1


def test_a_deployment_sharing_the_redis_has_its_own_token(
    gmail: GmailClient, mock_http: respx.MockRouter, google: respx.Route, settings: Any
) -> None:
    mock_http.get(f"{GMAIL}/profile").respond(200, json=load_fixture("gmail", "profile"))
    assert gmail.health_check().ok
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}:other-agency"
    assert GmailClient().health_check().ok
    assert google.call_count == 2  # the other namespace refreshed its own, it did not read ours
    clear = shared_redis()
    assert clear is not None
    for key in clear.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*"):
        clear.delete(key)


def test_a_rejected_refresh_token_is_an_auth_error(keys: Callable[..., None], mock_http: respx.MockRouter) -> None:
    keys(GOOGLE_CLIENT_ID="id", GOOGLE_CLIENT_SECRET="gocspx-test-secret", GOOGLE_REFRESH_TOKEN="1//revoked-secret")
    mock_http.post(GOOGLE_TOKEN_URL).respond(
        400, json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    )
    with pytest.raises(Exception) as caught:
        GmailClient().get_thread("t")
    assert "revoked" in str(caught.value)
    assert "1//revoked-secret" not in str(caught.value)


def test_missing_google_credentials_are_an_auth_error() -> None:
    with pytest.raises(AuthError):
        GmailClient().get_thread("t")


@pytest.fixture
def drive(google: respx.Route) -> GoogleDriveClient:
    chosen = get_role("documents")
    assert isinstance(chosen, GoogleDriveClient)
    return chosen


def test_drive_creates_a_doc_once_and_sends_it_by_sharing(
    drive: GoogleDriveClient, mock_http: respx.MockRouter
) -> None:
    listing = mock_http.get(f"{DRIVE}/files").mock(
        side_effect=[
            respx.MockResponse(200, json=load_fixture("google_drive", "files_empty")),
            respx.MockResponse(200, json={"files": [load_fixture("google_drive", "file")]}),
        ]
    )
    upload = mock_http.post("https://www.googleapis.com/upload/drive/v3/files").respond(
        200, json=load_fixture("google_drive", "file")
    )
    recipients = [Recipient(email="dana@acmedental.example", first_name="Dana", last_name="Lee")]
    doc = drive.create_document(
        idempotency_key="prop-1", name="Proposal for Acme Dental", recipients=recipients, content="<h1>Proposal</h1>"
    )
    again = drive.create_document(idempotency_key="prop-1", name="Proposal for Acme Dental", recipients=recipients)
    assert doc == again and doc.status == "draft" and upload.call_count == 1
    assert "appProperties has" in listing.calls[0].request.url.params["q"]
    assert b"<h1>Proposal</h1>" in upload.calls.last.request.content
    assert upload.calls.last.request.headers["Content-Type"].startswith("multipart/related; boundary=")
    mock_http.get(f"{DRIVE}/files/1AbCdEfGhIjKlMnOp").respond(200, json=load_fixture("google_drive", "file"))
    share = mock_http.post(f"{DRIVE}/files/1AbCdEfGhIjKlMnOp/permissions").respond(
        200, json=load_fixture("google_drive", "permission")
    )
    mock_http.patch(f"{DRIVE}/files/1AbCdEfGhIjKlMnOp").respond(200, json=load_fixture("google_drive", "file_sent"))
    sent = drive.send_document(document_id="1AbCdEfGhIjKlMnOp", message="Here is our proposal")
    assert sent.status == "sent"
    assert body(share) == {"type": "user", "role": "commenter", "emailAddress": "dana@acmedental.example"}
    assert share.calls.last.request.url.params["sendNotificationEmail"] == "true"


def test_sheets_append_and_read(google: respx.Route, mock_http: respx.MockRouter) -> None:
    sheets = GoogleSheetsClient()
    append = mock_http.post("https://sheets.googleapis.com/v4/spreadsheets/sheet123/values/Leads!A1:append").respond(
        200, json=load_fixture("google_sheets", "append")
    )
    assert sheets.append_rows(spreadsheet_id="sheet123", range="Leads!A1", rows=[["Acme", "d@a.example"]] * 2) == 2
    assert json.loads(append.calls.last.request.content) == {"values": [["Acme", "d@a.example"]] * 2}
    assert append.calls.last.request.url.params["valueInputOption"] == "USER_ENTERED"
    mock_http.get("https://sheets.googleapis.com/v4/spreadsheets/sheet123/values/Leads!A1:C3").respond(
        200, json=load_fixture("google_sheets", "values")
    )
    assert sheets.get_values(spreadsheet_id="sheet123", range="Leads!A1:C3")[1] == [
        "Acme Dental",
        "dana@acmedental.example",
    ]
