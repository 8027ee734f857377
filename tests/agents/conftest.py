from __future__ import annotations

from collections.abc import Iterator

import httpx
import httpx2
import pytest
import respx

from agents.brains import anthropic as anthropic_brain
from agents.brains import scripted
from tests.agents import sample_agents  # noqa: F401 - registers the t_* agents


def respx_transport(router: respx.Router) -> httpx2.MockTransport:
    """The SDK speaks httpx2; respx routes httpx. Translate at the transport, both ways."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        mirrored = httpx.Request(
            request.method, str(request.url), headers=list(request.headers.raw), content=request.read()
        )
        response = router.handler(mirrored)
        return httpx2.Response(response.status_code, headers=list(response.headers.raw), content=response.read())

    return httpx2.MockTransport(handle)


@pytest.fixture
def anthropic_api(settings) -> Iterator[respx.Router]:
    """The Anthropic API faked at the transport; routes not mocked fail the test."""
    settings.BRAIN_DEFAULT = "anthropic"
    settings.ANTHROPIC_MAX_RETRIES = 0
    settings.ANTHROPIC_MODEL = "claude-sonnet-4-6"
    router = respx.Router(base_url="https://api.anthropic.com", assert_all_called=False)
    anthropic_brain.install_transport(respx_transport(router))
    try:
        yield router
    finally:
        anthropic_brain.install_transport(None)


@pytest.fixture(autouse=True)
def _clean_scripted_brain() -> Iterator[None]:
    scripted.reset()
    yield
    scripted.reset()
