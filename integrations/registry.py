"""The provider registry: role -> provider name -> class, and the choice settings make.

Providers register with a decorator (a class may serve several roles)::

    @register_provider("email_finder", "findymail")
    @register_provider("email_verifier", "findymail")
    class FindymailClient(BaseClient): required_keys = ("FINDYMAIL_API_KEY",) ...

A provider class is constructed with no arguments and reads its keys from settings. Modules are
discovered like the admin discovers ``admin.py``: every module of ``integrations.providers``,
plus ``integrations.local`` and ``integrations.sandbox``, is imported on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T", bound=type)

SANDBOX = "sandbox"
LOCAL = "local"
# Roles whose no-key default lives in our own database rather than in the sandbox world.
LOCAL_DEFAULT_ROLES = frozenset({"vector_store", "memory"})

# Which real provider wins when several are configured for a role (ARCHITECTURE.md order).
PREFERENCE: dict[str, tuple[str, ...]] = {
    "lead_source": ("apify",),
    "email_finder": ("icypeas", "findymail"),
    "email_verifier": ("findymail",),
    "outreach": ("instantly", "gmail"),
    "calendar": ("calcom", "google_calendar"),
    "recorder": ("fathom",),
    "documents": ("pandadoc", "google_drive"),
    "payments": ("stripe",),
    "accounting": ("quickbooks",),
    "project_tool": ("clickup", "notion", "airtable", "gohighlevel", "google_tasks"),
    "web_research": ("perplexity", "firecrawl"),
    "vector_store": ("pinecone",),
    "memory": ("zep",),
    "voice": ("elevenlabs", "retell"),
}


@dataclass(frozen=True)
class Registration:
    role: str
    name: str
    cls: type
    keys: tuple[str, ...]


_registry: dict[str, dict[str, Registration]] = {}
_discovered = False
_lock = threading.Lock()


def register_provider(role: str, name: str, *, keys: Sequence[str] | None = None) -> Callable[[T], T]:
    """Register ``cls`` as provider ``name`` of ``role``; ``keys`` default to ``cls.required_keys``."""
    from integrations.roles import ROLE_NAMES

    if role not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLE_NAMES)}")

    def decorator(cls: T) -> T:
        needed = tuple(keys if keys is not None else getattr(cls, "required_keys", ()))
        existing = _registry.get(role, {}).get(name)
        if existing is not None and existing.cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"provider {name!r} of role {role!r} is already registered by {existing.cls!r}")
        _registry.setdefault(role, {})[name] = Registration(role=role, name=name, cls=cls, keys=needed)
        return cls

    return decorator


def autodiscover() -> None:
    global _discovered
    if _discovered:
        return
    with _lock:
        if _discovered:
            return
        import integrations.providers as providers_pkg

        for info in pkgutil.iter_modules(providers_pkg.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"integrations.providers.{info.name}")
        importlib.import_module("integrations.local")
        try:
            importlib.import_module("integrations.sandbox")
        except ModuleNotFoundError as exc:
            # Only the sandbox package itself being absent is tolerated; a broken import inside it is not.
            if exc.name != "integrations.sandbox":
                raise
        _discovered = True


def registrations(role: str) -> dict[str, Registration]:
    autodiscover()
    return dict(_registry.get(role, {}))


def is_configured(registration: Registration) -> bool:
    keys: dict[str, str] = settings.INTEGRATION_KEYS
    return bool(registration.keys) and all(keys.get(k) for k in registration.keys)


def _ordered_real(role: str) -> list[Registration]:
    found = registrations(role)
    real = {n: r for n, r in found.items() if n not in (SANDBOX, LOCAL)}
    order = [n for n in PREFERENCE.get(role, ()) if n in real] + sorted(n for n in real if n not in PREFERENCE[role])
    return [real[n] for n in order]


def choose_provider(role: str) -> str:
    """The provider name settings choose for ``role``.

    ``PROVIDER_OVERRIDES[role]`` when set (it must be registered); otherwise the first real
    provider, in PREFERENCE order, whose keys are all set; otherwise ``local`` for vector_store and
    memory, ``sandbox`` for the rest.
    """
    from integrations.roles import ROLE_NAMES

    if role not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}")
    override = settings.PROVIDER_OVERRIDES.get(role, "")
    if override:
        if override not in registrations(role):
            raise LookupError(f"PROVIDER_{role.upper()}={override!r} is not a registered provider of {role}")
        return override
    for registration in _ordered_real(role):
        if is_configured(registration):
            return registration.name
    return LOCAL if role in LOCAL_DEFAULT_ROLES else SANDBOX


def provider_class(role: str) -> Any:
    name = choose_provider(role)
    found = registrations(role)
    if name not in found:
        raise LookupError(f"no provider {name!r} registered for role {role!r}")
    return found[name].cls


def configured_providers() -> list[Registration]:
    """Every real provider whose keys are set, one entry per class (a class may serve several roles)."""
    seen: dict[type, Registration] = {}
    for role in PREFERENCE:
        for registration in _ordered_real(role):
            if is_configured(registration) and registration.cls not in seen:
                seen[registration.cls] = registration
    return list(seen.values())
