"""What the admin bench puts in each big table, and what it searches there.

One ``Table`` per changelist: how to grow it (rows.fill with per-column SQL), and a search term a
person would type that finds a handful of rows (a surname, an id pasted from a vendor's page).
Related rows are numbered alike (lead i, its company i, its conversation i, its message i), so
foreign keys need no lookups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models

from agents import registry
from agents.models import Action, AgentRun, AuditLog
from agents.outbox import registered_kinds
from bench.admin.rows import (
    TRADES,
    WORDS,
    Expr,
    Sql,
    first_name,
    last_name,
    lead_email,
    minute,
    pick,
    rand,
    weighted,
)
from bench.admin.rows import fill as fill_rows
from crm.models import Campaign, Company, Conversation, Enrollment, Lead, Message
from crm.services.replies.classify import INTENTS
from integrations.models import ApiUsage, WebhookEvent
from integrations.webhooks.providers import PROVIDERS
from learning.models import ErrorLog

ERROR_TYPES = ["ProviderError", "RateLimited", "ConnectTimeout", "ValidationError", "BudgetExceeded", "IntegrityError"]
PROVIDER_NAMES = ["instantly", "stripe", "apify", "findymail", "calcom", "anthropic", "pandadoc", "perplexity"]


@dataclass(frozen=True)
class Table:
    name: str
    model: type[models.Model]
    columns: Callable[[dt.datetime], dict[str, Expr]]  # given the epoch (row i: i minutes after it)
    search: str  # what a person would type to find a few rows

    def fill(self, first: int, last: int, epoch: dt.datetime) -> None:
        """Rows ``first..last``; row i is written i minutes after ``epoch``."""
        fill_rows(self.model, first, last, self.columns(epoch))


def _stamps(start: dt.datetime) -> dict[str, Expr]:
    return {"created_at": minute(start), "updated_at": minute(start)}


def _company(start: dt.datetime) -> dict[str, Expr]:
    word, trade = pick(WORDS, 21), pick(TRADES, 22)
    return {
        **_stamps(start),
        "name": (f"{word[0]} || ' ' || {trade[0]} || ' ' || g.i", [*word[1], *trade[1]]),
        "domain": "'co' || g.i || '.example'",
        "industry": pick(["dental clinics", "law firms", "logistics", "real estate", "fitness"], 23),
        "employee_range": pick(["1-10", "11-50", "51-200", "201-500", "501-1000"], 24),
        "country": pick(["US", "GB", "DE", "FR", "NL", ""], 25),
        "source": pick(["sandbox", "apify", "csv:spring-list", "referral", "admin"], 26),
    }


def _lead_status(salt: int = 31) -> Sql:
    return weighted(
        {
            "new": 20, "enriched": 8, "verified": 8, "qualified": 14, "disqualified": 10, "contacted": 22,
            "replied": 4, "interested": 2, "meeting_booked": 1, "proposal_sent": 1, "won": 1, "lost": 4,
            "unsubscribed": 2, "bounced": 3,
        },
        salt,
    )  # fmt: skip


def _lead(start: dt.datetime) -> dict[str, Expr]:
    status = _lead_status()
    return {
        **_stamps(start),
        "first_name": first_name(),
        "last_name": last_name(),
        "email": lead_email(),
        "company_id": "g.i",
        "status": status,
        "do_not_contact": (f"({status[0]}) = 'unsubscribed'", status[1]),
        "email_status": weighted({"valid": 60, "unknown": 15, "risky": 10, "catch_all": 10, "invalid": 5}, 32),
        "title": pick(["Owner", "Founder", "CEO", "COO", "Practice Manager", "Head of Operations"], 33),
        "score": rand(34, 101),
        "country": pick(["US", "GB", "DE", "FR", "NL", ""], 25),
        "source": pick(["sandbox", "apify", "csv:spring-list", "referral", "admin"], 26),
    }


def _conversation(start: dt.datetime) -> dict[str, Expr]:
    return {
        **_stamps(start),
        "lead_id": "g.i",
        "status": weighted({"open": 30, "waiting": 10, "closed": 60}, 41),
        "intent": pick([*INTENTS, ""], 42),
        "sentiment": pick(["positive", "neutral", "negative", ""], 43),
        "last_message_at": minute(start, plus=f" + {rand(44, 120)} * interval '1 minute'"),
    }


def _message(start: dt.datetime) -> dict[str, Expr]:
    email = lead_email()
    inbound = f"{rand(51)} < 20"
    word, trade = pick(WORDS, 21), pick(TRADES, 22)
    return {
        **_stamps(start),
        "conversation_id": "g.i",
        "direction": f"(CASE WHEN {inbound} THEN 'in' ELSE 'out' END)",
        "from_email": (f"(CASE WHEN {inbound} THEN {email[0]} ELSE 'sdr@agency.example' END)", email[1]),
        "to_email": (f"(CASE WHEN {inbound} THEN 'sdr@agency.example' ELSE {email[0]} END)", email[1]),
        "subject": (f"'Quick question about ' || {word[0]} || ' ' || {trade[0]} || ' ' || g.i", [*word[1], *trade[1]]),
        "body": "'Hi, I noticed your practice is growing. Worth a short call next week?'",
        "status": weighted({"sent": 25, "delivered": 35, "opened": 20, "replied": 8, "bounced": 4, "queued": 8}, 52),
        "sent_at": minute(start),
        "intent": (
            f"(CASE WHEN {inbound} THEN (%s::text[])[1 + {rand(53, len(INTENTS))}] ELSE '' END)",
            [list(INTENTS)],
        ),
        "provider_message_id": "'<bench.' || g.i || '@mail.example>'",
        "idempotency_key": "'bench:message:' || g.i",
    }


def _enrollment(start: dt.datetime) -> dict[str, Expr]:
    campaigns = list(Campaign.objects.order_by("pk").values_list("pk", flat=True))
    return {
        **_stamps(start),
        "lead_id": "g.i",
        "campaign_id": (f"(%s::bigint[])[1 + {rand(61, len(campaigns))}]", [campaigns]),
        "current_step": rand(62, 4),
        "variant_label": pick(["A", "B"], 63),
        "status": weighted(
            {"active": 30, "paused": 5, "completed": 40, "replied": 10, "bounced": 5, "stopped": 10}, 64
        ),
        "next_send_at": minute(start, plus=" + interval '3 days'"),
    }


def _run(start: dt.datetime) -> dict[str, Expr]:
    names = sorted(a.name for a in registry.all_agents())
    return {
        **_stamps(start),
        "agent_name": pick(names, 71),
        "status": weighted(
            {"succeeded": 78, "skipped": 10, "failed": 3, "escalated": 2, "canceled": 2, "queued": 5}, 72
        ),
        "trigger": weighted({"schedule": 40, "event": 25, "handoff": 30, "admin": 3, "manual": 2}, 73),
        "idempotency_key": "'bench:run:' || g.i",
        "correlation_id": "gen_random_uuid()",
        "queue": pick(["crm", "sales", "delivery", "system", "llm"], 74),
        "attempts": "1",
        "due_at": minute(start),
        "started_at": minute(start),
        "finished_at": minute(start, plus=" + interval '2 seconds'"),
        "cost": f"{rand(75, 1000)} / 100000.0",
    }


def _action(start: dt.datetime) -> dict[str, Expr]:
    return {
        **_stamps(start),
        "kind": pick(sorted(registered_kinds()), 81),
        "idempotency_key": "'bench:act:' || g.i",
        "run_id": "g.i",
        "status": weighted({"done": 90, "pending": 4, "failed": 4, "blocked": 2}, 82),
        "attempts": "1",
        "done_at": minute(start),
    }


def _webhook(start: dt.datetime) -> dict[str, Expr]:
    types = sorted({t for p in PROVIDERS.values() for t in p.handlers})
    status = weighted({"processed": 80, "ignored": 12, "failed": 3, "rejected": 2, "received": 3}, 92)
    return {
        **_stamps(start),
        "provider": pick(sorted(PROVIDERS), 91),
        "event_id": "'evt_bench_' || g.i",
        "event_type": pick(types, 93),
        "raw_body": "convert_to('{\"id\": \"evt_bench_' || g.i || '\"}', 'UTF8')",
        "status": status,
        "signature_ok": (f"({status[0]}) <> 'rejected'", status[1]),
        "attempts": "1",
        "received_at": minute(start),
        "processed_at": minute(start),
    }


def _error(start: dt.datetime) -> dict[str, Expr]:
    kind = pick(ERROR_TYPES, 101)
    names = sorted(a.name for a in registry.all_agents())
    return {
        **_stamps(start),
        "agent_name": pick(names, 102),
        "provider": weighted({"": 60, "instantly": 10, "stripe": 5, "apify": 10, "anthropic": 15}, 103),
        "run_id": "g.i",
        "error_type": kind,
        "step": pick(["load", "decide", "act", "perform"], 104),
        "message": (
            f"{kind[0]} || ': the provider answered 503 while handling lead ' || g.i || ' (attempt 2 of 3)'",
            kind[1],
        ),
        "fingerprint": f"md5('bench' || {rand(105, 5000)})",
        "severity": weighted({"low": 20, "medium": 60, "high": 15, "critical": 5}, 106),
        "transient": f"{rand(107)} < 40",
        "occurred_at": minute(start),
    }


def _audit(start: dt.datetime) -> dict[str, Expr]:
    lead_type = ContentType.objects.get_for_model(Lead).pk
    names = sorted(a.name for a in registry.all_agents())
    return {
        "actor_type": weighted({"agent": 85, "user": 5, "system": 10}, 111),
        "actor": pick([*names, "admin", "system"], 112),
        "action": pick(["lead.status", "run.retry", "escalation.decide", "suppression.add", "invoice.create"], 113),
        "target_type_id": str(lead_type),
        "target_id": "g.i::text",
        "at": minute(start),
    }


def _as_int(expr: Expr) -> Expr:
    sql, params = (expr, []) if isinstance(expr, str) else expr
    return (f"({sql})::int", params)


def _api_usage(start: dt.datetime) -> dict[str, Expr]:
    return {
        "provider": pick(PROVIDER_NAMES, 121),
        "operation": pick(["send_email", "create_invoice", "search_people", "verify_email", "messages"], 122),
        "method": pick(["GET", "POST"], 123),
        "url": "'https://api.example.com/v1/items/' || g.i",
        "status_code": _as_int(weighted({"200": 90, "429": 4, "500": 3, "503": 3}, 124)),
        "error_type": pick(["", "", "", "", "RateLimited", "ServerError"], 125),
        "latency_ms": rand(126, 2000),
        "at": minute(start),
        "run_id": "g.i",
    }


TABLES = [
    Table("companies", Company, _company, "co4242.example"),
    Table("leads", Lead, _lead, "co4242.example"),
    Table("conversations", Conversation, _conversation, "co4242.example"),
    Table("messages", Message, _message, "co4242.example"),
    Table("enrollments", Enrollment, _enrollment, "co4242.example"),
    Table("agent runs", AgentRun, _run, "bench:run:4242"),
    Table("outbox acts", Action, _action, "bench:act:4242"),
    Table("webhook events", WebhookEvent, _webhook, "evt_bench_4242"),
    Table("error logs", ErrorLog, _error, "lead 4242"),
    Table("audit log", AuditLog, _audit, "4242"),
    Table("API usage", ApiUsage, _api_usage, "items/4242"),
]
