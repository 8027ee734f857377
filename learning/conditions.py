"""A small JSON condition language over a run's input, evaluated safely (never ``eval``).

A condition says when a rule fires, i.e. what a known-bad input looks like::

    {"field": "company_domain", "op": "missing"}
    {"all": [{"field": "country", "op": "in", "value": ["US", "CA"]}, {"field": "score", "op": "lt", "value": 40}]}
    {"any": [...]}        {"not": {...}}

``field`` is a dotted path into the input (``lead.company.domain``; list items by index: ``emails.0``).
Ops: ``missing`` (absent or null), ``empty`` (missing, or "", whitespace, [], {}), ``present`` (not empty),
``equals``, ``in`` (value is a list), ``matches`` (Python regex search on the string, bounded length),
``lt``, ``gt`` (numbers). An empty condition ``{}`` never fires. An op that cannot be evaluated on the
value (``lt`` on a string) is false, not an error: a rule must never crash a run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

OPS = frozenset({"missing", "empty", "present", "equals", "in", "matches", "lt", "gt"})
VALUE_OPS = frozenset({"equals", "in", "matches", "lt", "gt"})
MAX_DEPTH = 8
MAX_PATTERN = 200
MAX_SUBJECT = 2000
_MISSING = object()


class ConditionError(ValueError):
    """A condition that is not well formed (raised when a rule is saved, never while a run is checked)."""


def validate(condition: Any, *, _depth: int = 0) -> None:
    """Raise ConditionError unless ``condition`` is a well-formed condition."""
    if _depth > MAX_DEPTH:
        raise ConditionError("condition nested too deeply")
    if not isinstance(condition, Mapping):
        raise ConditionError("a condition is a JSON object")
    if not condition:
        return
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        parts = condition[key]
        if len(condition) != 1 or not isinstance(parts, list) or not parts:
            raise ConditionError(f"'{key}' takes a non-empty list and nothing else")
        for part in parts:
            if not part:
                raise ConditionError(f"empty condition inside '{key}'")
            validate(part, _depth=_depth + 1)
        return
    if "not" in condition:
        if len(condition) != 1 or not condition["not"]:
            raise ConditionError("'not' takes one non-empty condition and nothing else")
        validate(condition["not"], _depth=_depth + 1)
        return
    field, op = condition.get("field"), condition.get("op")
    if not isinstance(field, str) or not field.strip():
        raise ConditionError("'field' must be a non-empty string")
    if op not in OPS:
        raise ConditionError(f"unknown op {op!r}; known: {', '.join(sorted(OPS))}")
    extra = set(condition) - {"field", "op", "value"}
    if extra:
        raise ConditionError(f"unknown keys {sorted(extra)}")
    if op in VALUE_OPS and "value" not in condition:
        raise ConditionError(f"op {op!r} needs a 'value'")
    value = condition.get("value")
    if op == "in" and not isinstance(value, list):
        raise ConditionError("op 'in' needs a list value")
    if op in ("lt", "gt") and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConditionError(f"op {op!r} needs a number")
    if op == "matches":
        if not isinstance(value, str) or len(value) > MAX_PATTERN:
            raise ConditionError(f"op 'matches' needs a pattern string of at most {MAX_PATTERN} characters")
        try:
            re.compile(value)
        except re.error as exc:
            raise ConditionError(f"bad pattern: {exc}") from exc


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path, or the _MISSING sentinel."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return _MISSING
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return current


def is_missing(value: Any) -> bool:
    return value is _MISSING or value is None


def is_empty(value: Any) -> bool:
    if is_missing(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict | tuple | set):
        return not value
    return False


def same_value(a: Any, b: Any) -> bool:
    """Equality that does not confuse True with 1 (JSON booleans are not numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or is_missing(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _leaf(condition: Mapping[str, Any], data: Any) -> bool:
    try:
        validate(condition, _depth=MAX_DEPTH)  # a leaf: its own shape only (cheap; patterns are cached)
    except ConditionError:
        raise _Malformed from None
    value = lookup(data, condition["field"])
    op = condition["op"]
    expected = condition.get("value")
    if op == "missing":
        return is_missing(value)
    if op == "empty":
        return is_empty(value)
    if op == "present":
        return not is_empty(value)
    if is_missing(value):
        return False
    if op == "equals":
        return same_value(value, expected)
    if op == "in":
        return isinstance(expected, list) and any(same_value(value, option) for option in expected)
    if op == "matches":
        return re.search(str(expected), str(value)[:MAX_SUBJECT]) is not None
    number, bound = _number(value), _number(expected)
    if number is None or bound is None:
        return False
    return number < bound if op == "lt" else number > bound


class _Malformed(Exception):
    pass


def evaluate(condition: Any, data: Any) -> bool:
    """Whether the condition fires on ``data``. A malformed condition is false as a whole (even under
    ``not``); validate() refuses it when the rule is saved."""
    try:
        return _eval(condition, data, 0)
    except _Malformed:
        return False


def _eval(condition: Any, data: Any, depth: int) -> bool:
    if depth > MAX_DEPTH or not isinstance(condition, Mapping):
        raise _Malformed
    if not condition:
        return False
    if "all" in condition or "any" in condition:
        parts = condition.get("all", condition.get("any"))
        if not isinstance(parts, list) or not parts:
            raise _Malformed
        results = [_eval(p, data, depth + 1) for p in parts]  # all evaluated: a malformed part is never skipped
        return all(results) if "all" in condition else any(results)
    if "not" in condition:
        inner = condition["not"]
        if not isinstance(inner, Mapping) or not inner:
            raise _Malformed
        return not _eval(inner, data, depth + 1)
    if not isinstance(condition.get("field"), str) or condition.get("op") not in OPS:
        raise _Malformed
    return _leaf(condition, data)


def describe(condition: Any) -> str:
    """Plain English for a condition, for rule texts and the admin."""
    if not isinstance(condition, Mapping) or not condition:
        return "never"
    if "all" in condition:
        return " and ".join(f"({describe(p)})" for p in condition["all"])
    if "any" in condition:
        return " or ".join(f"({describe(p)})" for p in condition["any"])
    if "not" in condition:
        return f"not ({describe(condition['not'])})"
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    words = {
        "missing": f"{field} is missing",
        "empty": f"{field} is missing or empty",
        "present": f"{field} is present",
        "equals": f"{field} equals {value!r}",
        "in": f"{field} is one of {value!r}",
        "matches": f"{field} matches /{value}/",
        "lt": f"{field} < {value}",
        "gt": f"{field} > {value}",
    }
    return words.get(str(op), "unknown condition")
