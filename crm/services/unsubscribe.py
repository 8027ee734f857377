"""One-click unsubscribe (RFC 8058): the signed link in every cold email, and honouring it at once.

The link names the lead by a signed id, never by address, so the URL carries no personal data and
cannot be forged or enumerated. It never expires: an unsubscribe link must work as long as the
email exists. Honouring it is the suppression service's opt-out (the same path as a provider's
unsubscribe event): the address is suppressed and every enrollment stopped, at once, idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from crm.models import Lead
from crm.services.suppression import record_opt_out

SALT = "crm.unsubscribe"


class InvalidLink(ValueError):
    """The token was not made by us (tampered, truncated, or from another deployment)."""


def token_for(lead: Lead) -> str:
    return signing.Signer(salt=SALT).sign(str(lead.pk))


def link_for(lead: Lead) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('unsubscribe', kwargs={'token': token_for(lead)})}"


def headers_for(lead: Lead) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers every cold email carries (mail clients' one-click button)."""
    return {
        "List-Unsubscribe": f"<{link_for(lead)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@dataclass(frozen=True)
class Unsubscribed:
    lead_id: int
    already: bool


def unsubscribe(token: str) -> Unsubscribed:
    """Honour a click (GET) or a one-click POST: suppress the lead's address and stop its enrollments."""
    try:
        lead_id = int(signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise InvalidLink("this unsubscribe link is not valid") from None
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or not lead.email:
        # Erased or merged away: its address was suppressed (as a hash) when that happened.
        return Unsubscribed(lead_id=lead_id, already=True)
    already = lead.do_not_contact
    record_opt_out(email=lead.email, reason="unsubscribe", source="one_click_link")
    return Unsubscribed(lead_id=lead_id, already=already)
