"""Status moves that also write other fields."""

from __future__ import annotations

from collections.abc import Sequence

from smarter_team.models import StatefulModel


def move_status(obj: StatefulModel, new: str, *, also: Sequence[str] = ()) -> bool:
    """``transition_to`` that saves ``also`` even when the status does not change.

    ``transition_to`` writes nothing when the row already has ``new`` (the idempotent case), so a
    second reschedule or a progress update on an in-progress row would otherwise drop its fields.
    """
    changed = obj.transition_to(new, also=also)
    if not changed and also:
        obj.save(update_fields=list(also))
    return changed
