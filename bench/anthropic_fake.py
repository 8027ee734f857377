"""The prompt-cache arithmetic of the fake Anthropic server the benches share (bench/llm_cost's
batches, bench/lifecycle's metered brain): what a request is charged as, by the API's documented
rules (https://docs.claude.com/en/docs/build-with-claude/prompt-caching).

- a prefix is the request's tools, then system blocks, up to a block marked ``cache_control``; it is
  cached only when at least the model's minimum (1,024 tokens for Sonnet and Opus 4.x, 2,048 for the
  Haiku 3 family, 4,096 for Haiku 4.5 and Opus 4.5 and later; an unknown model: 1,024, a judgement)
  and is read back only when byte-identical, within the 5-minute lifetime that each read renews;
- tokens are counted as characters / 3.5 (Anthropic's rule of thumb for English), plus the 313
  tokens the API adds for a forced tool choice (the tool-use system prompt, Claude 4 models).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

CHARS_PER_TOKEN = 3.5
TOOL_CHOICE_TOKENS = 313  # the API's tool-use system prompt for tool_choice "tool" (Claude 4 models)
CACHE_LIFETIME = 300.0  # seconds: the ephemeral cache the brain asks for
MIN_CACHEABLE = {"claude-haiku-4-5": 4096, "claude-opus-4-5": 4096, "claude-opus-5": 4096, "claude-3-haiku": 2048}


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def min_cacheable(model: str) -> int:
    return next(
        (n for name, n in sorted(MIN_CACHEABLE.items(), key=lambda kv: -len(kv[0])) if model.startswith(name)), 1024
    )


@dataclass
class Cache:
    """Prefixes by digest, each with the (simulated) time it lapses."""

    until: dict[str, float] = field(default_factory=dict)

    def fresh(self, key: str, now: float) -> bool:
        return self.until.get(key, -1.0) >= now

    def keep(self, key: str, now: float) -> None:
        self.until[key] = now + CACHE_LIFETIME


def blocks(params: dict[str, Any]) -> Iterator[tuple[str, int, bool]]:
    """(canonical text, tokens, is a breakpoint) for each block, in the order the API caches them."""
    for tool in params.get("tools", []):
        text = json.dumps(tool, sort_keys=True)
        yield text, tokens(text) + (TOOL_CHOICE_TOKENS if params.get("tool_choice") else 0), "cache_control" in tool
    for block in params.get("system", []):
        yield block["text"], tokens(block["text"]), "cache_control" in block
    for message in params["messages"]:
        content = message["content"]
        text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
        yield text, tokens(text), False


def usage_for(params: dict[str, Any], cache: Cache, now: float) -> dict[str, int]:
    digest = hashlib.sha256(params["model"].encode())  # each model has its own cache
    total, breakpoints = 0, []  # (prefix digest, prefix tokens)
    for text, count, marked in blocks(params):
        digest.update(text.encode())
        total += count
        if marked:
            breakpoints.append((digest.copy().hexdigest(), total))
    floor = min_cacheable(params["model"])
    cacheable = [(key, n) for key, n in breakpoints if n >= floor]
    read = next((n for key, n in reversed(cacheable) if cache.fresh(key, now)), 0)
    for key, n in cacheable:
        if n <= read:
            cache.keep(key, now)  # a read renews the lifetime
    written = 0
    if cacheable and cacheable[-1][1] > read:
        written = cacheable[-1][1] - read
        for key, _ in cacheable:
            cache.keep(key, now)
    return {
        "input_tokens": total - read - written,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }
