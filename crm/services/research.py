"""Write paths for the research side of the crm: niches chosen or dropped."""

from __future__ import annotations

from django.db import transaction

from crm.models import Niche

__all__ = ["niche_set_status"]


@transaction.atomic
def niche_set_status(*, niche: Niche, status: str) -> bool:
    """Select, drop or reconsider a niche (InvalidTransition when not allowed); returns whether it changed."""
    locked = Niche.objects.select_for_update().get(pk=niche.pk)
    changed = locked.transition_to(status)
    niche.status = locked.status
    return changed
