"""Perplexity against its official SDK, perplexityai (Apache-2.0), generated from Perplexity's OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import respx
from perplexity import Perplexity
from perplexity.types import StreamChunk
from perplexity.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

from integrations.providers.perplexity import ChatCompletion, PerplexityClient
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body
from tests.integrations.specs.contract import sdk_request, typed_dict_errors

pytestmark = pytest.mark.django_db
BASE = "https://api.perplexity.ai"
SDK = Perplexity(api_key="pplx-test-secret-0001", base_url=BASE, max_retries=0)


def test_chat_is_the_sdks_chat_completion(keys: Callable[..., None], mock_http: respx.MockRouter) -> None:
    keys(PERPLEXITY_API_KEY="pplx-test-secret-0001")
    route = mock_http.post(f"{BASE}/chat/completions").respond(200, json=load_fixture("perplexity", "chat_completion"))
    PerplexityClient().search(query="Who runs Acme Dental?")
    ours = route.calls.last.request
    sent = body(route)
    theirs = sdk_request(
        lambda: SDK.chat.completions.create(model=sent["model"], messages=sent["messages"], max_tokens=800),
        router=mock_http,
        base_url=BASE,
    )
    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path)
    assert ours.headers["Authorization"] == theirs.headers["Authorization"]
    assert typed_dict_errors(sent, CompletionCreateParamsNonStreaming) == []


def test_fixture_is_the_sdks_response_model() -> None:
    StreamChunk.model_validate(load_fixture("perplexity", "chat_completion"))


def test_what_the_sdk_allows_to_be_null_our_model_accepts_as_null() -> None:
    fixture = load_fixture("perplexity", "chat_completion")
    fixture.update(citations=None, search_results=None, usage=None)
    fixture["choices"][0]["message"]["content"] = None
    StreamChunk.model_validate(fixture)  # the vendor's model allows it ...
    assert ChatCompletion.model_validate(fixture).answer == ""  # ... and so does ours
