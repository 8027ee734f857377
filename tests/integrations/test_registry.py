"""How settings choose the provider of a role, and that every provider really implements its role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations import registry
from integrations.providers.findymail import FindymailClient
from integrations.providers.gmail import GmailClient
from integrations.providers.instantly import InstantlyClient
from integrations.roles import ROLE_NAMES, ROLE_PROTOCOLS, get_role


def test_without_keys_every_role_is_the_sandbox_except_vector_store_and_memory() -> None:
    chosen = {role: registry.choose_provider(role) for role in ROLE_NAMES}
    assert chosen.pop("vector_store") == "local"
    assert chosen.pop("memory") == "local"
    assert set(chosen.values()) == {"sandbox"}


def test_the_first_configured_provider_in_preference_order_wins(keys: Callable[..., None]) -> None:
    keys(GOOGLE_CLIENT_ID="id", GOOGLE_CLIENT_SECRET="gocspx-test-secret", GOOGLE_REFRESH_TOKEN="1//refresh-secret")
    assert isinstance(get_role("outreach"), GmailClient)
    keys(INSTANTLY_API_KEY="inst-test-secret-0001")
    assert isinstance(get_role("outreach"), InstantlyClient)


def test_a_provider_needs_all_its_keys(keys: Callable[..., None]) -> None:
    keys(GOOGLE_CLIENT_ID="id", GOOGLE_CLIENT_SECRET="gocspx-test-secret")  # no refresh token
    assert registry.choose_provider("outreach") == "sandbox"


def test_an_override_wins_even_over_configured_providers(keys: Callable[..., None], settings: Any) -> None:
    keys(INSTANTLY_API_KEY="inst-test-secret-0001")
    settings.PROVIDER_OVERRIDES = {**settings.PROVIDER_OVERRIDES, "outreach": "sandbox"}
    assert registry.choose_provider("outreach") == "sandbox"
    settings.PROVIDER_OVERRIDES = {**settings.PROVIDER_OVERRIDES, "email_finder": "findymail"}
    assert isinstance(get_role("email_finder"), FindymailClient)  # chosen even without its key


def test_an_override_naming_an_unknown_provider_fails_loudly(settings: Any) -> None:
    settings.PROVIDER_OVERRIDES = {**settings.PROVIDER_OVERRIDES, "payments": "paypal"}
    with pytest.raises(LookupError, match="PROVIDER_PAYMENTS='paypal'"):
        get_role("payments")


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        get_role("telepathy")
    with pytest.raises(ValueError, match="unknown role"):
        registry.register_provider("telepathy", "x")


def test_a_name_cannot_be_registered_twice_by_different_classes() -> None:
    class Impostor:
        pass

    with pytest.raises(ValueError, match="already registered"):
        registry.register_provider("payments", "stripe")(Impostor)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_registered_provider_implements_its_role(role: str) -> None:
    for registration in registry.registrations(role).values():
        instance = registration.cls()
        assert isinstance(instance, ROLE_PROTOCOLS[role]), f"{registration.name} does not implement {role}"
        assert instance.name == registration.name or registration.name == "sandbox"


def test_every_real_provider_declares_its_keys() -> None:
    for role in ROLE_NAMES:
        for registration in registry.registrations(role).values():
            if registration.name not in (registry.SANDBOX, registry.LOCAL):
                assert registration.keys, f"{registration.name} has no required keys"


def _role_methods(protocol: type) -> list[str]:
    return [n for n in vars(protocol) if not n.startswith("_") and callable(vars(protocol)[n])]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_provider_accepts_the_role_signature(role: str) -> None:
    """isinstance() on a Protocol checks names only; callers rely on the keyword arguments too."""
    import inspect

    protocol = ROLE_PROTOCOLS[role]
    for registration in registry.registrations(role).values():
        for method in _role_methods(protocol):
            expected = inspect.signature(getattr(protocol, method)).parameters
            actual = inspect.signature(getattr(registration.cls, method)).parameters
            for name, param in expected.items():
                assert name in actual, f"{registration.name}.{method} lacks {name!r}"
                assert actual[name].kind == param.kind, f"{registration.name}.{method}({name}) kind differs"
            extra_required = [
                n
                for n, p in actual.items()
                if n not in expected
                and p.default is inspect.Parameter.empty
                and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
            ]
            assert not extra_required, f"{registration.name}.{method} requires {extra_required}"
