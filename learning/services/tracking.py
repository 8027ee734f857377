"""ResponseTracking rows of finished runs: one per run, the automatic outcome unless staff judged it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection

from learning.facts_record import record_facts
from learning.models import ResponseTracking
from learning.services.errors import FACTS_ATTR, RECORD_ATTR
from smarter_team import clock

if TYPE_CHECKING:
    from agents.models import AgentRun

_TABLE = ResponseTracking._meta.db_table
# Insert the run's row, or update its automatic outcome. Staff feedback outranks the automatic
# outcome: a row with feedback is left as it is (the ORM's bulk_create(update_conflicts=...) cannot
# express that condition, hence the SQL). One statement, so the runtime can send it with its own.
UPSERT_SQL = f"""
INSERT INTO {_TABLE}
    (created_at, updated_at, run_id, agent_name, response_type, confidence_score, actual_outcome, user_feedback, facts)
VALUES (%s, %s, %s, %s, %s, %s, %s, '', %s)
ON CONFLICT (run_id) DO UPDATE SET actual_outcome = excluded.actual_outcome, updated_at = excluded.updated_at,
    facts = excluded.facts
WHERE {_TABLE}.feedback_by_id IS NULL
"""  # noqa: S608 - the model's own table name; every value is a parameter


def tracking_outcome(run: AgentRun, succeeded: bool) -> str | None:
    status = str(run.status)
    if status in ("skipped", "canceled"):
        return None  # no response was produced
    if succeeded:
        return ResponseTracking.Outcome.SUCCESS
    if status == "escalated":
        return ResponseTracking.Outcome.PENDING  # a human decides
    return ResponseTracking.Outcome.FAILURE


def confidence_of(output: Any) -> Any:
    if isinstance(output, dict):
        value = output.get("confidence")
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
            return round(float(value), 4)
    return None


def tracking_statement(*, run: AgentRun, succeeded: bool) -> tuple[str, list[Any]] | None:
    """The upsert of the run's ResponseTracking row (SQL, parameters); None when nothing is tracked."""
    tracked = tracking_outcome(run, succeeded)
    if tracked is None:
        return None
    output = run.output if isinstance(run.output, dict) else {}
    meta = ResponseTracking._meta
    now = meta.get_field("created_at").get_db_prep_value(clock.now(), connection)
    confidence = meta.get_field("confidence_score").get_db_prep_value(confidence_of(output), connection)
    response_type = str(output.get("response_type") or "run")[:64]
    # Kept for succeeding runs only: the contrast extraction needs (failures keep theirs on the ErrorLog).
    recorded: dict[str, Any] = {}
    if succeeded:
        recorded = getattr(run, RECORD_ATTR, None) or record_facts(
            run.input if isinstance(run.input, dict) else {}, getattr(run, FACTS_ATTR, None)
        )
    facts_param = meta.get_field("facts").get_db_prep_value(recorded, connection)
    return UPSERT_SQL, [now, now, run.pk, run.agent_name, response_type, confidence, tracked, facts_param]
