"""System checks of the brains' settings: `manage.py check` (and every deploy) says what will break."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


def _deprecations() -> dict[str, str]:
    # The SDK ships Anthropic's deprecation list (model -> end-of-life date). A private module, so a
    # release that moves it only silences this check; it never breaks start-up.
    try:
        from anthropic._data import DEPRECATED_MODELS
    except ImportError:
        return {}
    return dict(DEPRECATED_MODELS)


def models_in_use() -> dict[str, list[str]]:
    """Each model id the LLM agents will call, with who calls it (the default, or agents by name)."""
    from agents import registry
    from agents.base import LLMAgent

    used: dict[str, list[str]] = {settings.ANTHROPIC_MODEL: ["ANTHROPIC_MODEL"]}
    for cls in sorted(registry.all_agents(), key=lambda agent: agent.name):
        if issubclass(cls, LLMAgent) and cls.model:
            used.setdefault(cls.model, []).append(cls.name)
    return used


@checks.register(checks.Tags.compatibility)
def check_models_not_deprecated(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    deprecated = _deprecations()
    return [
        checks.Warning(
            f"The model {model} is deprecated and reaches end-of-life on {deprecated[model]}; "
            f"after that date every call to it fails.",
            hint=f"Used by {', '.join(users)}. Set ANTHROPIC_MODEL (or the agent's model) to a current model.",
            id="agents.W001",
        )
        for model, users in models_in_use().items()
        if model in deprecated
    ]
