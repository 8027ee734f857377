"""Who the staff groups are: the addresses escalations and manager reports go to."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model


def staff_emails(groups: Iterable[str]) -> dict[str, list[str]]:
    """Per group (an auth group of the same name): its active members' addresses, each once."""
    wanted = set(groups)
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=wanted)
        .exclude(email="")
        .order_by("pk")
        .values_list("groups__name", "email")
    )
    found: dict[str, list[str]] = {g: [] for g in wanted}
    for group, email in users:
        if group in found and email not in found[group]:
            found[group].append(email)
    return found
