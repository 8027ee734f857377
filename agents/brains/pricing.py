"""What a model call costs, in US dollars per million tokens (Anthropic's published list prices).

Cache writes are priced for the 5-minute ephemeral cache the brain uses; the Message Batches API
halves everything. Source: https://platform.claude.com/docs/en/about-claude/pricing
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

logger = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True)
class ModelPrice:
    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal


def _price(input_: str, cache_write: str, cache_read: str, output: str) -> ModelPrice:
    return ModelPrice(
        input=Decimal(input_), output=Decimal(output), cache_write=Decimal(cache_write), cache_read=Decimal(cache_read)
    )


# Base input, 5-minute cache write, cache hit, output (USD per million tokens), from the official
# pricing table. Models missing here are charged the fallback until added (or set in
# settings.ANTHROPIC_PRICES = {"model": {"input": "3", "cache_write": "3.75", "cache_read": "0.30", "output": "15"}}).
PRICES: dict[str, ModelPrice] = {
    "claude-fable-5-1": _price("10", "12.50", "0.25", "50"),
    "claude-mythos-5-1": _price("10", "12.50", "0.25", "50"),
    "claude-fable-5": _price("10", "12.50", "1", "50"),
    "claude-mythos-5": _price("10", "12.50", "1", "50"),
    "claude-opus-5-5": _price("4", "5", "0.20", "20"),
    "claude-opus-5": _price("5", "6.25", "0.50", "25"),
    "claude-opus-4-8": _price("5", "6.25", "0.50", "25"),
    "claude-opus-4-7": _price("5", "6.25", "0.50", "25"),
    "claude-opus-4-6": _price("5", "6.25", "0.50", "25"),
    "claude-opus-4-5": _price("5", "6.25", "0.50", "25"),
    "claude-opus-4-1": _price("15", "18.75", "1.50", "75"),
    "claude-opus-4": _price("15", "18.75", "1.50", "75"),
    # Sonnet 5.5's cache reads were reported cut to $0.10 in October 2026; kept at the published
    # $0.20 until confirmed, since a budget must over-count rather than under-count.
    "claude-sonnet-5-5": _price("2", "2.50", "0.20", "10"),
    "claude-sonnet-5": _price("2", "2.50", "0.20", "10"),
    "claude-sonnet-4-6": _price("3", "3.75", "0.30", "15"),
    "claude-sonnet-4-5": _price("3", "3.75", "0.30", "15"),
    "claude-sonnet-4": _price("3", "3.75", "0.30", "15"),
    "claude-3-7-sonnet": _price("3", "3.75", "0.30", "15"),
    "claude-haiku-4-5": _price("1", "1.25", "0.10", "5"),
    "claude-3-5-haiku": _price("0.80", "1", "0.08", "4"),
    "claude-3-haiku": _price("0.25", "0.30", "0.03", "1.25"),
}
# An unknown model is charged like the dearest one: a budget must never under-count.
FALLBACK = PRICES["claude-opus-4-1"]


@dataclass
class Usage:
    """Tokens of one or more model calls and what they cost."""

    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost: Decimal = Decimal("0")

    def add(self, other: Usage) -> None:
        self.model = other.model or self.model
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cost += other.cost

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cost": str(self.cost),
        }


def price_for(model: str) -> ModelPrice:
    """Prices of a model id, dated ids included (claude-sonnet-4-5-20250929 -> claude-sonnet-4-5)."""
    configured = getattr(settings, "ANTHROPIC_PRICES", {}).get(model)
    if configured:
        return _price(configured["input"], configured["cache_write"], configured["cache_read"], configured["output"])
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-") or model.startswith(name + "@"):
            return PRICES[name]
    logger.warning("no price for model %s; charging the fallback price", model)
    return FALLBACK


def cost_of(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    batch: bool = False,
) -> Decimal:
    """Cost in USD, quantised to the 6 decimals AgentRun.cost stores."""
    price = price_for(model)
    total = (
        price.input * input_tokens
        + price.output * output_tokens
        + price.cache_write * cache_write_tokens
        + price.cache_read * cache_read_tokens
    ) / MILLION
    if batch:
        total *= BATCH_DISCOUNT
    return total.quantize(Decimal("0.000001"))


def usage_of(model: str, raw: object, *, batch: bool = False) -> Usage:
    """A Usage from the SDK's usage object (or its dict form); input_tokens excludes cached tokens."""

    def get(name: str) -> int:
        value = raw.get(name) if isinstance(raw, dict) else getattr(raw, name, 0)
        return int(value or 0)

    usage = Usage(
        model=model,
        input_tokens=get("input_tokens"),
        output_tokens=get("output_tokens"),
        cache_write_tokens=get("cache_creation_input_tokens"),
        cache_read_tokens=get("cache_read_input_tokens"),
    )
    usage.cost = cost_of(
        model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        batch=batch,
    )
    return usage
