from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import respx

from integrations.http import NotFoundError
from integrations.providers.fathom import FathomClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture

pytestmark = pytest.mark.django_db
BASE = "https://api.fathom.ai/external/v1"


@pytest.fixture
def client(keys: Callable[..., None], mock_http: respx.MockRouter) -> FathomClient:
    keys(FATHOM_API_KEY="fathom-test-secret-0001")
    mock_http.get(f"{BASE}/meetings", params={"cursor": "eyJwYWdlIjoyfQ"}).respond(
        200, json=load_fixture("fathom", "meetings_page_2")
    )
    mock_http.get(f"{BASE}/meetings").respond(200, json=load_fixture("fathom", "meetings_page_1"))
    chosen = get_role("recorder")
    assert isinstance(chosen, FathomClient)
    return chosen


def test_list_recordings_follows_the_cursor(client: FathomClient, mock_http: respx.MockRouter) -> None:
    recordings = client.list_recordings(since=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert [(r.recording_id, r.title, r.duration_seconds) for r in recordings] == [
        ("111", "Acme Dental x Smarter Team", 1800),
        ("222", "QBR", 2700),
    ]
    first = mock_http.routes[1].calls[0].request
    assert first.url.params["created_after"] == "2026-03-01T00:00:00Z"
    assert first.headers["X-Api-Key"] == "fathom-test-secret-0001"


def test_get_recording_scans_recent_meetings(client: FathomClient) -> None:
    assert client.get_recording("222").share_url == "https://fathom.video/share/def"
    with pytest.raises(NotFoundError):
        client.get_recording("999")


def test_transcript_segments_with_speakers_and_offsets(client: FathomClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/recordings/111/transcript").respond(200, json=load_fixture("fathom", "transcript"))
    transcript = client.get_transcript("111")
    assert [(s.speaker, s.start_seconds) for s in transcript.segments] == [
        ("Alex (Smarter Team)", 5.0),
        ("Dana Lee", 62.0),
    ]
    assert transcript.text.splitlines()[1] == "Dana Lee: Happy to. We lose leads after hours."
