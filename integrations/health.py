"""Health of the configured providers, for the health_check agent and the console.

Each provider's ``health_check()`` makes its vendor's cheapest authenticated call, once, without
retries; a failure is a result (ok=False with the reason), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.registry import choose_provider, configured_providers, registrations
from integrations.roles import ROLE_NAMES
from integrations.values import HealthResult


@dataclass(frozen=True)
class ProviderHealth:
    provider: str
    roles: tuple[str, ...]
    result: HealthResult


def _roles_of(cls: type) -> tuple[str, ...]:
    return tuple(role for role in ROLE_NAMES for r in registrations(role).values() if r.cls is cls)


def check_configured_providers() -> list[ProviderHealth]:
    """One health check per configured real provider (a class serving two roles is checked once)."""
    return [
        ProviderHealth(provider=reg.name, roles=_roles_of(reg.cls), result=reg.cls().health_check())
        for reg in configured_providers()
    ]


def check_roles() -> dict[str, ProviderHealth]:
    """The provider settings choose for every role (sandbox and local included), and its health."""
    results: dict[str, ProviderHealth] = {}
    checked: dict[type, HealthResult] = {}
    for role in ROLE_NAMES:
        name = choose_provider(role)
        cls = registrations(role)[name].cls
        if cls not in checked:
            checked[cls] = cls().health_check()
        results[role] = ProviderHealth(provider=name, roles=(role,), result=checked[cls])
    return results
