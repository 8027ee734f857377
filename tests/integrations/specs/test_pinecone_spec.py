"""Pinecone against its published OpenAPI documents for API version 2025-04 and its official SDK.

- pinecone-io/pinecone-api ``2025-04/db_control_2025-04.oas.yaml`` and ``db_data_2025-04.oas.yaml``
  (Apache-2.0, trimmed here as pinecone-control.json / pinecone-data.json; see README.md): the
  version our client sends in X-Pinecone-API-Version, so requests and fixtures are checked there.
- pinecone 10.2.0 (Apache-2.0, already a runtime dependency) sends through httpx, so respx catches
  the call it builds for the same operation. It speaks API version 2026-07, whose index
  description moved dimension/metric/vector_type into ``schema``, so its models are not the spec
  for our 2025-04 answers; its requests (path, Api-Key header, body fields) are the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from pinecone import Pinecone

from integrations.providers import pinecone_store
from integrations.providers.pinecone_store import PineconeClient
from integrations.values import VectorRecord
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import OpenApi, recorded_requests, sdk_request

pytestmark = pytest.mark.django_db
CONTROL = "https://api.pinecone.io"
HOST = "smarter-team-abc123.svc.aped-4627-b74a.pinecone.io"
DATA = f"https://{HOST}"
KEY = "pcsk_test_secret_0001"
SDK = Pinecone(api_key=KEY)
CONTROL_SPEC = OpenApi.load("pinecone-control.json", base_url=CONTROL)
DATA_SPEC = OpenApi.load("pinecone-data.json", base_url=DATA)


@pytest.fixture
def client(keys: Callable[..., None], mock_http: respx.MockRouter) -> Iterator[PineconeClient]:
    keys(PINECONE_API_KEY=KEY, PINECONE_INDEX="smarter-team")
    pinecone_store._hosts.clear()
    mock_http.get(f"{CONTROL}/indexes/smarter-team").respond(200, json=load_fixture("pinecone", "describe_index"))
    yield PineconeClient()
    pinecone_store._hosts.clear()


def _json(request: Any) -> dict[str, Any]:
    return dict(json.loads(request.content))


def _same_call(ours: Any, theirs: Any) -> None:
    assert (ours.method, str(ours.url)) == (theirs.method, str(theirs.url))
    assert ours.headers["Api-Key"] == theirs.headers["Api-Key"] == KEY
    if theirs.content:
        sent, expected = _json(ours), _json(theirs)
        assert set(sent) <= set(expected), f"fields the SDK does not send: {set(sent) - set(expected)}"
        assert {k: sent[k] for k in sent} == {k: expected[k] for k in sent}


def test_describe_index_is_the_sdks(client: PineconeClient, mock_http: respx.MockRouter) -> None:
    client.describe_index()
    ours = mock_http.calls.last.request
    _same_call(ours, sdk_request(lambda: SDK.describe_index("smarter-team"), router=mock_http, base_url=CONTROL))


def test_upsert_is_the_sdks(client: PineconeClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{DATA}/vectors/upsert").respond(200, json=load_fixture("pinecone", "upsert"))
    client.upsert(namespace="learnings", records=[VectorRecord(id="r1", text="t", values=[0.6, 0.8], metadata={})])
    sent = _json(route.calls.last.request)
    theirs = sdk_request(
        lambda: SDK.Index(host=HOST).upsert(vectors=sent["vectors"], namespace="learnings"),
        router=mock_http,
        base_url=DATA,
    )
    _same_call(route.calls.last.request, theirs)


def test_query_is_the_sdks(client: PineconeClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{DATA}/query").respond(200, json=load_fixture("pinecone", "query"))
    client.query(namespace="learnings", vector=[0.6, 0.8], top_k=3, filter={"agent": "reply_handler"})
    sent = _json(route.calls.last.request)
    theirs = sdk_request(
        lambda: SDK.Index(host=HOST).query(
            vector=sent["vector"], top_k=3, namespace="learnings", include_metadata=True, filter=sent["filter"]
        ),
        router=mock_http,
        base_url=DATA,
    )
    _same_call(route.calls.last.request, theirs)


def test_delete_is_the_sdks(client: PineconeClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{DATA}/vectors/delete").respond(200, json={})
    client.delete(namespace="learnings", ids=["rule-1"])
    theirs = sdk_request(
        lambda: SDK.Index(host=HOST).delete(ids=["rule-1"], namespace="learnings"), router=mock_http, base_url=DATA
    )
    _same_call(route.calls.last.request, theirs)


def test_every_request_the_client_makes_is_an_operation_of_the_2025_04_spec(
    client: PineconeClient, mock_http: respx.MockRouter
) -> None:
    mock_http.post(f"{DATA}/vectors/upsert").respond(200, json=load_fixture("pinecone", "upsert"))
    mock_http.post(f"{DATA}/query").respond(200, json=load_fixture("pinecone", "query"))
    mock_http.post(f"{DATA}/vectors/delete").respond(200, json={})
    client.upsert(namespace="learnings", records=[VectorRecord(id="r1", text="never pitch first", metadata={"a": 1})])
    client.query(namespace="learnings", text="pitch", filter={"agent": "reply_handler"})
    client.delete(namespace="learnings", ids=["r1"])
    client.health_check()

    requests = recorded_requests(mock_http)
    assert len(requests) == 5  # describe_index once for the host, then once more as the health check
    spec = {CONTROL: CONTROL_SPEC, DATA: DATA_SPEC}
    errors = [
        f"{r.method} {r.url.path}: {e}" for r in requests for e in spec[f"https://{r.url.host}"].request_errors(r)
    ]
    assert errors == []
    assert {(r.headers["Api-Key"], r.headers["X-Pinecone-API-Version"]) for r in requests} == {(KEY, "2025-04")}


@pytest.mark.parametrize(
    ("spec", "method", "url", "fixture"),
    [
        (CONTROL_SPEC, "GET", f"{CONTROL}/indexes/smarter-team", "describe_index"),
        (DATA_SPEC, "POST", f"{DATA}/vectors/upsert", "upsert"),
        (DATA_SPEC, "POST", f"{DATA}/query", "query"),
    ],
)
def test_fixture_is_an_answer_the_spec_allows(spec: OpenApi, method: str, url: str, fixture: str) -> None:
    assert spec.response_errors(method, url, 200, load_fixture("pinecone", fixture)) == []


def test_an_index_description_without_vector_type_is_not_what_pinecone_sends() -> None:
    described = {k: v for k, v in load_fixture("pinecone", "describe_index").items() if k != "vector_type"}
    errors = CONTROL_SPEC.response_errors("GET", f"{CONTROL}/indexes/smarter-team", 200, described)
    assert errors == ["<root>: 'vector_type' is a required property"]
