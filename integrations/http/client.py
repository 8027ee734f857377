"""The one httpx base client every provider client derives from.

A provider module sets URL constants and auth style and writes thin methods; this class does
the rest for every call: auth, timeouts, a shared rate limit, retries with backoff and jitter
honouring Retry-After, a circuit breaker, typed errors, response validation with pydantic, an
ApiUsage row per attempt and a failure report to the learning app.

Retrying a request that changes something is how an email gets sent twice. So a non-idempotent
call (POST/PATCH without an idempotency key the vendor honours; pass ``idempotent=True`` when it
does) is retried only when the vendor cannot have acted on it: a 429, or a connection that was
never made. Any other failure of such a call is raised at once, for the outbox to resolve.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar, Literal, TypeVar

import httpx
from django.conf import settings

from integrations.http import responses
from integrations.http.breaker import CircuitBreaker
from integrations.http.errors import (
    AuthError,
    InvalidResponseError,
    ProviderError,
    RateLimitedError,
    TransientError,
    error_for_status,
)
from integrations.http.ratelimit import Limiter, Rate, acquire, default_limiter
from integrations.http.responses import parse_retry_after
from integrations.http.shared import http_client
from integrations.http.usage import Usage, record_usage, report_failure, safe_url
from integrations.values import HealthResult
from smarter_team.logging import redact

logger = logging.getLogger("integrations.http")

M = TypeVar("M")
R = TypeVar("R")
AuthStyle = Literal["bearer", "header", "query", "none"]
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _default_sleep(seconds: float) -> None:
    # Looked up at call time, so tests can make every client's waits instant in one place.
    time.sleep(seconds)


class BaseClient:
    # --- what a provider module sets -------------------------------------------------------------
    name: ClassVar[str] = ""
    base_url: ClassVar[str] = ""
    required_keys: ClassVar[tuple[str, ...]] = ()
    api_key_name: ClassVar[str] = ""  # the INTEGRATION_KEYS entry that authenticates calls
    auth_style: ClassVar[AuthStyle] = "bearer"
    auth_header: ClassVar[str] = "Authorization"
    auth_query_param: ClassVar[str] = "api_key"
    default_headers: ClassVar[Mapping[str, str]] = {}
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=5.0)
    max_attempts: ClassVar[int] = 4
    backoff_base: ClassVar[float] = 0.5
    backoff_cap: ClassVar[float] = 20.0
    # A vendor asking us to wait longer than this gets the run back to the scheduler instead of a
    # worker asleep for minutes.
    max_retry_after: ClassVar[float] = 60.0
    breaker_threshold: ClassVar[int] = 5
    breaker_cooldown: ClassVar[dt.timedelta] = dt.timedelta(seconds=60)

    def __init__(
        self,
        *,
        api_key: str | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        limiter: Limiter | None = None,
        breaker: CircuitBreaker | None = None,
        rng: random.Random | None = None,
        timeout: float | None = None,
    ) -> None:
        self._api_key = api_key
        self._http = http
        self._sleep = sleep
        self._limiter = limiter
        self._breaker = breaker
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.timeout = timeout if timeout is not None else float(settings.HTTP_TIMEOUT_SECONDS)

    # --- configuration ---------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        (self._sleep or _default_sleep)(seconds)

    @staticmethod
    def setting(key_name: str) -> str:
        return str(settings.INTEGRATION_KEYS.get(key_name, ""))

    @property
    def api_key(self) -> str:
        return self._api_key if self._api_key is not None else self.setting(self.api_key_name)

    @property
    def http(self) -> httpx.Client:
        return self._http or http_client()

    @property
    def limiter(self) -> Limiter:
        return self._limiter or default_limiter()

    @property
    def breaker(self) -> CircuitBreaker:
        if self._breaker is None:
            self._breaker = CircuitBreaker(self.name, threshold=self.breaker_threshold, cooldown=self.breaker_cooldown)
        return self._breaker

    def _require_key(self, operation: str) -> str:
        key = self.api_key
        if not key:
            raise AuthError(
                f"{self.api_key_name or 'the API key'} is not configured", provider=self.name, operation=operation
            )
        return key

    def auth_headers(self, operation: str) -> dict[str, str]:
        """Headers that authenticate a request; OAuth providers override this."""
        if self.auth_style == "bearer":
            return {"Authorization": f"Bearer {self._require_key(operation)}"}
        if self.auth_style == "header":
            return {self.auth_header: self._require_key(operation)}
        return {}

    def auth_params(self, operation: str) -> dict[str, str]:
        if self.auth_style == "query":
            return {self.auth_query_param: self._require_key(operation)}
        return {}

    def url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, capped."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    @staticmethod
    def error_message(response: httpx.Response) -> str:
        """The vendor's own short explanation; providers with another error shape override this."""
        return responses.error_message(response)

    # --- calls -----------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        """One call, returning the raw response (for bodies that are not JSON: audio, files)."""
        return self._perform(method, path, operation=operation, parse=lambda r: r, **kwargs)

    def request_json(self, method: str, path: str, *, operation: str, model: type[M], **kwargs: Any) -> M:
        """One call whose JSON body must validate as ``model`` (a pydantic model, list[...], dict)."""

        def parse(response: httpx.Response) -> M:
            return self.parse(response, model, operation=operation)

        return self._perform(method, path, operation=operation, parse=parse, **kwargs)

    def get(self, path: str, *, operation: str, model: type[M], **kwargs: Any) -> M:
        return self.request_json("GET", path, operation=operation, model=model, **kwargs)

    def post(self, path: str, *, operation: str, model: type[M], **kwargs: Any) -> M:
        return self.request_json("POST", path, operation=operation, model=model, **kwargs)

    def parse(self, response: httpx.Response, model: type[M], *, operation: str) -> M:
        return responses.parse(response, model, provider=self.name, operation=operation)

    def validate(self, data: Any, model: type[M], *, operation: str, status_code: int | None = None) -> M:
        return responses.validate(data, model, provider=self.name, operation=operation, status_code=status_code)

    def _perform(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        parse: Callable[[httpx.Response], R],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        content: bytes | str | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        attempts: int | None = None,
        timeout: float | None = None,
        meter: Callable[[R], Usage] | None = None,
        authenticate: bool = True,
        accept: Collection[int] = (),
    ) -> R:
        method = method.upper()
        url = self.url(path)
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = attempts or self.max_attempts
        try:
            self.breaker.before_call(operation)
            attempt = 0
            while True:
                attempt += 1
                if self.rate is not None:
                    acquire(self.limiter, self.name, self.rate, self.sleep)
                all_headers = {**self.default_headers, **(self.auth_headers(operation) if authenticate else {})}
                all_headers.update(headers or {})
                all_params = {**(self.auth_params(operation) if authenticate else {}), **(params or {})}
                started = time.monotonic()
                try:
                    response = self.http.request(
                        method,
                        url,
                        params=all_params or None,
                        json=json,
                        data=data,
                        content=content,
                        files=files,
                        headers=all_headers,
                        timeout=timeout or self.timeout,
                    )
                except httpx.TransportError as exc:
                    failure = self._transport_failure(exc, method=method, url=url, operation=operation, started=started)
                    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                    if attempt < attempts and (idempotent or never_sent):
                        self.sleep(self.backoff(attempt))
                        continue
                    self.breaker.record_failure()
                    raise failure from None
                latency_ms = int((time.monotonic() - started) * 1000)
                # ``accept``: statuses the caller handles itself (a 409 "already exists" on a create).
                if response.is_success or response.status_code in accept:
                    return self._success(
                        response, parse, meter, method=method, url=url, operation=operation, latency_ms=latency_ms
                    )
                error = error_for_status(
                    response.status_code,
                    provider=self.name,
                    operation=operation,
                    message=self.error_message(response),
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
                self._log_attempt(method, url, operation, response.status_code, latency_ms, type(error).__name__)
                record_usage(
                    provider=self.name,
                    operation=operation,
                    method=method,
                    url=url,
                    status_code=response.status_code,
                    success=False,
                    latency_ms=latency_ms,
                    error_type=type(error).__name__,
                )
                # A 429 was refused, not processed: safe to repeat whatever the method.
                retryable = isinstance(error, RateLimitedError) or (error.transient and idempotent)
                if retryable and attempt < attempts:
                    retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
                    delay = retry_after if retry_after is not None else self.backoff(attempt)
                    if delay <= self.max_retry_after:
                        self.sleep(delay)
                        continue
                if error.transient and not isinstance(error, RateLimitedError):
                    self.breaker.record_failure()
                elif not error.transient:
                    self.breaker.record_success()  # the vendor is up; the request was wrong
                raise error
        except ProviderError as exc:
            report_failure(exc)
            raise

    def _success(
        self,
        response: httpx.Response,
        parse: Callable[[httpx.Response], R],
        meter: Callable[[R], Usage] | None,
        *,
        method: str,
        url: str,
        operation: str,
        latency_ms: int,
    ) -> R:
        self.breaker.record_success()
        try:
            result = parse(response)
        except InvalidResponseError as exc:
            self._log_attempt(method, url, operation, response.status_code, latency_ms, "InvalidResponseError")
            record_usage(
                provider=self.name,
                operation=operation,
                method=method,
                url=url,
                status_code=response.status_code,
                success=False,
                latency_ms=latency_ms,
                error_type="InvalidResponseError",
            )
            logger.warning("%s.%s: unexpected response: %s", self.name, operation, exc.detail)
            raise
        self._log_attempt(method, url, operation, response.status_code, latency_ms, "")
        record_usage(
            provider=self.name,
            operation=operation,
            method=method,
            url=url,
            status_code=response.status_code,
            success=True,
            latency_ms=latency_ms,
            usage=meter(result) if meter else None,
        )
        return result

    def _transport_failure(
        self, exc: httpx.TransportError, *, method: str, url: str, operation: str, started: float
    ) -> TransientError:
        latency_ms = int((time.monotonic() - started) * 1000)
        kind = type(exc).__name__
        self._log_attempt(method, url, operation, None, latency_ms, kind)
        record_usage(
            provider=self.name,
            operation=operation,
            method=method,
            url=url,
            status_code=None,
            success=False,
            latency_ms=latency_ms,
            error_type=kind,
        )
        # str(exc) can carry the full request URL, query (and key) included: name the type only.
        return TransientError(f"{kind} calling {safe_url(url)}", provider=self.name, operation=operation)

    def _log_attempt(
        self, method: str, url: str, operation: str, status: int | None, latency_ms: int, error: str
    ) -> None:
        level = logging.WARNING if error else logging.INFO
        logger.log(
            level,
            "%s.%s %s %s -> %s in %dms%s",
            self.name,
            operation,
            method,
            safe_url(url),
            status if status is not None else "-",
            latency_ms,
            f" ({error})" if error else "",
        )

    def call_sdk(
        self,
        operation: str,
        call: Callable[[], R],
        *,
        classify: Callable[[Exception], ProviderError | None],
        method: str = "POST",
        url: str = "",
    ) -> R:
        """Run a vendor SDK call (Stripe) with the same breaker, usage rows and failure reports.

        The SDK does its own HTTP (through httpx, so respx still fakes it); ``classify`` turns the
        SDK's exceptions into ours, returning None for exceptions that are not the vendor's.
        """
        started = time.monotonic()
        try:
            self.breaker.before_call(operation)
            try:
                result = call()
            except Exception as exc:
                error = classify(exc)
                if error is None:
                    raise
                latency_ms = int((time.monotonic() - started) * 1000)
                self._log_attempt(
                    method, url or self.base_url, operation, error.status_code, latency_ms, type(error).__name__
                )
                record_usage(
                    provider=self.name,
                    operation=operation,
                    method=method,
                    url=url or self.base_url,
                    status_code=error.status_code,
                    success=False,
                    latency_ms=latency_ms,
                    error_type=type(error).__name__,
                )
                if error.transient and not isinstance(error, RateLimitedError):
                    self.breaker.record_failure()
                raise error from None
        except ProviderError as exc:
            report_failure(exc)
            raise
        latency_ms = int((time.monotonic() - started) * 1000)
        self.breaker.record_success()
        self._log_attempt(method, url or self.base_url, operation, 200, latency_ms, "")
        record_usage(
            provider=self.name,
            operation=operation,
            method=method,
            url=url or self.base_url,
            status_code=200,
            success=True,
            latency_ms=latency_ms,
        )
        return result

    # --- health ----------------------------------------------------------------------------------
    def ping(self) -> str:
        """The cheapest authenticated call of the vendor; returns a short detail. Providers override."""
        raise NotImplementedError

    def health_check(self) -> HealthResult:
        started = time.monotonic()
        try:
            detail = self.ping() or "ok"
        except ProviderError as exc:
            return HealthResult(ok=False, latency_ms=int((time.monotonic() - started) * 1000), detail=redact(str(exc)))
        return HealthResult(ok=True, latency_ms=int((time.monotonic() - started) * 1000), detail=detail)
