"""Stripe's OpenAPI, as the stripe SDK (16.1.0, MIT) was generated from it for our API version.

stripe-python is generated from Stripe's OpenAPI (stripe/openapi ``spec3.sdk.json``) for one API
version, the one it sends in ``Stripe-Version`` (2026-10-28.endive for 16.1.0). The spec files
themselves could not be brought here (see README.md), so the SDK's generated types are read back
into JSON Schema:

- a resource class (``stripe.Invoice`` ...) is the spec's response schema: a field typed without
  ``Optional`` is one the spec lists as required and not nullable, ``Literal`` is the enum, an
  ``ExpandableField`` is the id or the object; a field the class does not declare is one Stripe
  does not send;
- a ``*Params`` TypedDict (``stripe.params.InvoiceCreateParams`` ...) is the operation's form
  body or query: its keys, which are ``Required``, enums and value types.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union, get_args, get_origin
from urllib.parse import parse_qsl

import stripe
from stripe import ListObject, StripeObject

_NAMESPACES = ("", "test_helpers", "billing", "checkout", "tax", "terminal", "treasury", "issuing", "radar")


def _resolve(name: str) -> Any:
    """A forward reference in the SDK's annotations ("Customer", "TestClock"); None if not found."""
    for namespace in _NAMESPACES:
        module = getattr(stripe, namespace) if namespace else stripe
        if hasattr(module, name):
            return getattr(module, name)
    return None


def _is_resource(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, StripeObject) and not issubclass(hint, ListObject)


def object_schema(cls: type[StripeObject]) -> dict[str, Any]:
    """The JSON Schema of what Stripe sends for ``cls``, every nested class under ``$defs``."""
    definitions: dict[str, Any] = {}

    def ref(resource: type) -> dict[str, Any]:
        name = f"{resource.__module__}.{resource.__qualname__}"
        if name not in definitions:
            definitions[name] = {}  # placeholder: a class that contains itself refers to itself
            hints = {
                key: hint
                for key, hint in resource.__annotations__.items()
                if not key.startswith("_") and get_origin(hint) is not typing.ClassVar
            }
            definitions[name] = {
                "type": "object",
                "properties": {key: of(hint) for key, hint in hints.items()},
                "required": sorted(key for key, hint in hints.items() if not _nullable(hint)),
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}

    def of(hint: Any) -> dict[str, Any]:
        origin, args = get_origin(hint), get_args(hint)
        if isinstance(hint, ForwardRef | str):
            target = _resolve(hint.__forward_arg__ if isinstance(hint, ForwardRef) else hint)
            return {} if target is None else of(target)
        if hint is type(None):
            return {"type": "null"}
        if hint in (int, str, bool, float):
            return {"type": {int: "integer", str: "string", bool: "boolean", float: "number"}[hint]}
        if origin is Literal:
            return {"enum": list(args)}
        if origin in (Union, types.UnionType):
            return {"anyOf": [of(arg) for arg in args]}
        if origin in (list, typing.List):  # noqa: UP006 - the SDK's annotations
            return {"type": "array", "items": of(args[0])}
        if origin in (dict, typing.Dict):  # noqa: UP006
            return {"type": "object", "additionalProperties": of(args[1])}
        if origin is ListObject:
            return {
                "type": "object",
                "properties": {
                    "object": {"enum": ["list"]},
                    "data": {"type": "array", "items": of(args[0])},
                    "has_more": {"type": "boolean"},
                    "url": {"type": "string"},
                },
                "required": ["object", "data", "has_more", "url"],
                "additionalProperties": False,
            }
        if _is_resource(hint):
            return ref(hint)
        return {}  # Any, or a type the SDK leaves open

    root = of(cls)
    return {**root, "$defs": definitions}


def list_schema(cls: type[StripeObject]) -> dict[str, Any]:
    return object_schema(ListObject[cls])  # type: ignore[valid-type]


def _nullable(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


# Requests: the form body (or query) against the operation's Params TypedDict.


def decode_form(content: str) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[company_id]=7``, ``items[0][price]=...``) as nested dicts."""
    decoded: dict[str, Any] = {}
    for key, value in parse_qsl(content, keep_blank_values=True):
        head, *rest = re.findall(r"[^\[\]]+", key)
        node = decoded
        for part in [head, *rest][:-1]:
            node = node.setdefault(part, {})
        node[[head, *rest][-1]] = value
    return decoded


def params_errors(sent: Mapping[str, Any], params: type, where: str = "") -> list[str]:
    """Keys of ``sent`` the operation does not take, required ones missing, values of the wrong kind."""
    hints = params.__annotations__  # a TypedDict's own and inherited keys; forward references resolved below
    required: frozenset[str] = getattr(params, "__required_keys__", frozenset())
    errors = [f"{where}{key}: required by {params.__name__}" for key in required if key not in sent]
    for key, value in sent.items():
        if key not in hints:
            errors.append(f"{where}{key}: not a parameter of {params.__name__}")
        else:
            errors += _value_errors(value, hints[key], f"{where}{key}", vars(sys.modules[params.__module__]))
    return errors


def _value_errors(value: Any, hint: Any, where: str, namespace: Mapping[str, Any]) -> list[str]:
    if isinstance(hint, ForwardRef | str):
        name = hint.__forward_arg__ if isinstance(hint, ForwardRef) else hint
        hint = namespace[name] if name in namespace else _resolve(name)
        if hint is None:
            return []
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Required, NotRequired):
        return _value_errors(value, args[0], where, namespace)
    if origin in (Union, types.UnionType):
        options = [_value_errors(value, arg, where, namespace) for arg in args]
        return [] if any(not o for o in options) else min(options, key=len)
    if origin is Literal:
        allowed = [str(a).lower() if isinstance(a, bool) else str(a) for a in args]
        return [] if value in allowed else [f"{where}: {value!r} is not one of {allowed}"]
    if hint is int:
        return [] if isinstance(value, str) and re.fullmatch(r"-?\d+", value) else [f"{where}: {value!r} is no integer"]
    if hint is bool:
        return [] if value in ("true", "false") else [f"{where}: {value!r} is no boolean"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{where}: expected a string"]
    if origin in (dict, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{where}: expected a map"]
    if isinstance(hint, type) and hasattr(hint, "__required_keys__"):
        return params_errors(value, hint, f"{where}.") if isinstance(value, dict) else [f"{where}: expected a map"]
    return []
