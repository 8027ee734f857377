"""From qualified leads to sent campaign emails on simulated time (the send path of issue #16).

The lead flow's setup (seed_demo, the schedules on business time, the sandbox market) qualifies
leads; campaign_manager puts them into campaigns, copywriting, spam_check and personalization
prepare them, and after one operator approval per campaign sequence_scheduler sends, each email
once, inside the lead's business window, with the unsubscribe footer.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import Escalation
from agents.services.escalations import decide
from agents.testing import advance
from crm.agents.campaign._timing import is_business_day
from crm.models import AgencyProfile, Enrollment, Message
from crm.services.suppression import is_suppressed
from tests.e2e.expected import unexpected_runs

pytestmark = pytest.mark.django_db


def test_qualified_leads_are_enrolled_and_emailed_in_their_windows(
    frozen_clock: Any, settings: Any, django_user_model: Any
) -> None:
    settings.LEAD_LIST_DAILY_QUOTA = 20
    call_command("seed_demo", verbosity=0)
    call_command("sync_schedules", verbosity=0)
    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(hours=30), step=dt.timedelta(minutes=30))

    assert Enrollment.objects.exists()
    assert not Message.objects.exists()  # nothing before an operator saw the first batch
    gates = Escalation.objects.filter(dedupe_key__endswith=":first-batch", status=Escalation.Status.OPEN)
    assert gates.exists()
    ops = django_user_model.objects.create_user("ops")
    for gate in gates:
        assert gate.payload["messages"], "the approval shows the copy"
        decide(escalation=gate, approve=True, user=ops, note="first batch approved")
    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(hours=48), step=dt.timedelta(hours=1))

    sent = Message.objects.filter(
        direction="out",
        enrollment__isnull=False,
        status__in=["sent", "delivered", "opened", "clicked", "replied", "bounced"],
    )  # cold email only: replies, reminders and recaps follow the conversation, not send windows
    assert sent.exists()
    address = AgencyProfile.objects.get(pk=1).postal_address.strip()
    keys = list(Message.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    for message in sent.select_related("enrollment__lead", "enrollment__campaign"):
        assert message.enrollment is not None and message.sent_at is not None
        lead, campaign = message.enrollment.lead, message.enrollment.campaign
        zone = zoneinfo.ZoneInfo(lead.time_zone or "UTC")
        local = message.sent_at.astimezone(zone)
        assert is_business_day(local.date(), weekdays=(1, 2, 3, 4, 5), country=lead.country or ""), local
        assert campaign.send_window_start <= local.time() < campaign.send_window_end, local
        assert address in message.body and "Unsubscribe:" in message.body
        assert message.headers.get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        assert "{{" not in message.body and "{{" not in message.subject
    assert not any(
        is_suppressed(m.to_email) for m in sent.filter(sent_at__gte=frozen_clock.now - dt.timedelta(hours=1))
    )
    assert not unexpected_runs().exists()  # but the finder's refusals of webmail listings (tests/e2e/expected.py)
