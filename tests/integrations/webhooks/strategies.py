"""Hypothesis strategies for hostile webhook bodies: NUL, lone surrogates, deep nesting, odd numbers.

A body is a provider's real fixture with some of its values (at any depth) swapped for hostile
ones, so the request passes the signature and identification and reaches storage and the handler.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures"

# Surrogates (category Cs) are excluded by default; NUL and friends are added explicitly.
hostile_text = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=12),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff", "x\udc00y", "\ud83d", "\x00\ud800\x00", "\ufffe"]),
)
hostile_leaf = st.one_of(
    hostile_text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
)
hostile_value = st.recursive(
    hostile_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)


def deep(levels: int, kind: str = "[") -> str:
    """JSON text nested ``levels`` deep (text: json.dumps itself cannot write thousands of levels)."""
    if kind == "[":
        return "[" * levels + '"\\u0000"' + "]" * levels
    return '{"k":' * levels + "null" + "}" * levels


def _marker(levels: int, kind: str) -> str:
    return f"@@deep:{levels}:{kind}@@"


def deep_marker(levels: int, kind: str = "[") -> str:
    """A placeholder that ``body_of`` turns into a nest ``levels`` deep (10, 70 or 3000)."""
    return _marker(levels, kind)


def fixtures_of(provider: str) -> list[Any]:
    return [json.loads(p.read_bytes()) for p in sorted((FIXTURES / provider).glob("*.json"))]


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with some of its members replaced by hostile values or deep nests."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key] = draw(mutated(item, depth + 1))
        if draw(st.integers(0, 5)) == 0:
            out[draw(hostile_text)] = draw(hostile_value)
        return out
    if isinstance(value, list):
        return [draw(mutated(item, depth + 1)) for item in value]
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(hostile_value)
    if choice == 1 and isinstance(value, str):
        return value + draw(st.sampled_from(["\x00", "\ud800", "\udfff\x00"]))
    if choice == 2:
        return _marker(draw(st.sampled_from([10, 70, 3000])), draw(st.sampled_from("[{")))
    return value


def body_of(payload: Any) -> bytes:
    """JSON bytes: ``ensure_ascii`` writes NUL and lone surrogates as \\u escapes, as a sender would;
    deep-nesting markers become the nests."""
    text = json.dumps(payload, ensure_ascii=True)
    for levels, kind in ((10, "["), (70, "["), (3000, "["), (10, "{"), (70, "{"), (3000, "{")):
        text = text.replace(json.dumps(_marker(levels, kind)), deep(levels, kind))
    return text.encode()
