"""What an agent's rules may do, read from the agent's class: does it read prompts, does it act on
people or money, and which staff group an escalation goes to."""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Mapping
from typing import Any

# Outbox namespaces whose acts reach people (agents/outbox.py REACHES_PEOPLE) or move money.
PEOPLE = frozenset({"email", "outreach", "sms", "call", "voice", "linkedin"})
MONEY = frozenset({"payment", "payments", "invoice", "refund", "payout", "charge", "transfer", "stripe"})
DEFAULT_GROUP = "operator"


def _agent_class(agent_name: str) -> type[Any] | None:
    from agents import registry
    from agents.errors import UnknownAgent

    try:
        return registry.get(agent_name)
    except UnknownAgent:
        return None


def reads_prompts(agent_name: str) -> bool:
    """An LLM agent's brain reads prompt rules; a rules agent decides in code and reads none.
    Global rules (no agent) and agents not registered in this process are given the benefit of
    the doubt (the runtime only ever runs registered agents)."""
    from agents.base import LLMAgent

    cls = _agent_class(agent_name) if agent_name else None
    if cls is None:
        return True
    return issubclass(cls, LLMAgent)


@functools.cache
def _act_kinds(cls: type[Any]) -> frozenset[str]:
    """The literal kinds of ``ctx.act("kind", ...)`` calls in the agent's source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return frozenset()
    kinds = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "act"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            kinds.add(node.args[0].value)
    return frozenset(kinds)


def guards_people_or_money(agent_name: str) -> bool:
    """Whether the agent's work reaches people or moves money (its act kinds, or its own
    ``guards_people_or_money`` declaration): its rules are never held out."""
    cls = _agent_class(agent_name) if agent_name else None
    if cls is None:
        return False
    declared = getattr(cls, "guards_people_or_money", None)
    if isinstance(declared, bool):
        return declared
    return any(kind.split(".", 1)[0] in PEOPLE | MONEY for kind in _act_kinds(cls))  # type: ignore[arg-type]


def escalation_group(params: Mapping[str, Any]) -> str:
    """The staff group an escalate rule names (its ``target``), or the operators."""
    from agents.models.oversight import StaffGroup

    target = str(params.get("target") or "")
    return target if target in StaffGroup.values else DEFAULT_GROUP
