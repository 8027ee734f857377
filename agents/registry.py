"""The agent registry: one name, one class, found the way the admin finds ``admin.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.utils.module_loading import autodiscover_modules

from agents.errors import UnknownAgent

if TYPE_CHECKING:
    from agents.base import AgentBase

A = TypeVar("A", bound="type[AgentBase]")

_agents: dict[str, type[AgentBase]] = {}
# Bumped on every change, so what is derived from the registry can be cached until it changes.
_generation = 0


def register(cls: A) -> A:
    """Class decorator: make the agent startable by its ``name``. Names are unique project-wide."""
    from agents.base import AgentBase

    if not (isinstance(cls, type) and issubclass(cls, AgentBase)):
        raise TypeError(f"{cls!r} is not an Agent or LLMAgent subclass")
    cls.check_declaration()
    existing = _agents.get(cls.name)
    # Re-importing the same module (autoreload, a test importing it twice) is not a clash.
    if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"agent name {cls.name!r} is taken by {existing.__module__}.{existing.__qualname__}")
    global _generation
    _agents[cls.name] = cls
    _generation += 1
    return cls


def unregister(name: str) -> None:
    """Remove an agent (tests that register throwaway agents clean up with this)."""
    global _generation
    _agents.pop(name, None)
    _generation += 1


def get(name: str) -> type[AgentBase]:
    try:
        return _agents[name]
    except KeyError:
        raise UnknownAgent(f"no agent registered as {name!r}") from None


def is_registered(name: str) -> bool:
    return name in _agents


def generation() -> int:
    """Changes whenever an agent is registered or removed."""
    return _generation


def all_agents() -> list[type[AgentBase]]:
    return [_agents[name] for name in sorted(_agents)]


def autodiscover() -> None:
    """Import every installed app's ``agents`` module or package, registering its classes."""
    autodiscover_modules("agents")
