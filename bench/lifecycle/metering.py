"""LLM cost per lead as the Anthropic brain would have been charged, while the heuristic decides.

Each LLM agent's decision is made by its heuristic (the run's behaviour is the heuristic brain's),
and the request the Anthropic brain would have sent for the same facts is built by the real
request builder (``build_request``: tools, system prompt, cache breakpoints, the agent's prompt and
its prompt rules) and charged by the fake server's cache arithmetic (bench/anthropic_fake.py) on the
simulated clock. The answer is charged at the heuristic decision's length (a model's JSON answer
of the same content) plus the tool-use wrapper's few tokens.

Live: every request on its own, a prefix read back when the same agent asked within the cache's
lifetime. Batches: the agents that batch (``agent.batch``) at the batch discount with the same cache
reads (batch cache hits are best-effort, so this is the better case); the others live as before.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from unittest import mock

from agents.brains import BrainResult
from agents.brains.anthropic import build_request
from agents.brains.heuristic import HeuristicBrain
from agents.brains.pricing import cost_of
from bench.anthropic_fake import Cache, tokens, usage_for
from smarter_team import clock

ANSWER_WRAPPER_TOKENS = 12  # the tool_use block around the answer's JSON


@dataclass
class Meter:
    cache: Cache = field(default_factory=Cache)
    calls: Counter[str] = field(default_factory=Counter)
    live: Decimal = Decimal("0")
    batches: Decimal = Decimal("0")
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0

    def charge(self, agent: Any, ctx: Any, data: Any, decision: Any) -> None:
        request = build_request(agent, user_prompt=agent.prompt(ctx, data), prompt_rules=ctx.prompt_rules)
        usage = usage_for(request, self.cache, clock.now().timestamp())
        answer = decision.model_dump(mode="json") if hasattr(decision, "model_dump") else decision
        out = tokens(json.dumps(answer)) + ANSWER_WRAPPER_TOKENS

        def priced(*, batch: bool) -> Decimal:
            return cost_of(
                request["model"],
                input_tokens=usage["input_tokens"],
                output_tokens=out,
                cache_write_tokens=usage["cache_creation_input_tokens"],
                cache_read_tokens=usage["cache_read_input_tokens"],
                batch=batch,
            )

        live = priced(batch=False)
        self.live += live
        self.batches += priced(batch=True) if agent.batch else live
        self.calls[agent.name] += 1
        self.input_tokens += usage["input_tokens"]
        self.cache_read_tokens += usage["cache_read_input_tokens"]
        self.cache_write_tokens += usage["cache_creation_input_tokens"]
        self.output_tokens += out

    @property
    def cache_share(self) -> float:
        read = self.cache_read_tokens
        return read / max(1, read + self.input_tokens + self.cache_write_tokens)


@contextlib.contextmanager
def metered(meter: Meter | None = None) -> Iterator[Meter]:
    """Charge every heuristic decision while the block lasts, on ``meter`` (a new one by default;
    a forked arm goes on with the full arm's, its prompt cache included)."""
    meter = meter or Meter()
    decide = HeuristicBrain.decide

    def charged(self: HeuristicBrain, *, agent: Any, ctx: Any, data: Any) -> BrainResult:
        result = decide(self, agent=agent, ctx=ctx, data=data)
        meter.charge(agent, ctx, data, result.decision)
        return result

    with mock.patch.object(HeuristicBrain, "decide", charged):
        yield meter
