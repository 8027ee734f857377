"""Process-wide resources of the base client: the httpx connection pool and the Redis connection.

Both are created lazily and re-created after a fork, so a Celery prefork child never reuses a
socket its parent opened.
"""

from __future__ import annotations

import os
import threading

import httpx
import redis
from django.conf import settings

_lock = threading.Lock()
_http: tuple[int, httpx.Client] | None = None
_redis: tuple[int, str, redis.Redis] | None = None


def http_client() -> httpx.Client:
    global _http
    pid = os.getpid()
    if _http is None or _http[0] != pid:
        with _lock:
            if _http is None or _http[0] != pid:
                # Timeouts are set per request; the pool is shared by every provider of the process.
                client = httpx.Client(
                    timeout=settings.HTTP_TIMEOUT_SECONDS,
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
                )
                _http = (pid, client)
    return _http[1]


def shared_key(*parts: str) -> str:
    """A key in the Redis that workers share, under REDIS_KEY_PREFIX.

    The prefix keeps two deployments (or two test workers) on one Redis from reading, counting or
    deleting each other's tokens, buckets and breakers.
    """
    return ":".join((settings.REDIS_KEY_PREFIX, *parts))


def shared_redis() -> redis.Redis | None:
    """The Redis that workers share, or None in the embedded mode (no REDIS_URL)."""
    global _redis
    url = settings.REDIS_URL
    if not url:
        return None
    pid = os.getpid()
    if _redis is None or _redis[0] != pid or _redis[1] != url:
        with _lock:
            if _redis is None or _redis[0] != pid or _redis[1] != url:
                client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
                _redis = (pid, url, client)
    return _redis[2]
