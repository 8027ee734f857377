"""No provider key reaches a log line, an exception, an ApiUsage row, an ErrorLog or a health result."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
import respx

from integrations.health import check_configured_providers
from integrations.models import ApiUsage
from learning.models import ErrorLog

pytestmark = pytest.mark.django_db

SECRETS = {
    "PERPLEXITY_API_KEY": "pplx-Secret-AAAA1111",
    "APIFY_API_TOKEN": "apify_api_Secret-BBBB2222",
    "ELEVENLABS_API_KEY": "xi-Secret-CCCC3333",
    "FATHOM_API_KEY": "fathom-Secret-DDDD4444",
    "PINECONE_API_KEY": "pcsk_Secret-EEEE5555",
    "PINECONE_INDEX": "smarter-team",
}


def test_failing_calls_leak_no_key(
    keys: Callable[..., None], mock_http: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    keys(**SECRETS)
    caplog.set_level(logging.DEBUG)

    def echo_the_key(request: httpx.Request) -> httpx.Response:
        # The worst vendor: it repeats the credentials it was sent in its error message.
        sent = " ".join(f"{k}={v}" for k, v in request.headers.items())
        return httpx.Response(401, json={"message": f"bad credentials: {sent} {request.url}"})

    mock_http.route().mock(side_effect=echo_the_key)
    results = check_configured_providers()
    assert {h.provider for h in results} == {"perplexity", "apify", "elevenlabs", "fathom", "pinecone"}
    assert not any(h.result.ok for h in results)
    haystacks = [h.result.detail for h in results]
    haystacks += [record.getMessage() for record in caplog.records]
    haystacks += [repr(row) for row in ApiUsage.objects.values()]
    haystacks += [repr(row) for row in ErrorLog.objects.values()]
    assert ApiUsage.objects.count() == 5 and ErrorLog.objects.count() == 5
    for secret in (v for k, v in SECRETS.items() if k != "PINECONE_INDEX"):
        assert not [h for h in haystacks if secret in h], f"{secret[:8]}... leaked"
