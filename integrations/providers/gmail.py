"""Gmail: send from the agency's Google Workspace mailbox, follow threads (the Outreach role).

API reference: https://developers.google.com/gmail/api/reference/rest

Gmail takes no idempotency key, so the key becomes the RFC 5322 Message-ID of the email; before
sending, the mailbox is searched for that Message-ID and an email already sent is returned
instead of being sent again. A retried act after a lost response therefore never sends twice.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import pydantic

from integrations.providers._google import GoogleClient
from integrations.registry import register_provider
from integrations.values import MessageStatus, SentEmail

SEND = "users/me/messages/send"  # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send
MESSAGES = "users/me/messages"  # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
MESSAGE = "users/me/messages/{id}"  # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get
THREAD = "users/me/threads/{id}"  # https://developers.google.com/gmail/api/reference/rest/v1/users.threads/get
PROFILE = "users/me/profile"  # https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile


class GmailMessage(pydantic.BaseModel):
    id: str
    threadId: str
    labelIds: list[str] = []


class MessageList(pydantic.BaseModel):
    messages: list[GmailMessage] = []
    resultSizeEstimate: int = 0


class Thread(pydantic.BaseModel):
    id: str
    messages: list[GmailMessage] = pydantic.Field(min_length=1)


class Profile(pydantic.BaseModel):
    emailAddress: str
    messagesTotal: int = 0


def message_id_for(idempotency_key: str, from_mailbox: str) -> str:
    """A stable Message-ID for an outbox key: the same act always carries the same id."""
    domain = from_mailbox.rpartition("@")[2] or "smarter-team.local"
    return f"<st-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def build_mime(
    *, message_id: str, from_mailbox: str, to: str, subject: str, body: str, headers: Mapping[str, str]
) -> str:
    message = EmailMessage()
    for name, value in headers.items():
        if name.lower() not in {"from", "to", "subject", "message-id"}:
            message[name] = value
    message["From"], message["To"], message["Subject"], message["Message-ID"] = from_mailbox, to, subject, message_id
    message.set_content(body)
    return base64.urlsafe_b64encode(message.as_bytes()).decode()


@register_provider("outreach", "gmail")
class GmailClient(GoogleClient):
    name = "gmail"
    base_url = "https://gmail.googleapis.com/gmail/v1"

    def find_by_message_id(self, message_id: str) -> GmailMessage | None:
        found = self.get(
            MESSAGES,
            operation="find_sent",
            model=MessageList,
            params={"q": f"rfc822msgid:{message_id.strip('<>')}", "maxResults": 1},
        )
        return found.messages[0] if found.messages else None

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
        message_id = message_id_for(idempotency_key, from_mailbox)
        already = self.find_by_message_id(message_id)
        if already is not None:
            return SentEmail(message_id=already.id, thread_id=already.threadId, provider=self.name)
        payload: dict[str, Any] = {
            "raw": build_mime(
                message_id=message_id, from_mailbox=from_mailbox, to=to, subject=subject, body=body, headers=headers
            )
        }
        if thread_id:
            payload["threadId"] = thread_id
        sent = self.post(SEND, operation="send_email", model=GmailMessage, json=payload)
        return SentEmail(message_id=sent.id, thread_id=sent.threadId, provider=self.name)

    def get_thread(self, thread_id: str) -> Thread:
        return self.get(THREAD.format(id=thread_id), operation="get_thread", model=Thread, params={"format": "minimal"})

    def get_message_status(self, message_id: str) -> MessageStatus:
        message = self.get(
            MESSAGE.format(id=message_id), operation="get_message", model=GmailMessage, params={"format": "minimal"}
        )
        thread = self.get_thread(message.threadId)
        ids = [m.id for m in thread.messages]
        later = thread.messages[ids.index(message.id) + 1 :] if message.id in ids else []
        if any("SENT" not in m.labelIds for m in later):
            return MessageStatus(message_id=message_id, status="replied")
        return MessageStatus(message_id=message_id, status="sent" if "SENT" in message.labelIds else "unknown")

    def ping(self) -> str:
        return f"mailbox {self.get(PROFILE, operation='health_check', model=Profile, attempts=1).emailAddress}"
