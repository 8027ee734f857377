"""Staff feedback on agents' responses (ResponseTracking): good or bad, with a note."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser

from learning.models import ResponseTracking
from smarter_team import clock
from smarter_team.db import update_in_chunks


def record_feedback(
    *, trackings: Iterable[ResponseTracking], user: AbstractBaseUser | None, good: bool, note: str = ""
) -> int:
    """Set the outcome staff judged. It outranks the automatic outcome (after_run will not overwrite it)."""
    now = clock.now()
    return update_in_chunks(
        ResponseTracking.objects.all(),
        (t.pk for t in trackings),
        actual_outcome=ResponseTracking.Outcome.SUCCESS if good else ResponseTracking.Outcome.FAILURE,
        user_feedback=note.strip(),
        feedback_by=user if user is not None and user.pk else None,
        feedback_at=now,
        updated_at=now,
    )
