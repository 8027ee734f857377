"""PandaDoc against its official SDK, pandadoc-python-client (MIT), generated from PandaDoc's OpenAPI.

The SDK sends through urllib3, so it cannot be faked with respx to build the same call; its endpoint
table (method, path, query and body parameters) and its models are the specification instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx
from pandadoc_client import ApiClient, Configuration
from pandadoc_client.api.documents_api import DocumentsApi
from pandadoc_client.api.members_api import MembersApi
from pandadoc_client.model.document_create_by_template_request_tokens import DocumentCreateByTemplateRequestTokens
from pandadoc_client.model.document_create_request import DocumentCreateRequest
from pandadoc_client.model.document_create_request_recipients import DocumentCreateRequestRecipients
from pandadoc_client.model.document_send_request import DocumentSendRequest

from integrations.providers.pandadoc import PandaDocClient
from integrations.values import Recipient
from tests.integrations.conftest import load_fixture

pytestmark = pytest.mark.django_db
HOST = "https://api.pandadoc.com"
BASE = f"{HOST}/public/v1"
DOC = "msFYActMfJHqNTKH8YSvF1"
SDK = ApiClient(Configuration())
DOCUMENTS = DocumentsApi(SDK)
ENDPOINTS = [
    DOCUMENTS.list_documents_endpoint,
    DOCUMENTS.create_document_endpoint,
    DOCUMENTS.status_document_endpoint,
    DOCUMENTS.details_document_endpoint,
    DOCUMENTS.send_document_endpoint,
    MembersApi(SDK).details_current_member_endpoint,
]
BODY_MODELS = {"create_document": DocumentCreateRequest, "send_document": DocumentSendRequest}
NESTED = {"recipients": DocumentCreateRequestRecipients, "tokens": DocumentCreateByTemplateRequestTokens}


def _endpoint(method: str, path: str) -> Any:
    # PandaDoc serves members/current with and without the trailing slash; the SDK has none.
    path = path.rstrip("/")
    for endpoint in ENDPOINTS:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(endpoint.settings["endpoint_path"])) + "$"
        if endpoint.settings["http_method"] == method and re.match(pattern, path):
            return endpoint
    raise AssertionError(f"{method} {path}: no such endpoint in pandadoc-python-client")


def _unknown_keys(body: dict[str, Any], model: Any, where: str) -> list[str]:
    errors = [f"{where}.{key} is not a field of {model.__name__}" for key in body if key not in model.attribute_map]
    for key, item_model in NESTED.items():
        for index, item in enumerate(body.get(key, []) if model is DocumentCreateRequest else []):
            errors += _unknown_keys(item, item_model, f"{where}.{key}[{index}]")
    return errors


def request_errors(request: httpx.Request) -> list[str]:
    endpoint = _endpoint(request.method, request.url.path)
    location = endpoint.location_map
    errors = [
        f"query parameter {name!r} is not one the endpoint takes"
        for name in request.url.params
        if location.get(name) != "query"
    ]
    name = endpoint.settings["operation_id"]
    if name in BODY_MODELS:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            part = re.search(rb'name="data"[^\r]*\r\n(?:[^\r]+\r\n)*\r\n(.*?)\r\n--', request.content, re.S)
            assert part, "a multipart create carries its JSON in the data part"
            body = json.loads(part.group(1))
        else:
            body = json.loads(request.content)
        errors += _unknown_keys(body, BODY_MODELS[name], "body")
    return errors


def sdk_parses(fixture: dict[str, Any], endpoint: Any) -> Any:
    """The SDK's own deserialiser, type checks on: it raises where the fixture is not its model."""
    answer = SimpleNamespace(data=json.dumps(fixture), getheader=lambda name, default=None: "application/json")
    return SDK.deserialize(answer, endpoint.settings["response_type"], True)


@pytest.fixture
def client(keys: Callable[..., None]) -> PandaDocClient:
    keys(PANDADOC_API_KEY="pd-test-secret-0001")
    return PandaDocClient()


