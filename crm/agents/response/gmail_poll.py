"""gmail_inbox_poll: replies to mailboxes that send through Gmail, which pushes no webhook we take.

Instantly posts a webhook per reply; a Gmail mailbox is read instead, every two wall minutes, the way
Google's sync guide describes: users.history.list after the mailbox's stored historyId (messages
added to the inbox), each new message fetched whole (users.messages.get, format=raw) and started
as an email_response_handler run through crm.services.ingest, the path of ``manage.py ingest_email``.
Gmail keeps history for about a week; an expired historyId answers 404, and the mailbox is read in
full over a recent window instead, from a historyId taken before the listing (so nothing arriving
meanwhile falls between the two). Each run is keyed by the mailbox and the Gmail message id: a
message seen by two polls (a resync's window, an overlapping tick) is recorded once.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import AgentRun
from agents.registry import register
from crm.agents.response.handler import InboundEmail
from crm.models import Mailbox
from crm.services import ingest
from integrations.http.errors import NotFoundError
from integrations.providers.gmail import GmailClient, GmailMessage
from integrations.registry import is_configured, registrations

# Gmail keeps history records "typically for at least one week" (sync guide); a resync after an
# expired historyId reads that week back. Replies older than that were answered or are lost anyway.
RESYNC_DAYS = 7
# At most this many messages fetched per mailbox per poll: one run stays short, the rest come next tick.
MAX_MESSAGES = 200
# Labels of messages that are not someone writing to us.
NOT_INBOUND = frozenset({"SENT", "DRAFT", "SPAM", "TRASH"})


def run_key(mailbox: str, gmail_id: str) -> str:
    """The handler run's key: the mailbox and Gmail's message id (Gmail ids are per mailbox)."""
    return f"gmail:{mailbox}:{gmail_id}"[:200]


class Polled(BaseModel):
    gmail_id: str
    email: InboundEmail | None = None
    problem: str = ""


class MailboxPoll(Facts):
    mailbox: Mailbox
    history_id: str
    resync: str = ""  # why the mailbox was read in full ("" for a partial sync)
    messages: list[Polled] = Field(default_factory=list)
    already: int = 0
    more: bool = False


class Inboxes(Facts):
    polls: list[MailboxPoll] = Field(default_factory=list)


class PollOutput(BaseModel):
    mailboxes: int = 0
    started: int = 0
    already: int = 0
    unreadable: list[str] = Field(default_factory=list)
    resynced: list[str] = Field(default_factory=list)


def gmail() -> GmailClient:
    registration = registrations("outreach").get("gmail")
    if registration is None or not is_configured(registration):
        raise SkipRun("mailboxes send through Gmail but Gmail is not configured (GOOGLE_* keys)")
    client: GmailClient = registration.cls()
    return client


def poll_mailbox(client: GmailClient, mailbox: Mailbox) -> MailboxPoll:
    """What arrived in one mailbox since its historyId (or over the resync window)."""
    user, resync = mailbox.email, ""
    found: list[tuple[str, GmailMessage]] = []
    cursor = mailbox.history_id
    if mailbox.history_id:
        try:
            changes = client.inbox_changes(user=user, start_history_id=mailbox.history_id)
            found, cursor = changes.added, changes.history_id
        except NotFoundError:
            resync = f"historyId {mailbox.history_id} expired: the last {RESYNC_DAYS} days read again"
    else:
        resync = f"first poll: the last {RESYNC_DAYS} days read"
    if resync:
        cursor = client.current_history_id(user=user)  # taken first: what arrives during the listing is after it
        found = [("", m) for m in client.recent_inbox(user=user, newer_than_days=RESYNC_DAYS, limit=MAX_MESSAGES)]
    seen: dict[str, str] = {}
    for record_id, message in found:
        if message.id not in seen and not NOT_INBOUND.intersection(message.labelIds):
            seen[message.id] = record_id
    started = set(
        AgentRun.objects.filter(idempotency_key__in=[run_key(user, i) for i in seen]).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = [i for i in seen if run_key(user, i) not in started]
    poll = MailboxPoll(mailbox=mailbox, history_id=cursor, resync=resync, already=len(seen) - len(fresh))
    if len(fresh) > MAX_MESSAGES:
        fresh = fresh[:MAX_MESSAGES]
        poll.more = True
        if not resync:  # resume after the last record read, not at the newest
            poll.history_id = seen[fresh[-1]] or cursor
    for gmail_id in fresh:
        raw = client.raw_message(user=user, message_id=gmail_id)
        try:
            poll.messages.append(Polled(gmail_id=gmail_id, email=ingest.prepare(raw.raw_bytes()).email))
        except (ingest.BadEmail, ValueError) as exc:
            poll.messages.append(Polled(gmail_id=gmail_id, problem=str(exc)[:300]))
    return poll


@register
class GmailInboxPoll(Agent[Empty, PollOutput]):
    """Reads the inboxes of Gmail mailboxes (history API) and records each reply like a webhook's."""

    name, category, trigger, queue = "gmail_inbox_poll", "response", "schedule", "crm"
    Input, Facts, Output = Empty, Inboxes, PollOutput
    schedule = 120
    # Replies reach Gmail on the world's clock: a demo's fast business time must not poll Google faster.
    schedule_clock = "wall"
    next = ("email_response_handler",)

    def load(self, ctx: RunContext, data: Empty) -> Inboxes:
        mailboxes = list(Mailbox.objects.filter(provider="gmail").order_by("pk"))
        if not mailboxes:
            return Inboxes()
        client = gmail()
        return Inboxes(polls=[poll_mailbox(client, mailbox) for mailbox in mailboxes])

    def act(self, ctx: RunContext, facts: Inboxes) -> PollOutput:
        out = PollOutput(mailboxes=len(facts.polls))
        for poll in facts.polls:
            mailbox = ctx.lock(poll.mailbox)
            for item in poll.messages:
                key = run_key(mailbox.email, item.gmail_id)
                if item.email is None:
                    out.unreadable.append(f"{mailbox.email} {item.gmail_id}: {item.problem}")
                    ctx.escalate(
                        "error",
                        f"a message in {mailbox.email} is not an email we can read: {item.problem}",
                        {"mailbox": mailbox.email, "gmail_id": item.gmail_id},
                        dedupe_key=f"{key}:unreadable",
                        subject=mailbox,
                    )
                    continue
                # Keyed by the Gmail id rather than handed off per poll run (ctx.handoff's key is the
                # parent's): two polls that both see a message start one handler run, as a webhook does.
                ingest.start(item.email, key=key, trigger=AgentRun.Trigger.EVENT, parent=ctx.run)
                out.started += 1
            out.already += poll.already
            if poll.resync:
                out.resynced.append(f"{mailbox.email}: {poll.resync}")
            if poll.history_id != mailbox.history_id:  # an idle mailbox writes nothing, however often polled
                ctx.update(
                    mailbox, action="mailbox.inbox_polled", history_id=poll.history_id, history_synced_at=ctx.now()
                )
        return out
