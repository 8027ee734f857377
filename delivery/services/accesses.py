"""The accesses a client gives us: asked for at onboarding, granted, and taken back when they leave.

Each row is one system and kind (their HubSpot, a user account), so offboarding revokes exactly
what was granted and nothing is forgotten. Status changes go through ``transition_to``.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from delivery.models import ClientAccess
from sales.models import Client
from smarter_team import clock

S = ClientAccess.Status


def request_access(
    *, client: Client, system: str, kind: str, role: str = "", resource_id: str = "", note: str = ""
) -> ClientAccess:
    """Record that we asked for an access (idempotent while it is requested or held; a client who
    comes back after leaving is asked again)."""
    system = system.strip()
    if not system:
        raise ValidationError("An access names the client's system", code="missing_system")
    if kind not in ClientAccess.Kind.values:
        raise ValidationError(f"Unknown access kind {kind!r}", code="invalid_kind")
    live = ClientAccess.objects.filter(client=client, system=system, kind=kind, status__in=[S.REQUESTED, S.GRANTED])
    existing = live.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ClientAccess.objects.create(
                client=client, system=system, kind=kind, role=role, resource_id=resource_id, note=note
            )
    except IntegrityError:  # asked for at the same moment by another run: theirs is the one
        return live.get()


def grant_access(*, access: ClientAccess, at: dt.datetime | None = None) -> ClientAccess:
    """The client gave it to us (a granted access keeps its first time)."""
    with transaction.atomic():
        access = ClientAccess.objects.select_for_update().get(pk=access.pk)
        if access.status == S.GRANTED:
            return access
        access.granted_at = at or clock.now()
        access.transition_to(S.GRANTED, also=["granted_at"])
        return access


def revoke_access(*, access: ClientAccess, by: str, revocation: str, note: str = "") -> ClientAccess:
    """We no longer hold it: who took it back, when and how (idempotent)."""
    if not by.strip():
        raise ValidationError("A revocation names who did it", code="missing_revoker")
    if revocation not in ClientAccess.Revocation.values:
        raise ValidationError(f"Unknown revocation {revocation!r}", code="invalid_revocation")
    with transaction.atomic():
        access = ClientAccess.objects.select_for_update().get(pk=access.pk)
        if access.status == S.REVOKED:
            return access
        access.revoked_at, access.revoked_by, access.revocation = clock.now(), by.strip()[:128], revocation
        also = ["revoked_at", "revoked_by", "revocation"]
        if note:
            access.note = f"{access.note}\n{note}".strip()
            also.append("note")
        access.transition_to(S.REVOKED, also=also)
        return access


def withdraw_access_request(*, access: ClientAccess, note: str) -> ClientAccess:
    """An access we asked for but never received: the request is closed, nothing to revoke."""
    with transaction.atomic():
        access = ClientAccess.objects.select_for_update().get(pk=access.pk)
        if access.status == S.WITHDRAWN:
            return access
        access.note = f"{access.note}\n{note}".strip()
        access.transition_to(S.WITHDRAWN, also=["note"])
        return access
