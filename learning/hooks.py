"""The runtime's and the integrations' entry points into learning. Keep these signatures stable.

- ``record_failure``: every failed run and failed provider call -> one ErrorLog (fingerprinted).
- ``record_webhook_failure``: a webhook event whose processing failed -> one ErrorLog.
- ``before_run``: before the agent works -> prompt rules + whether a learned condition skips/blocks it.
- ``on_failure``: when a run failed -> learned retry schedule or escalation for that error's fingerprint.
- ``after_run``: when a run finished -> rule applications closed, evidence updated, response tracked.
- ``prompt_rules_for``: the prompt texts one run may see (its holdout rules excluded): Batches.
- ``after_run_statement``: ``after_run`` as one SQL statement when that is all it would write (the
  runtime sends it with the outcome's own UPDATE, one round trip); None -> call ``after_run``.
"""

from __future__ import annotations

from learning.services.application import (
    BeforeRunDecision,
    FailurePlan,
    after_run,
    after_run_statement,
    before_run,
    on_failure,
    prompt_rules_for,
)
from learning.services.errors import record_failure, record_webhook_failure

__all__ = [
    "BeforeRunDecision",
    "FailurePlan",
    "after_run",
    "after_run_statement",
    "before_run",
    "on_failure",
    "prompt_rules_for",
    "record_failure",
    "record_webhook_failure",
]
