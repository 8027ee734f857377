"""System checks of the brains' settings: `manage.py check` (and every deploy) says what will break."""

from __future__ import annotations

import ast
import functools
import inspect
import json
import textwrap
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


# --- declared wiring --------------------------------------------------------------------------
# Every name an agent hands off to, a webhook starts or a schedule ticks must be a registered agent,
# or one of the roster's planned agents (agents/roster.py) while the roster grows.


def _known(name: str) -> bool:
    from agents import registry, roster

    return registry.is_registered(name) or name in roster.PLANNED


@functools.cache
def _calls_in(func: Any) -> tuple[tuple[str, str, ast.Call], ...]:
    """Every ``<obj>.<attr>("literal", ...)`` call in a function's source, parsed once per function:
    the check runs on every manage.py command and walks each agent's whole MRO, so the shared bases'
    methods were parsed again for every agent (1.7 s a check, now paid once per process)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return ()
    return tuple(
        (node.func.attr, node.args[0].value, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _literal_calls(cls: type, method: str, attr: str) -> list[tuple[str, ast.Call]]:
    """The ``ctx.<attr>("literal", ...)`` calls in ``cls.<method>``, with their first argument."""
    func = cls.__dict__.get(method)
    if func is None:
        return []
    try:
        calls = _calls_in(func)
    except TypeError:  # an unhashable class attribute (a list, a dict): no method with source to read
        return []
    return [(literal, node) for name, literal, node in calls if name == attr]


@checks.register()
def check_agent_wiring(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from agents import outbox, registry, roster

    errors: list[checks.CheckMessage] = []
    for cls in registry.all_agents():
        for target in cls.next:
            if not _known(target):
                errors.append(
                    checks.Error(
                        f"{cls.name} declares a handoff to {target!r}, which is not a registered agent",
                        hint="Fix the name in its `next`, or register the agent (planned ones: agents/roster.py).",
                        obj=cls,
                        id="agents.E010",
                    )
                )
        for klass in cls.__mro__:
            if klass.__module__.startswith("agents.base") or klass is object:
                continue
            for method in list(vars(klass)):
                for target, _ in _literal_calls(klass, method, "handoff"):
                    if target not in cls.next:
                        errors.append(
                            checks.Error(
                                f"{cls.name}.{method}() hands off to {target!r}, which {cls.__name__}.next "
                                "does not declare",
                                hint=f"Add {target!r} to {cls.__name__}.next (ctx.handoff refuses it otherwise).",
                                obj=cls,
                                id="agents.E011",
                            )
                        )
                for kind, call in _literal_calls(klass, method, "act"):
                    errors.extend(_check_act_call(cls, method, kind, call, outbox.registered_kinds()))
    for name in sorted(roster.PLANNED):
        if registry.is_registered(name):
            errors.append(
                checks.Error(
                    f"{name} is registered and still listed as planned",
                    hint="Remove it from PLANNED in agents/roster.py: the list only shrinks.",
                    id="agents.E012",
                )
            )
    for name in sorted(set(roster.ROSTER) - roster.PLANNED):
        if not registry.is_registered(name):
            errors.append(
                checks.Error(
                    f"{name} (AGENTS.md) is neither registered nor planned",
                    hint="Register it, or list it in PLANNED in agents/roster.py.",
                    id="agents.E013",
                )
            )
    errors.extend(_check_webhook_targets())
    errors.extend(_check_schedules())
    return errors


def _check_act_call(
    cls: type, method: str, kind: str, call: ast.Call, kinds: dict[str, Any]
) -> list[checks.CheckMessage]:
    spec = kinds.get(kind)
    if spec is None:
        return [
            checks.Error(
                f"{getattr(cls, 'name', cls)}.{method}() records an act of kind {kind!r}, which no performer handles",
                hint="Register a performer for it (agents.outbox.register_performer) or fix the kind.",
                obj=cls,
                id="agents.E014",
            )
        ]
    payload = call.args[2] if len(call.args) > 2 else next((k.value for k in call.keywords if k.arg == "payload"), None)
    if isinstance(payload, ast.Call):
        name = payload.func.id if isinstance(payload.func, ast.Name) else getattr(payload.func, "attr", "")
        if name and name != spec.payload.__name__ and name[:1].isupper():
            return [
                checks.Error(
                    f"{getattr(cls, 'name', cls)}.{method}() gives {kind!r} a {name} payload; it takes "
                    f"{spec.payload.__name__}",
                    hint=f"Build the payload as {spec.payload.__name__}(...).",
                    obj=cls,
                    id="agents.E015",
                )
            ]
    return []


def _check_webhook_targets() -> list[checks.CheckMessage]:
    try:
        from integrations.webhooks.providers import PROVIDERS
    except ImportError:
        return []
    errors: list[checks.CheckMessage] = []
    for provider in PROVIDERS.values():
        for target in getattr(provider, "starts", ()):
            if not _known(target):
                errors.append(
                    checks.Error(
                        f"webhooks from {provider.name} start {target!r}, which is not a registered agent",
                        hint="Fix the name in the provider's `starts`, or register the agent.",
                        id="agents.E016",
                    )
                )
    return errors


def _check_schedules() -> list[checks.CheckMessage]:
    """Beat rows (which operators may edit) that tick an agent that is not there."""
    from django.db import DatabaseError

    try:
        from django_celery_beat.models import PeriodicTask

        rows = list(
            PeriodicTask.objects.filter(task="agents.start_scheduled", enabled=True).values_list("name", "args")
        )
    except (DatabaseError, RuntimeError):
        # Not migrated yet, no database reachable, or a test that allows none: nothing to check.
        return []
    errors: list[checks.CheckMessage] = []
    for name, args in rows:
        try:
            target = (json.loads(args or "[]") or [""])[0]
        except (ValueError, IndexError):
            target = ""
        if not _known(str(target)):
            errors.append(
                checks.Error(
                    f"the schedule {name!r} starts {target!r}, which is not a registered agent",
                    hint="Disable or delete the periodic task in the admin, or fix its argument.",
                    id="agents.E017",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_public_base_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Unsubscribe links must be https in production: RFC 8058 one-click needs an https URL, and
    mailbox providers ignore (or penalise) a List-Unsubscribe over http."""
    url = str(getattr(settings, "PUBLIC_BASE_URL", ""))
    if url.startswith("https://"):
        return []
    return [
        checks.Error(
            f"PUBLIC_BASE_URL is {url or 'not set'}: unsubscribe links would not be https",
            hint="Set PUBLIC_BASE_URL to this deployment's public https address.",
            id="agents.E020",
        )
    ]
