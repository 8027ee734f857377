"""Typed provider errors: what went wrong, where, and whether trying again can help.

Every provider method raises only these. ``transient`` is what the runtime's retry policy and
the learning hooks read: True for rate limits, 5xx, timeouts and an open circuit; False for
anything that will fail the same way again (bad auth, not found, bad request, a response that
does not match what we expect). Messages name provider and operation, never a secret: they are
passed through the log redactor before they are stored on the exception.
"""

from __future__ import annotations

from smarter_team.logging import redact


class ProviderError(Exception):
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        status_code: int | None = None,
    ) -> None:
        self.provider = provider
        self.operation = operation
        self.status_code = status_code
        self.detail = redact(message)
        status = f" (HTTP {status_code})" if status_code is not None else ""
        super().__init__(f"{provider}.{operation}{status}: {self.detail}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructors defeat Exception's default pickling; restore the state directly.
        return (_restore, (type(self), self.args, self.__dict__))


class TransientError(ProviderError):
    """Worth retrying later: 5xx, a timeout, a dropped connection."""

    transient = True


class RateLimitedError(TransientError):
    """HTTP 429 (or a vendor's equivalent) after our own retries ran out."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        status_code: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation, status_code=status_code)
        self.retry_after = retry_after


class CircuitOpenError(TransientError):
    """The provider failed too often lately; calls are refused until the cooldown ends."""


class PermanentError(ProviderError):
    """Will fail the same way again until someone changes something."""


class AuthError(PermanentError):
    """401/403: the key is wrong, revoked or lacks a scope."""


class NotFoundError(PermanentError):
    """404: the object does not exist at the vendor."""


class UnsupportedOperationError(PermanentError):
    """The chosen provider cannot do this operation of its role."""


class InvalidResponseError(PermanentError):
    """The vendor answered, but not in the shape we expect (bad JSON, a missing or wrong field)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        field: str,
        status_code: int | None = None,
    ) -> None:
        self.field = field
        super().__init__(f"field {field!r}: {message}", provider=provider, operation=operation, status_code=status_code)


def _restore(cls: type[ProviderError], args: tuple[object, ...], state: dict[str, object]) -> ProviderError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def error_for_status(
    status_code: int, *, provider: str, operation: str, message: str, retry_after: float | None = None
) -> ProviderError:
    """Map an HTTP status to the error type the retry policy understands."""
    if status_code == 429:
        return RateLimitedError(
            message, provider=provider, operation=operation, status_code=status_code, retry_after=retry_after
        )
    cls: type[ProviderError] = PermanentError
    if status_code in (401, 403):
        cls = AuthError
    elif status_code in (404, 410):
        cls = NotFoundError
    elif status_code in (408, 425) or status_code >= 500:
        cls = TransientError
    return cls(message, provider=provider, operation=operation, status_code=status_code)
