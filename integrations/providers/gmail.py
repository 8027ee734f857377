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

from integrations.http.errors import InvalidResponseError
from integrations.providers._google import GoogleClient
from integrations.registry import register_provider
from integrations.values import MessageStatus, SentEmail

SEND = "users/me/messages/send"  # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send
MESSAGES = "users/me/messages"  # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
MESSAGE = "users/me/messages/{id}"  # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get
THREAD = "users/me/threads/{id}"  # https://developers.google.com/gmail/api/reference/rest/v1/users.threads/get
PROFILE = "users/me/profile"  # https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile
# The inbox poll names the mailbox (userId may be the authorised user's address as well as "me").
HISTORY = "users/{user}/history"  # https://developers.google.com/gmail/api/reference/rest/v1/users.history/list
USER_MESSAGES = "users/{user}/messages"
USER_MESSAGE = "users/{user}/messages/{id}"
USER_PROFILE = "users/{user}/profile"
# users.history.list pages hold at most 500 records; messages.list pages at most 500 ids.
PAGE_SIZE = 500


class GmailMessage(pydantic.BaseModel):
    id: str
    threadId: str
    labelIds: list[str] = []


class MessageList(pydantic.BaseModel):
    messages: list[GmailMessage] = []
    nextPageToken: str = ""
    resultSizeEstimate: int = 0


class RawMessage(GmailMessage):
    """users.messages.get with format=raw: the whole RFC 2822 message, base64url encoded."""

    raw: str
    historyId: str = ""
    internalDate: str = ""

    def raw_bytes(self) -> bytes:
        # Google omits the base64 padding on some messages; urlsafe_b64decode insists on it.
        return base64.urlsafe_b64decode(self.raw + "=" * (-len(self.raw) % 4))


class MessageAdded(pydantic.BaseModel):
    message: GmailMessage


class HistoryRecord(pydantic.BaseModel):
    id: str
    messagesAdded: list[MessageAdded] = []


class HistoryPage(pydantic.BaseModel):
    history: list[HistoryRecord] = []
    nextPageToken: str = ""
    historyId: str


class MailboxChanges(pydantic.BaseModel):
    """What arrived in a mailbox after a history id: (history record id, message) in order, and
    the history id to start from next time."""

    added: list[tuple[str, GmailMessage]] = []
    history_id: str


class Thread(pydantic.BaseModel):
    id: str
    messages: list[GmailMessage] = pydantic.Field(min_length=1)


class Profile(pydantic.BaseModel):
    emailAddress: str
    messagesTotal: int = 0
    historyId: str = ""


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

    # --- the inbox poll (https://developers.google.com/workspace/gmail/api/guides/sync) -----------

    def inbox_changes(self, *, user: str, start_history_id: str, max_pages: int = 20) -> MailboxChanges:
        """Messages added to the inbox after ``start_history_id`` (partial sync). Gmail answers 404 for
        a history id it no longer keeps (about a week): NotFoundError, and the caller syncs in full."""
        added: list[tuple[str, GmailMessage]] = []
        token, latest = "", start_history_id
        for _ in range(max_pages):
            params: dict[str, Any] = {
                "startHistoryId": start_history_id,
                "historyTypes": "messageAdded",
                "labelId": "INBOX",
                "maxResults": PAGE_SIZE,
            }
            if token:
                params["pageToken"] = token
            page = self.get(HISTORY.format(user=user), operation="history_list", model=HistoryPage, params=params)
            latest = page.historyId or latest
            added += [(record.id, item.message) for record in page.history for item in record.messagesAdded]
            if not page.nextPageToken:
                return MailboxChanges(added=added, history_id=latest)
            token = page.nextPageToken
        # Pages left unread: resume after the last record read, not at the mailbox's newest id.
        return MailboxChanges(added=added, history_id=added[-1][0] if added else start_history_id)

    def recent_inbox(self, *, user: str, newer_than_days: int, limit: int) -> list[GmailMessage]:
        """The inbox's messages of the last days, newest first (full sync after an expired history id)."""
        found: list[GmailMessage] = []
        token = ""
        while len(found) < limit:
            params: dict[str, Any] = {
                "q": f"newer_than:{newer_than_days}d",
                "labelIds": "INBOX",
                "maxResults": min(PAGE_SIZE, limit - len(found)),
            }
            if token:
                params["pageToken"] = token
            page = self.get(
                USER_MESSAGES.format(user=user), operation="messages_list", model=MessageList, params=params
            )
            found += page.messages
            if not page.nextPageToken:
                break
            token = page.nextPageToken
        return found[:limit]

    def raw_message(self, *, user: str, message_id: str) -> RawMessage:
        return self.get(
            USER_MESSAGE.format(user=user, id=message_id),
            operation="get_raw_message",
            model=RawMessage,
            params={"format": "raw"},
        )

    def current_history_id(self, *, user: str) -> str:
        profile = self.get(USER_PROFILE.format(user=user), operation="get_profile", model=Profile)
        if not profile.historyId:
            raise InvalidResponseError(
                "the profile has no historyId", provider=self.name, operation="get_profile", field="historyId"
            )
        return profile.historyId

    def ping(self) -> str:
        return f"mailbox {self.get(PROFILE, operation='health_check', model=Profile, attempts=1).emailAddress}"
