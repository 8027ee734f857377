"""What learning keeps of a run's facts: a flat, privacy-safe record that conditions can be derived from.

A run's facts (``lead`` with its ``company``, ``enrollment.step``...) and its input are walked as the
rule conditions see them (agents/facts.py) and recorded per dotted path:

- by value: choice fields, statuses, stages, countries, industries and the like, booleans, counts
  and other numbers: ``{"t": "choice", "v": "saas"}``;
- contact data and free text only as presence, length and domain part, never the text itself:
  ``{"t": "str", "present": true, "len": 17, "domain": "acme.example"}``;
- ids only as presence (an equality on an id is not a lesson).

Only what ``load`` already read is walked: a relation that was not loaded is recorded by its id's
presence, so recording costs no query. ``path_exists`` checks a derived path against the agent's
Facts model, so a rule never names a field the agent does not have.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from django.db import models
from pydantic import BaseModel

MAX_DEPTH = 3
MAX_PATHS = 60
MAX_VALUE = 64
# Short categorical strings recorded by value (by the field's last name part).
BY_VALUE_NAMES = frozenset(
    {
        "status",
        "state",
        "stage",
        "country",
        "industry",
        "kind",
        "type",
        "category",
        "seniority",
        "source",
        "currency",
        "channel",
        "intent",
        "sentiment",
        "employee_range",
        "revenue_band",
        "email_status",
        "warmup_stage",
        "language",
        "tier",
        "plan",
        "label",
        "provider",
    }
)
_DOMAIN = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]+@)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.IGNORECASE)


def _is_id(name: str) -> bool:
    return name in ("id", "pk") or name.endswith("_id")


def _by_value_name(name: str) -> bool:
    return name in BY_VALUE_NAMES or any(name.endswith(f"_{n}") for n in BY_VALUE_NAMES)


def _domain_part(text: str) -> str:
    found = _DOMAIN.match(text.strip())
    return found.group(1).lower()[:MAX_VALUE] if found else ""


def describe_value(name: str, value: Any, *, choice: bool = False) -> dict[str, Any]:
    """The record of one leaf value (see the module docstring)."""
    if value is None or value == "":
        return {"t": "none", "present": False}
    if _is_id(name):
        return {"t": "id", "present": True}
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return {"t": "bool", "v": value, "present": True}
    if isinstance(value, int | float | Decimal):
        return {"t": "num", "v": float(value), "present": True}
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return {"t": "time", "present": True}
    if isinstance(value, str):
        if (choice or _by_value_name(name)) and len(value) <= MAX_VALUE:
            return {"t": "choice", "v": value, "present": True}
        record: dict[str, Any] = {"t": "str", "present": bool(value.strip()), "len": len(value)}
        domain = _domain_part(value)
        if domain:
            record["domain"] = domain
        return record
    if isinstance(value, list | tuple | set | dict):
        return {"t": "list", "present": bool(value), "len": len(value)}
    return {"t": type(value).__name__[:32], "present": True}


def record_facts(data: Mapping[str, Any] | None, facts: Any = None) -> dict[str, dict[str, Any]]:
    """The flat record of a run's input and facts, path -> descriptor (at most MAX_PATHS paths)."""
    out: dict[str, dict[str, Any]] = {}
    roots: list[tuple[str, Any]] = []
    if facts is not None:
        roots += _children(facts)
    names = {name for name, _ in roots}
    roots += [(str(k), (v, False)) for k, v in (data or {}).items() if str(k) not in names]
    for name, (value, choice) in roots:
        _walk(out, name, value, choice, 1)
    return out


def _children(obj: Any) -> list[tuple[str, Any]]:
    """(name, (value, is_choice)) of an object's loaded fields; no query is ever made here."""
    if isinstance(obj, models.Model):
        found = []
        for f in obj._meta.concrete_fields:
            if f.is_relation:
                if f.is_cached(obj):  # type: ignore[attr-defined]
                    found.append((f.name, (getattr(obj, f.name), False)))
                else:
                    found.append((f.attname, (getattr(obj, f.attname), False)))
            else:
                found.append((f.name, (getattr(obj, f.attname), bool(f.choices))))
        return found
    if isinstance(obj, BaseModel):
        return [(name, (getattr(obj, name, None), False)) for name in type(obj).model_fields]
    if isinstance(obj, Mapping):
        return [(str(k), (v, False)) for k, v in obj.items()]
    return []


def _walk(out: dict[str, dict[str, Any]], path: str, value: Any, choice: bool, depth: int) -> None:
    if len(out) >= MAX_PATHS:
        return
    if isinstance(value, models.Model | BaseModel) or (isinstance(value, Mapping) and value):
        if depth >= MAX_DEPTH:
            out[path] = {"t": "obj", "present": True}
            return
        for name, (child, is_choice) in _children(value):
            _walk(out, f"{path}.{name}", child, is_choice, depth + 1)
        return
    out[path] = describe_value(path.rsplit(".", 1)[-1], value, choice=choice)


def path_exists(root: Any, path: str, input_type: type[Any] | None = None) -> bool:
    """Whether ``path`` names a field of the agent's Facts model (else of its Input), as conditions
    read it: pydantic fields, then model fields and forward relations."""
    parts = path.split(".")
    if parts[0] == "input":
        return input_type is not None and _type_has(input_type, parts[1:])
    if root is not None and _type_has(root, parts):
        return True
    return input_type is not None and _type_has(input_type, parts)


def _type_has(kind: Any, parts: list[str]) -> bool:
    if not parts:
        return True
    name, rest = parts[0], parts[1:]
    kind = _unwrap(kind)
    if kind is Any:
        return True  # an untyped field: nothing to check its path against
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        info = kind.model_fields.get(name)
        return info is not None and (not rest or _type_has(info.annotation, rest))
    if isinstance(kind, type) and issubclass(kind, models.Model):
        try:
            field = kind._meta.get_field(name)
        except Exception:
            return any(getattr(f, "attname", None) == name for f in kind._meta.concrete_fields) and not rest
        if not rest:
            return True
        related = getattr(field, "related_model", None)
        forward = bool(getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False))
        return forward and isinstance(related, type) and _type_has(related, rest)
    return False


def _unwrap(kind: Any) -> Any:
    """``Lead | None`` -> ``Lead``; other annotations as they are."""
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return kind
