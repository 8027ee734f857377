"""What the offboarding agents share: the checklist, ticking an item, closing the offboarding."""

from __future__ import annotations

from pydantic import BaseModel

from delivery.models import ClientAccess, Offboarding
from delivery.services.offboarding import complete_offboarding, complete_offboarding_item, record_access_revoked

# The agency's offboarding checklist; each item is ticked by the agent that does it (the final
# invoice by offboarding_orchestrator, when invoice_generation has done its part).
FINAL_INVOICE = "Final invoice"
HANDOVER = "Handover document"
ACCESS = "Access revocation"
SURVEY = "Exit survey"
CHECKLIST = (FINAL_INVOICE, HANDOVER, ACCESS, SURVEY)
LIVE_ACCESS = (ClientAccess.Status.REQUESTED, ClientAccess.Status.GRANTED)


class OffboardingRef(BaseModel):
    offboarding_id: int


def item_done(offboarding: Offboarding, item: str) -> bool:
    return any(e.get("item") == item and e.get("done_at") for e in offboarding.checklist or [])


def tick(offboarding_id: int, item: str) -> bool:
    """Tick ``item`` (when it is on the list and the offboarding is open); True when newly done.
    The offboarding closes when it was the last one."""
    offboarding = Offboarding.objects.filter(pk=offboarding_id).first()
    if offboarding is None or offboarding.status != Offboarding.Status.IN_PROGRESS:
        return False
    if item_done(offboarding, item) or not any(e.get("item") == item for e in offboarding.checklist or []):
        return False
    finish_if_done(complete_offboarding_item(offboarding=offboarding, item=item))
    return True


def finish_if_done(offboarding: Offboarding) -> bool:
    """Close the offboarding once every item is done: the client is offboarded from then on."""
    if offboarding.status != Offboarding.Status.IN_PROGRESS:
        return False
    if any(not e.get("done_at") for e in offboarding.checklist or []):
        return False
    complete_offboarding(offboarding=offboarding)
    return True


def after_revocation(offboarding_id: int) -> bool:
    """Once nothing we were given is still held, the accesses are revoked: time and item."""
    offboarding = Offboarding.objects.filter(pk=offboarding_id).first()
    if offboarding is None:
        return False
    if ClientAccess.objects.filter(client_id=offboarding.client_id, status__in=LIVE_ACCESS).exists():
        return False
    record_access_revoked(offboarding=offboarding)
    tick(offboarding.pk, ACCESS)
    return True
