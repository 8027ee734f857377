"""ApiUsage rows and failure reports for provider calls.

One ApiUsage row per HTTP attempt (a retried call leaves one row per try, so 429 storms are
visible), attributed to the agent run in ``smarter_team.context``. The URL is stored as scheme,
host and path: a query string may carry a key, so it never reaches the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

import httpx
from django.db import DatabaseError, transaction

from integrations.http.errors import ProviderError
from integrations.models import ApiUsage
from smarter_team.context import current_agent_name, current_run_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Usage:
    """What a call consumed, when the vendor tells us (tokens, credits, characters)."""

    units: Decimal = Decimal("0")
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal("0")


def safe_url(url: httpx.URL | str) -> str:
    """Scheme, host and path only: no userinfo, no query, no fragment."""
    parsed = httpx.URL(str(url))
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"[:500]


def record_usage(
    *,
    provider: str,
    operation: str,
    method: str,
    url: httpx.URL | str,
    status_code: int | None,
    success: bool,
    latency_ms: int,
    error_type: str = "",
    usage: Usage | None = None,
) -> None:
    usage = usage or Usage()
    try:
        # A savepoint: a failed insert must not break the caller's transaction.
        with transaction.atomic():
            ApiUsage.objects.create(
                provider=provider,
                operation=operation[:64],
                method=method[:8],
                url=safe_url(url),
                status_code=status_code,
                success=success,
                error_type=error_type[:32],
                latency_ms=max(0, latency_ms),
                units=usage.units,
                tokens_in=usage.tokens_in,
                tokens_out=usage.tokens_out,
                cost=usage.cost,
                run_id=current_run_id.get(),
            )
    except DatabaseError as exc:
        # Telemetry must never turn a successful vendor call into a failure (an email was sent).
        logger.error("could not record ApiUsage for %s.%s: %s", provider, operation, type(exc).__name__)


def report_failure(exc: ProviderError) -> None:
    """Tell the learning app about a call that finally failed (after retries)."""
    # Imported here: learning depends on the integrations app's models, not the other way round.
    from agents.models import AgentRun
    from learning.hooks import record_failure

    run_id = current_run_id.get()
    try:
        with transaction.atomic():
            run = AgentRun.objects.filter(pk=run_id).first() if run_id is not None else None
            record_failure(
                run=run,
                agent_name=current_agent_name.get(),
                exc=exc,
                step=exc.operation,
                provider=exc.provider,
                transient=exc.transient,
            )
    except DatabaseError as db_exc:
        # The provider error itself still reaches the caller; only its ErrorLog row is missing.
        logger.error("could not record failure of %s.%s: %s", exc.provider, exc.operation, type(db_exc).__name__)
