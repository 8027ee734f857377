"""The runtime's and the integrations' entry points into learning. Keep these signatures stable.

- ``record_failure``: every failed run and failed provider call -> one ErrorLog (fingerprinted).
- ``before_run``: before the agent works -> prompt rules + whether a learned condition skips/blocks it.
- ``on_failure``: when a run failed -> learned retry schedule or escalation for that error's fingerprint.
- ``after_run``: when a run finished -> rule applications closed, evidence updated, response tracked.
"""

from __future__ import annotations

from learning.services.application import BeforeRunDecision, FailurePlan, after_run, before_run, on_failure
from learning.services.errors import record_failure

__all__ = ["BeforeRunDecision", "FailurePlan", "after_run", "before_run", "on_failure", "record_failure"]
