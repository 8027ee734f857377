"""Client-side rate limiting, so we slow down before a vendor makes us (429s cost retries).

A token bucket per provider: ``capacity`` requests may burst, refilled at ``per_second``. With
Redis the bucket lives in Redis and is updated by one Lua script (atomic across every worker on
every machine; time from the Redis server's TIME so hosts with skewed clocks agree). Without
Redis the bucket is in-process. Vendor limits are in real seconds, so this measures real
(monotonic) time, not the project clock that the sandbox may accelerate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

from integrations.http.shared import shared_key, shared_redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    capacity: int
    per_second: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.per_second <= 0:
            raise ValueError("a rate needs capacity >= 1 and per_second > 0")


class Limiter(Protocol):
    def reserve(self, key: str, rate: Rate) -> float:
        """Take a token if one is free and return 0, else return the seconds to wait before asking again."""
        ...


class InProcessLimiter:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, rate: Rate) -> float:
        with self._lock:
            now = self._now()
            tokens, stamp = self._buckets.get(key, (float(rate.capacity), now))
            tokens = min(float(rate.capacity), tokens + max(0.0, now - stamp) * rate.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate.per_second
            self._buckets[key] = (tokens, now)
            return wait


_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or capacity
local ts = tonumber(data[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisLimiter:
    def __init__(self, client: redis.Redis, prefix: str | None = None) -> None:
        self._client = client
        self._prefix = prefix if prefix is not None else shared_key("ratelimit", "")
        self._script = client.register_script(_BUCKET_SCRIPT)
        self._fallback = InProcessLimiter()

    def reserve(self, key: str, rate: Rate) -> float:
        try:
            raw = self._script(keys=[self._prefix + key], args=[rate.capacity, rate.per_second])
        except redis.RedisError as exc:
            # The limiter protects the vendor's patience, not our correctness: with Redis down we
            # keep limiting per process rather than stop the agency.
            logger.warning("rate limiter: Redis unavailable (%s); limiting in-process", type(exc).__name__)
            return self._fallback.reserve(key, rate)
        return float(raw.decode() if isinstance(raw, bytes) else raw)


_default: Limiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> Limiter:
    """Redis-backed when REDIS_URL is set, in-process otherwise; one per process."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                client = shared_redis()
                _default = RedisLimiter(client) if client is not None else InProcessLimiter()
    return _default


def acquire(limiter: Limiter, key: str, rate: Rate, sleep: Callable[[float], None], max_wait: float = 120.0) -> float:
    """Block (through ``sleep``) until a token is ours; returns the seconds waited."""
    waited = 0.0
    while True:
        wait = limiter.reserve(key, rate)
        if wait <= 0:
            return waited
        if waited + wait > max_wait:
            # A bucket this far behind means a misconfigured rate; go anyway rather than hang a worker.
            logger.warning("rate limiter %s: waited %.1fs, proceeding", key, waited)
            return waited
        sleep(wait)
        waited += wait
