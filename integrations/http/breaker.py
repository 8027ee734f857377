"""A circuit breaker per provider, so a vendor that is down is not hammered by 76 agents.

Closed: calls go through; ``threshold`` consecutive transient failures (5xx, timeouts, dropped
connections; after the client's own retries) open it. Open: calls fail at once with
CircuitOpenError (transient, so the runtime retries the run later). After ``cooldown`` it is
half-open: exactly one probe call goes through; its success closes the circuit, its failure opens
it for another cooldown. Time comes from the project clock. State lives in Redis when REDIS_URL
is set, so every worker sees the same circuit; in-process otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Literal, Protocol

import redis

from integrations.http.errors import CircuitOpenError
from integrations.http.shared import shared_key, shared_redis
from smarter_team import clock

logger = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]


@dataclass
class Snapshot:
    failures: int = 0
    opened_at: float | None = None  # project-clock timestamp
    probe_at: float | None = None


class BreakerStore(Protocol):
    def load(self, key: str) -> Snapshot: ...

    def add_failure(self, key: str) -> int: ...

    def open(self, key: str, at: float) -> None: ...

    def claim_probe(self, key: str, at: float, stale_before: float) -> bool: ...

    def reset(self, key: str) -> None: ...


class InProcessBreakerStore:
    def __init__(self) -> None:
        self._states: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> Snapshot:
        with self._lock:
            s = self._states.get(key, Snapshot())
            return Snapshot(s.failures, s.opened_at, s.probe_at)

    def add_failure(self, key: str) -> int:
        with self._lock:
            s = self._states.setdefault(key, Snapshot())
            s.failures += 1
            return s.failures

    def open(self, key: str, at: float) -> None:
        with self._lock:
            s = self._states.setdefault(key, Snapshot())
            s.opened_at, s.probe_at = at, None

    def claim_probe(self, key: str, at: float, stale_before: float) -> bool:
        with self._lock:
            s = self._states.setdefault(key, Snapshot())
            if s.probe_at is not None and s.probe_at >= stale_before:
                return False
            s.probe_at = at
            return True

    def reset(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)


# Claim the half-open probe atomically: only one worker of the fleet gets to try the vendor.
_CLAIM_PROBE_LUA = """
local current = tonumber(redis.call('HGET', KEYS[1], 'probe_at'))
if current and current >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'probe_at', ARGV[1])
return 1
"""


class RedisBreakerStore:
    # State outlives no outage by much; a day bounds the keys of providers we stopped using.
    TTL_SECONDS = 86_400

    def __init__(self, client: redis.Redis, prefix: str | None = None) -> None:
        self._client = client
        self._prefix = prefix if prefix is not None else shared_key("breaker", "")
        self._claim = client.register_script(_CLAIM_PROBE_LUA)

    def _key(self, key: str) -> str:
        return self._prefix + key

    def load(self, key: str) -> Snapshot:
        raw = self._client.hgetall(self._key(key))
        # redis-py returns bytes unless the client decodes responses; accept both.
        data = {_text(k): _text(v) for k, v in raw.items()}
        return Snapshot(
            failures=int(data.get("failures", 0)),
            opened_at=float(data["opened_at"]) if "opened_at" in data else None,
            probe_at=float(data["probe_at"]) if "probe_at" in data else None,
        )

    def add_failure(self, key: str) -> int:
        pipe = self._client.pipeline()
        pipe.hincrby(self._key(key), "failures", 1)
        pipe.expire(self._key(key), self.TTL_SECONDS)
        failures, _ = pipe.execute()
        return int(failures)

    def open(self, key: str, at: float) -> None:
        pipe = self._client.pipeline()
        pipe.hset(self._key(key), "opened_at", str(at))
        pipe.hdel(self._key(key), "probe_at")
        pipe.expire(self._key(key), self.TTL_SECONDS)
        pipe.execute()

    def claim_probe(self, key: str, at: float, stale_before: float) -> bool:
        return bool(self._claim(keys=[self._key(key)], args=[str(at), str(stale_before)]))

    def reset(self, key: str) -> None:
        self._client.delete(self._key(key))


_default_store: BreakerStore | None = None


def default_store() -> BreakerStore:
    global _default_store
    if _default_store is None:
        client = shared_redis()
        _default_store = RedisBreakerStore(client) if client is not None else InProcessBreakerStore()
    return _default_store


class CircuitBreaker:
    def __init__(
        self,
        provider: str,
        *,
        threshold: int = 5,
        cooldown: dt.timedelta = dt.timedelta(seconds=60),
        store: BreakerStore | None = None,
    ) -> None:
        self.provider = provider
        self.threshold = threshold
        self.cooldown = cooldown
        self._store = store if store is not None else default_store()
        self._fallback = InProcessBreakerStore()

    def _call(self, method: str, *args: object) -> object:
        # A breaker that cannot reach Redis falls back to this process's view rather than failing calls.
        try:
            return getattr(self._store, method)(self.provider, *args)
        except redis.RedisError as exc:
            logger.warning("circuit breaker: Redis unavailable (%s); using in-process state", type(exc).__name__)
            return getattr(self._fallback, method)(self.provider, *args)

    def state(self) -> State:
        snap = self._call("load")
        assert isinstance(snap, Snapshot)
        if snap.opened_at is None:
            return "closed"
        if clock.now().timestamp() < snap.opened_at + self.cooldown.total_seconds():
            return "open"
        return "half_open"

    def before_call(self, operation: str) -> None:
        """Raise CircuitOpenError unless this call may go to the vendor."""
        snap = self._call("load")
        assert isinstance(snap, Snapshot)
        if snap.opened_at is None:
            return
        now = clock.now().timestamp()
        reopen_at = snap.opened_at + self.cooldown.total_seconds()
        if now >= reopen_at and self._call("claim_probe", now, now - self.cooldown.total_seconds()):
            logger.info("circuit %s half-open: probing with %s", self.provider, operation)
            return
        raise CircuitOpenError(
            f"circuit open after {snap.failures} consecutive failures; retry after {max(0, reopen_at - now):.0f}s",
            provider=self.provider,
            operation=operation,
        )

    def record_success(self) -> None:
        snap = self._call("load")
        assert isinstance(snap, Snapshot)
        if snap.failures or snap.opened_at is not None:
            self._call("reset")

    def record_failure(self) -> None:
        failures = self._call("add_failure")
        assert isinstance(failures, int)
        snap = self._call("load")
        assert isinstance(snap, Snapshot)
        # A failed probe (the circuit was open) reopens at once; a closed circuit opens at the threshold.
        if snap.opened_at is not None or failures >= self.threshold:
            if snap.opened_at is None:
                logger.warning("circuit %s opened after %d consecutive failures", self.provider, failures)
            self._call("open", clock.now().timestamp())


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
