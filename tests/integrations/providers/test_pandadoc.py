from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import respx

from integrations.http import PermanentError, TransientError
from integrations.providers.pandadoc import PandaDocClient
from integrations.roles import get_role
from integrations.values import Recipient
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
BASE = "https://api.pandadoc.com/public/v1"
DOC = "msFYActMfJHqNTKH8YSvF1"


@pytest.fixture
def client(keys: Callable[..., None]) -> PandaDocClient:
    keys(PANDADOC_API_KEY="pd-test-secret-0001", GOOGLE_CLIENT_ID="also-set-but-pandadoc-wins")
    chosen = get_role("documents")
    assert isinstance(chosen, PandaDocClient)
    return chosen


def test_create_from_template_with_tokens_and_key_metadata(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    search = mock_http.get(f"{BASE}/documents").respond(200, json=load_fixture("pandadoc", "documents_empty"))
    created = mock_http.post(f"{BASE}/documents").respond(201, json=load_fixture("pandadoc", "created"))
    doc = client.create_document(
        idempotency_key="prop-1",
        name="Proposal for Acme Dental",
        template_id="tmpl-1",
        recipients=[Recipient(email="dana@acmedental.example", first_name="Dana", last_name="Lee")],
        fields={"Client.Company": "Acme Dental", "Price": "$2,500"},
    )
    assert (doc.document_id, doc.status) == (DOC, "draft")
    assert search.calls.last.request.url.params["metadata"] == "metadata_st_key=prop-1"
    sent = body(created)
    assert sent["template_uuid"] == "tmpl-1" and sent["metadata"] == {"st_key": "prop-1"}
    assert {"name": "Price", "value": "$2,500"} in sent["tokens"]
    assert created.calls.last.request.headers["Authorization"] == "API-Key pd-test-secret-0001"


def test_a_retried_create_returns_the_first_document(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/documents").respond(200, json=load_fixture("pandadoc", "documents_found"))
    mock_http.get(f"{BASE}/documents/{DOC}/details").respond(200, json=load_fixture("pandadoc", "details"))
    created = mock_http.post(f"{BASE}/documents")
    doc = client.create_document(idempotency_key="prop-1", name="x", recipients=[])
    assert doc.document_id == DOC and not created.called


def test_a_listed_document_without_our_key_is_never_reused(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    # Given a list that came back unfiltered: its first document is another client's proposal
    mock_http.get(f"{BASE}/documents").respond(200, json=load_fixture("pandadoc", "documents_found"))
    other = {**load_fixture("pandadoc", "details"), "metadata": {"st_key": "prop-someone-else"}}
    mock_http.get(f"{BASE}/documents/{DOC}/details").respond(200, json=other)
    created = mock_http.post(f"{BASE}/documents").respond(201, json=load_fixture("pandadoc", "created"))
    # When our create is made
    client.create_document(idempotency_key="prop-1", name="x", recipients=[], template_id="tmpl-1")
    # Then a document of our own is created, not the listed one returned
    assert created.call_count == 1 and body(created)["metadata"] == {"st_key": "prop-1"}


def test_a_failed_document_is_reported_and_not_sent(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    failed = {**load_fixture("pandadoc", "draft"), "status": "document.error"}
    mock_http.get(f"{BASE}/documents/{DOC}").respond(200, json=failed)
    send = mock_http.post(f"{BASE}/documents/{DOC}/send")
    assert client.get_status(DOC).status == "failed"
    with pytest.raises(PermanentError, match="creation failed"):
        client.send_document(document_id=DOC)
    assert not send.called


def test_create_from_content_uploads_a_file(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/documents").respond(200, json=load_fixture("pandadoc", "documents_empty"))
    created = mock_http.post(f"{BASE}/documents").respond(201, json=load_fixture("pandadoc", "created"))
    client.create_document(idempotency_key="prop-2", name="SOW", recipients=[], content="<h1>SOW</h1>")
    request = created.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b"<h1>SOW</h1>" in request.content


def test_send_waits_for_processing_then_sends_once(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    status = mock_http.get(f"{BASE}/documents/{DOC}").mock(
        side_effect=[
            respx.MockResponse(200, json=load_fixture("pandadoc", "created")),
            respx.MockResponse(200, json=load_fixture("pandadoc", "draft")),
            respx.MockResponse(200, json=load_fixture("pandadoc", "sent")),
        ]
    )
    send = mock_http.post(f"{BASE}/documents/{DOC}/send").respond(200, json=load_fixture("pandadoc", "sent"))
    with pytest.raises(TransientError, match="still being processed"):
        client.send_document(document_id=DOC, subject="Proposal", message="Here it is")
    assert client.send_document(document_id=DOC, subject="Proposal", message="Here it is").status == "sent"
    assert client.send_document(document_id=DOC).status == "sent"  # a retried send: already sent
    assert send.call_count == 1 and status.call_count == 3
    assert json.loads(send.calls.last.request.content)["silent"] is False


def test_health(client: PandaDocClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/members/current/").respond(200, json=load_fixture("pandadoc", "member"))
    assert client.health_check().detail == "member agency@agency.example"
