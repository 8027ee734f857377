"""Write paths for sending mailboxes: pausing a mailbox protects its domain's reputation."""

from __future__ import annotations

from django.db import transaction

from crm.models import Mailbox

__all__ = ["mailbox_pause", "mailbox_resume"]


@transaction.atomic
def mailbox_pause(*, mailbox: Mailbox, reason: str) -> bool:
    """Stop sending from a mailbox (the sender skips paused ones); returns whether it changed."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if locked.paused:
        return False
    locked.paused, locked.paused_reason = True, reason[:255]
    locked.save(update_fields=["paused", "paused_reason"])
    mailbox.paused, mailbox.paused_reason = locked.paused, locked.paused_reason
    return True


@transaction.atomic
def mailbox_resume(*, mailbox: Mailbox) -> bool:
    """Allow sending from a paused mailbox again; returns whether it changed."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if not locked.paused:
        return False
    locked.paused, locked.paused_reason = False, ""
    locked.save(update_fields=["paused", "paused_reason"])
    mailbox.paused, mailbox.paused_reason = locked.paused, locked.paused_reason
    return True
