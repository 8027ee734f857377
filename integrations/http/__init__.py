"""The one HTTP base client of every provider: errors, rate limit, breaker, pagination, usage."""

from integrations.http.client import BaseClient
from integrations.http.errors import (
    AuthError,
    CircuitOpenError,
    InvalidResponseError,
    NotFoundError,
    PermanentError,
    ProviderError,
    RateLimitedError,
    TransientError,
    UnsupportedOperationError,
)
from integrations.http.ratelimit import Rate
from integrations.http.responses import parse_retry_after
from integrations.http.usage import Usage

__all__ = [
    "AuthError",
    "BaseClient",
    "CircuitOpenError",
    "InvalidResponseError",
    "NotFoundError",
    "PermanentError",
    "ProviderError",
    "Rate",
    "RateLimitedError",
    "TransientError",
    "UnsupportedOperationError",
    "Usage",
    "parse_retry_after",
]
