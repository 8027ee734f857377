"""Reading vendor responses: validation against pydantic models, Retry-After, error messages."""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any, TypeVar

import httpx
import pydantic

from integrations.http.errors import InvalidResponseError
from smarter_team import clock

M = TypeVar("M")

_adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}


def _adapter(model: Any) -> pydantic.TypeAdapter[Any]:
    # Building a TypeAdapter compiles a validator; do it once per response type.
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = pydantic.TypeAdapter(model)
    return adapter


def validate(data: Any, model: type[M], *, provider: str, operation: str, status_code: int | None = None) -> M:
    """``data`` as ``model``, or InvalidResponseError naming the first field that does not fit."""
    try:
        return _adapter(model).validate_python(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise InvalidResponseError(
            str(first["msg"]), provider=provider, operation=operation, field=field, status_code=status_code
        ) from None


def parse(response: httpx.Response, model: type[M], *, provider: str, operation: str) -> M:
    try:
        data = response.json()
    except ValueError:
        raise InvalidResponseError(
            "body is not JSON",
            provider=provider,
            operation=operation,
            field="<body>",
            status_code=response.status_code,
        ) from None
    return validate(data, model, provider=provider, operation=operation, status_code=response.status_code)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - clock.now()).total_seconds())


def error_message(response: httpx.Response) -> str:
    """The vendor's own short explanation, if its error body has one."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "detail", "errors", "title"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("type")
            if value:
                return str(value)[:300]
    return response.reason_phrase or "error"
