"""Fathom against its official SDK, fathom-python (generated from Fathom's OpenAPI by Speakeasy).

The SDK sends through httpx, so respx catches the call it builds for the same operation, and its
pydantic response models are the schemas our fixtures must fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import respx
from fathom_python import Fathom, models

from integrations.providers.fathom import FathomClient
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import sdk_request

pytestmark = pytest.mark.django_db
BASE = "https://api.fathom.ai/external/v1"
KEY = "fathom-test-secret-0001"
SDK = Fathom(security=models.Security(api_key_auth=KEY), server_url=BASE)


@pytest.fixture
def client(keys: Callable[..., None]) -> FathomClient:
    keys(FATHOM_API_KEY=KEY)
    return FathomClient()


def test_list_meetings_is_the_sdks(client: FathomClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.get(f"{BASE}/meetings").respond(200, json=load_fixture("fathom", "meetings_page_2"))
    since = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    client.list_recordings(since=since)
    ours = route.calls.last.request
    theirs = sdk_request(
        lambda: SDK.list_meetings(created_after="2026-03-01T00:00:00Z"), router=mock_http, base_url=BASE
    )
    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path)
    # The SDK also sends its defaults; every parameter we send is one of its, with the same value.
    assert {k: v for k, v in theirs.url.params.items() if k in ours.url.params} == dict(ours.url.params)
    assert ours.headers["X-Api-Key"] == theirs.headers["X-Api-Key"]


def test_get_transcript_is_the_sdks(client: FathomClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.get(f"{BASE}/recordings/111/transcript").respond(200, json=load_fixture("fathom", "transcript"))
    client.get_transcript("111")
    theirs = sdk_request(lambda: SDK.get_recording_transcript(recording_id=111), router=mock_http, base_url=BASE)
    ours = route.calls.last.request
    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path)


@pytest.mark.parametrize("page", ["meetings_page_1", "meetings_page_2"])
def test_meetings_fixture_is_the_sdks_model(page: str) -> None:
    models.MeetingListResponse.model_validate(load_fixture("fathom", page))


def test_transcript_fixture_is_the_sdks_model() -> None:
    models.GetRecordingTranscriptResponseBody.model_validate(load_fixture("fathom", "transcript"))
