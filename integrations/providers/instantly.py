"""Instantly (API v2): cold email at scale through warmed mailboxes (the Outreach role).

API reference: https://developer.instantly.ai/api/v2

Instantly sends first touches from campaigns, not one by one. ``send_email`` without a thread
therefore adds the recipient as a lead, with the personalised subject and body as custom
variables, to a one-step campaign per sending mailbox whose template is ``{{subject}}`` /
``{{body}}``. ``skip_if_in_campaign`` makes a retried add a no-op, so a retry never sends twice.
A reply (``thread_id`` = the Instantly email id replied to) goes through ``emails/reply``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.http.pagination import by_cursor
from integrations.registry import register_provider
from integrations.values import MessageState, MessageStatus, SentEmail

CAMPAIGNS = "campaigns"  # https://developer.instantly.ai/api/v2/campaign/listcampaign (GET), createcampaign (POST)
CAMPAIGN_ACTIVATE = "campaigns/{id}/activate"  # https://developer.instantly.ai/api/v2/campaign/activatecampaign
LEADS = "leads"  # https://developer.instantly.ai/api/v2/lead/createlead
LEAD = "leads/{id}"  # https://developer.instantly.ai/api/v2/lead/getlead
LEADS_LIST = "leads/list"  # https://developer.instantly.ai/api/v2/lead/listleads (POST with filters)
EMAIL = "emails/{id}"  # https://developer.instantly.ai/api/v2/email/getemail
EMAILS = "emails"  # https://developer.instantly.ai/api/v2/email/listemail
EMAIL_REPLY = "emails/reply"  # https://developer.instantly.ai/api/v2/email/replytoemail

ONE_OFF_CAMPAIGN = "Smarter Team one-off {mailbox}"
# Instantly lead status codes: https://developer.instantly.ai/api/v2/lead/getlead (status)
_LEAD_STATUS: dict[int, MessageState] = {1: "queued", 2: "queued", 3: "sent", -1: "bounced", -2: "failed", -3: "failed"}
_campaign_ids: dict[str, str] = {}
_campaign_lock = threading.Lock()


class Campaign(pydantic.BaseModel):
    id: str
    name: str
    status: int = 0


class CampaignPage(pydantic.BaseModel):
    items: list[Campaign]
    next_starting_after: str | None = None


class Lead(pydantic.BaseModel):
    id: str
    email: str
    status: int = 1
    email_reply_count: int = 0
    email_open_count: int = 0


class LeadPage(pydantic.BaseModel):
    items: list[Lead]
    next_starting_after: str | None = None


class Email(pydantic.BaseModel):
    id: str
    thread_id: str = ""
    message_id: str = ""
    subject: str = ""
    ue_type: int | None = None  # 1 sent from campaign, 2 received, 3 sent manually


class EmailPage(pydantic.BaseModel):
    items: list[Email]
    next_starting_after: str | None = None


def _one_off_campaign_body(mailbox: str) -> dict[str, Any]:
    every_day = {str(day): True for day in range(7)}
    return {
        "name": ONE_OFF_CAMPAIGN.format(mailbox=mailbox),
        "email_list": [mailbox],
        "stop_on_reply": True,
        "campaign_schedule": {
            "schedules": [
                {
                    "name": "always",
                    "timing": {"from": "00:00", "to": "23:59"},
                    "days": every_day,
                    "timezone": "Etc/GMT+12",
                }
            ]
        },
        # Our send windows and caps are enforced before the act; the campaign only carries the message.
        "sequences": [
            {"steps": [{"type": "email", "delay": 0, "variants": [{"subject": "{{subject}}", "body": "{{body}}"}]}]}
        ],
    }


@register_provider("outreach", "instantly")
class InstantlyClient(BaseClient):
    name = "instantly"
    base_url = "https://api.instantly.ai/api/v2"
    api_key_name = "INSTANTLY_API_KEY"
    required_keys = ("INSTANTLY_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=5.0)

    # --- campaigns and leads -----------------------------------------------------------------------
    def list_campaigns(self, *, search: str = "") -> Iterator[Campaign]:
        def fetch(cursor: str | None) -> tuple[list[Campaign], str | None]:
            params: dict[str, Any] = {"limit": 100, **({"search": search} if search else {})}
            if cursor:
                params["starting_after"] = cursor
            page = self.get(CAMPAIGNS, operation="list_campaigns", model=CampaignPage, params=params)
            return page.items, page.next_starting_after

        return by_cursor(fetch)

    def create_campaign(self, body: Mapping[str, Any]) -> Campaign:
        return self.post(CAMPAIGNS, operation="create_campaign", model=Campaign, json=dict(body))

    def activate_campaign(self, campaign_id: str) -> None:
        self.request(
            "POST", CAMPAIGN_ACTIVATE.format(id=campaign_id), operation="activate_campaign", json={}, idempotent=True
        )

    def add_lead(
        self,
        *,
        campaign_id: str,
        email: str,
        first_name: str = "",
        last_name: str = "",
        company_name: str = "",
        custom_variables: Mapping[str, str] | None = None,
    ) -> Lead:
        return self.post(
            LEADS,
            operation="add_lead",
            model=Lead,
            json={
                "campaign": campaign_id,
                "email": email,
                "first_name": first_name,
                "last_name": last_name,
                "company_name": company_name,
                "custom_variables": dict(custom_variables or {}),
                "skip_if_in_campaign": True,
            },
            idempotent=True,  # skip_if_in_campaign: adding the same lead twice is a no-op
        )

    def get_lead(self, lead_id: str) -> Lead:
        return self.get(LEAD.format(id=lead_id), operation="get_lead", model=Lead)

    def list_emails(self, *, campaign_id: str = "", lead: str = "") -> Iterator[Email]:
        def fetch(cursor: str | None) -> tuple[list[Email], str | None]:
            params: dict[str, Any] = {"limit": 100}
            params.update({k: v for k, v in (("campaign_id", campaign_id), ("lead", lead)) if v})
            if cursor:
                params["starting_after"] = cursor
            page = self.get(EMAILS, operation="list_emails", model=EmailPage, params=params)
            return page.items, page.next_starting_after

        return by_cursor(fetch)

    def _one_off_campaign(self, mailbox: str) -> str:
        with _campaign_lock:
            if mailbox in _campaign_ids:
                return _campaign_ids[mailbox]
            name = ONE_OFF_CAMPAIGN.format(mailbox=mailbox)
            found = next((c for c in self.list_campaigns(search=name) if c.name == name), None)
            if found is None:
                found = self.create_campaign(_one_off_campaign_body(mailbox))
                self.activate_campaign(found.id)
            _campaign_ids[mailbox] = found.id
            return found.id

    # --- the Outreach role -------------------------------------------------------------------------
    def send_email(
        self,
        *,
        idempotency_key: str,
        from_mailbox: str,
        to: str,
        subject: str,
        body: str,
        headers: Mapping[str, str],
        thread_id: str | None = None,
    ) -> SentEmail:
        if thread_id:
            email = self.post(
                EMAIL_REPLY,
                operation="send_reply",
                model=Email,
                json={"eaccount": from_mailbox, "reply_to_uuid": thread_id, "subject": subject, "body": {"text": body}},
            )
            return SentEmail(message_id=email.id, thread_id=email.thread_id or thread_id, provider=self.name)
        campaign_id = self._one_off_campaign(from_mailbox)
        lead = self.add_lead(
            campaign_id=campaign_id,
            email=to,
            custom_variables={"subject": subject, "body": body, "idempotency_key": idempotency_key},
        )
        return SentEmail(message_id=f"lead:{lead.id}", provider=self.name, status="queued")

    def get_message_status(self, message_id: str) -> MessageStatus:
        if message_id.startswith("lead:"):
            lead = self.get_lead(message_id.removeprefix("lead:"))
            if lead.email_reply_count:
                return MessageStatus(message_id=message_id, status="replied")
            if lead.email_open_count and lead.status == 3:
                return MessageStatus(message_id=message_id, status="opened")
            return MessageStatus(
                message_id=message_id,
                status=_LEAD_STATUS.get(lead.status, "unknown"),
                detail=f"lead status {lead.status}",
            )
        email = self.get(EMAIL.format(id=message_id), operation="get_email", model=Email)
        return MessageStatus(message_id=email.id, status="sent")

    def ping(self) -> str:
        page = self.get(CAMPAIGNS, operation="health_check", model=CampaignPage, params={"limit": 1}, attempts=1)
        return f"campaigns readable ({len(page.items)} on first page)"