def test_every_request_the_client_makes_is_an_endpoint_of_the_sdk(
    client: PandaDocClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{BASE}/documents").mock(
        side_effect=[
            httpx.Response(200, json=load_fixture("pandadoc", "documents_empty")),
            httpx.Response(200, json=load_fixture("pandadoc", "documents_empty")),
            httpx.Response(200, json=load_fixture("pandadoc", "documents_found")),
        ]
    )
    mock_http.get(f"{BASE}/documents/{DOC}/details").respond(200, json=load_fixture("pandadoc", "details"))
    mock_http.post(f"{BASE}/documents").respond(201, json=load_fixture("pandadoc", "created"))
    mock_http.get(f"{BASE}/documents/{DOC}").respond(200, json=load_fixture("pandadoc", "draft"))
    mock_http.post(f"{BASE}/documents/{DOC}/send").respond(200, json=load_fixture("pandadoc", "sent"))
    mock_http.get(f"{BASE}/members/current/").respond(200, json=load_fixture("pandadoc", "member"))
    dana = Recipient(email="dana@acmedental.example", first_name="Dana", last_name="Lee")

    client.create_document(
        idempotency_key="prop-1", name="Proposal", recipients=[dana], template_id="tmpl-1", fields={"Price": "$1"}
    )
    client.create_document(idempotency_key="prop-2", name="SOW", recipients=[dana], content="<h1>SOW</h1>")
    client.create_document(idempotency_key="prop-1", name="Proposal", recipients=[dana], template_id="tmpl-1")
    client.send_document(document_id=DOC, subject="Proposal", message="Here it is")
    client.get_status(DOC)
    client.health_check()

    requests = [call.request for call in mock_http.calls]
    assert {(r.method, r.url.path) for r in requests} >= {
        ("GET", "/public/v1/documents"),
        ("GET", f"/public/v1/documents/{DOC}/details"),
        ("POST", "/public/v1/documents"),
        ("POST", f"/public/v1/documents/{DOC}/send"),
    }
    assert [f"{r.method} {r.url.path}: {e}" for r in requests for e in request_errors(r)] == []


def test_the_duplicate_search_uses_the_documented_metadata_filter(
    client: PandaDocClient, mock_http: respx.MockRouter
) -> None:
    route = mock_http.get(f"{BASE}/documents").respond(200, json=load_fixture("pandadoc", "documents_empty"))
    client.find_by_key("prop-1")
    # "metadata_{key}={value}", the metadata_ prefix always required (list_documents' own doc string)
    assert route.calls.last.request.url.params.get_list("metadata") == ["metadata_st_key=prop-1"]


def test_the_checker_catches_the_filter_pandadoc_would_ignore() -> None:
    request = httpx.Request("GET", f"{BASE}/documents", params={"metadata_st_key": "prop-1", "count": 1})
    assert request_errors(request) == ["query parameter 'metadata_st_key' is not one the endpoint takes"]


@pytest.mark.parametrize(
    ("fixture", "endpoint"),
    [
        ("created", DOCUMENTS.create_document_endpoint),
        ("draft", DOCUMENTS.status_document_endpoint),
        ("sent", DOCUMENTS.send_document_endpoint),
        ("details", DOCUMENTS.details_document_endpoint),
        ("documents_empty", DOCUMENTS.list_documents_endpoint),
        ("documents_found", DOCUMENTS.list_documents_endpoint),
        ("member", MembersApi(SDK).details_current_member_endpoint),
    ],
)
def test_fixture_parses_as_the_sdk_model(fixture: str, endpoint: Any) -> None:
    sdk_parses(load_fixture("pandadoc", fixture), endpoint)


def test_every_status_the_sdk_knows_is_mapped() -> None:
    from pandadoc_client.model.document_status_enum import DocumentStatusEnum

    from integrations.providers.pandadoc import _STATUS

    assert set(_STATUS) == set(DocumentStatusEnum.allowed_values[("value",)].values())


def test_the_sdk_model_rejects_a_fixture_of_the_wrong_shape() -> None:
    with pytest.raises(Exception, match="Invalid type"):
        sdk_parses({"id": 5, "name": "x", "status": "document.draft"}, DOCUMENTS.status_document_endpoint)
