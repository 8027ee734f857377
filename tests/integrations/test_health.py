from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from integrations.health import check_configured_providers, check_roles
from tests.integrations.conftest import load_fixture

pytestmark = pytest.mark.django_db


def test_each_configured_provider_is_checked_once_and_failures_are_results(
    keys: Callable[..., None], mock_http: respx.MockRouter
) -> None:
    keys(FINDYMAIL_API_KEY="fm-test-secret-0001", APIFY_API_TOKEN="apify_api_test_secret_0001")
    credits = mock_http.get("https://app.findymail.com/api/credits").respond(
        200, json=load_fixture("findymail", "credits")
    )
    mock_http.get("https://api.apify.com/v2/users/me").respond(503)
    results = {h.provider: h for h in check_configured_providers()}
    assert set(results) == {"findymail", "apify"}
    assert results["findymail"].roles == ("email_finder", "email_verifier")
    assert results["findymail"].result.ok and credits.call_count == 1
    apify = results["apify"].result
    assert not apify.ok and "503" in apify.detail
    assert mock_http.routes[1].call_count == 1  # a health check is not retried


def test_without_keys_nothing_real_is_checked() -> None:
    assert check_configured_providers() == []


def test_check_roles_covers_every_role_with_its_default() -> None:
    results = check_roles()
    assert results["vector_store"].provider == "local" and results["vector_store"].result.ok
    assert results["outreach"].provider == "sandbox"
