"""What learned-rule conditions see: the run's input and its loaded facts, as one read-only mapping.

A condition names a field path (``lead.company.domain``, ``enrollment.step``, ``lead_id``). The
first part is a field of the agent's facts, else a key of the input (``input.x`` names the input
explicitly). Model instances are seen through their fields only (columns and forward relations),
never their methods or managers, so a rule can read facts but never run code. A relation that was
not loaded with the facts is fetched on first use (one query per path, and only for rules that ask).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from typing import Any

from django.db import models
from pydantic import BaseModel


def _field_names(obj: Any) -> list[str]:
    if isinstance(obj, models.Model):
        return [f.name for f in obj._meta.concrete_fields]
    if isinstance(obj, BaseModel):
        return list(type(obj).model_fields)
    if is_dataclass(obj) and not isinstance(obj, type):
        return [f.name for f in dataclass_fields(obj)]
    return []


def wrap(value: Any) -> Any:
    """A view of ``value`` that conditions can walk (objects as mappings of their fields)."""
    if isinstance(value, models.Model | BaseModel) or (is_dataclass(value) and not isinstance(value, type)):
        return ObjectView(value)
    if isinstance(value, list | tuple):
        return [wrap(v) for v in value]
    if isinstance(value, Mapping) and not isinstance(value, ObjectView | FactsView):
        return {k: wrap(v) for k, v in value.items()}
    return value


class ObjectView(Mapping[str, Any]):
    """A model instance, pydantic model or dataclass as a mapping of its fields."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj
        self._names = _field_names(obj)

    def __getitem__(self, key: str) -> Any:
        if key not in self._names:
            raise KeyError(key)
        try:
            return wrap(getattr(self._obj, key))
        except models.ObjectDoesNotExist:
            return None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, key: object) -> bool:
        return key in self._names


class FactsView(Mapping[str, Any]):
    """The root a condition is evaluated against: facts first, then the input."""

    def __init__(self, data: Mapping[str, Any], facts: Any = None) -> None:
        self._input = dict(data or {})
        self._facts = ObjectView(facts) if facts is not None and _field_names(facts) else None

    def __getitem__(self, key: str) -> Any:
        if key == "input":
            return wrap(self._input)
        if self._facts is not None and key in self._facts:
            return self._facts[key]
        return wrap(self._input[key])

    def __iter__(self) -> Iterator[str]:
        keys = list(self._facts or []) + [k for k in self._input if not (self._facts and k in self._facts)]
        return iter(keys)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, key: object) -> bool:
        return key == "input" or (self._facts is not None and key in self._facts) or key in self._input
