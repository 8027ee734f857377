"""Runs and the outbox: the life of a piece of work."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from smarter_team import clock
from smarter_team.fields import RedactedTextField
from smarter_team.models import StatefulModel, StatusMachine, choices_check


class AgentRunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ESCALATED = "escalated"
    CANCELED = "canceled"
    SKIPPED = "skipped"


class AgentRunTrigger(models.TextChoices):
    SCHEDULE = "schedule"
    EVENT = "event"
    HANDOFF = "handoff"
    ADMIN = "admin"
    MANUAL = "manual"


class AgentRun(StatefulModel):
    Status = AgentRunStatus

    Trigger = AgentRunTrigger

    STATUS_MACHINE = StatusMachine(
        {
            # running -> queued is a retry after a transient failure or a lost lease.
            Status.QUEUED: {Status.RUNNING, Status.CANCELED, Status.SKIPPED},
            Status.RUNNING: {
                Status.SUCCEEDED,
                Status.FAILED,
                Status.ESCALATED,
                Status.QUEUED,
                Status.SKIPPED,
                Status.CANCELED,
            },
            Status.FAILED: {Status.QUEUED},  # an operator's retry
            Status.ESCALATED: {Status.QUEUED, Status.CANCELED, Status.FAILED, Status.SUCCEEDED},
            # The run's decisions committed, then one of its acts failed for good after commit.
            Status.SUCCEEDED: {Status.FAILED, Status.ESCALATED},
        }
    )
    FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.SKIPPED})

    # No index of its own: every query by agent name is served by the composite indexes that start
    # with it (Meta), and each index more is one more write on every claim and outcome.
    agent_name = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = RedactedTextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    correlation_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    # Unique through Meta's constraint, not unique=True: on PostgreSQL that would add a second,
    # LIKE-pattern index nobody queries, written on every insert.
    idempotency_key = models.CharField(max_length=200)
    payload_hash = models.CharField(max_length=64, blank=True, help_text="sha256 of the canonical input")
    queue = models.CharField(max_length=32, default="system")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    priority = models.SmallIntegerField(default=5)
    due_at = models.DateTimeField(default=clock.now, help_text="not started before this time")
    lease_expires_at = models.DateTimeField(null=True, blank=True, help_text="a running run past this is stuck")
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="last time agents.run was published for it; the dispatcher re-publishes lost ones",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    brain = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=64, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    learnings_applied = models.JSONField(
        default=list, blank=True, help_text="[{rule, mode: applied|holdout, stage}] for every rule considered"
    )
    waiting_on = models.ForeignKey(
        "agents.Escalation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="waiting_runs",
        help_text="the escalation this run waits for; its decision resumes or cancels every run waiting on it",
    )
    client_key = models.CharField(max_length=64, blank=True, help_text="client id for client budgets")
    campaign_key = models.CharField(max_length=64, blank=True, help_text="campaign id for campaign budgets")

    class Meta:
        ordering = ["-created_at"]
        # Starting any agent by hand from the console (operators and above: smarter_team/permissions.py).
        permissions = [("run_agent", "Can run an agent from the console")]
        indexes = [
            models.Index(fields=["status", "due_at"], name="agentrun_status_due"),
            models.Index(fields=["agent_name", "status"], name="agentrun_agent_status"),
            models.Index(fields=["status", "lease_expires_at"], name="agentrun_status_lease"),
            models.Index(fields=["agent_name", "created_at"], name="agentrun_agent_created"),
            # Spend over a day or a month (budgets: the brain's check before every call, cost_monitor):
            # range scans on started_at, per scope; ``cost`` included so PostgreSQL sums from the index.
            models.Index(fields=["started_at"], include=["cost"], name="agentrun_started_cost"),
            models.Index(fields=["agent_name", "started_at"], include=["cost"], name="agentrun_agent_started"),
            models.Index(
                fields=["client_key", "started_at"],
                include=["cost"],
                condition=~Q(client_key=""),
                name="agentrun_client_started",
            ),
            models.Index(
                fields=["campaign_key", "started_at"],
                include=["cost"],
                condition=~Q(campaign_key=""),
                name="agentrun_campaign_started",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="agentrun_unique_idempotency_key"),
            choices_check("status", AgentRunStatus, "agentrun_status_valid"),
            choices_check("trigger", AgentRunTrigger, "agentrun_trigger_valid"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="agentrun_cost_nonnegative"),
            models.CheckConstraint(condition=Q(depth=0) | Q(parent__isnull=False), name="agentrun_depth_needs_parent"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=models.F("started_at")),
                name="agentrun_finished_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ActionStatus(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"  # refused by a compliance guard at perform time (an opt-out, for one)


class Action(StatefulModel):
    """The outbox: one row per external side effect, performed once per idempotency key."""

    Status = ActionStatus

    STATUS_MACHINE = StatusMachine(
        {Status.PENDING: {Status.DONE, Status.FAILED, Status.BLOCKED}, Status.FAILED: {Status.PENDING}}
    )

    kind = models.CharField(max_length=64, db_index=True, help_text="e.g. email.send, invoice.create")
    idempotency_key = models.CharField(max_length=200)  # unique through Meta (see AgentRun's)
    run = models.ForeignKey(AgentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    error = RedactedTextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    # Infrastructure time (wall clock, never accelerated): when the sweeper may next try it, and
    # until when a worker performing it holds it.
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="wall clock: next try by the sweeper")
    lease_expires_at = models.DateTimeField(null=True, blank=True, help_text="wall clock: held by a worker until")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "kind"], name="action_status_kind"),
            models.Index(fields=["status", "next_attempt_at"], name="action_status_next"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="action_unique_idempotency_key"),
            choices_check("status", ActionStatus, "action_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False), name="action_done_has_done_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} [{self.idempotency_key}] ({self.status})"


class LookupCache(models.Model):
    """A paid provider read (an email found, a company's pages), kept by domain identity so a retry,
    or a second run about the same person or company, does not pay for it twice."""

    key = models.CharField(max_length=200, unique=True)
    value = models.JSONField()
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return self.key


class ClockOffset(models.Model):
    """How far the demo's business time was skipped ahead (one row, pk=1; see smarter_team.clock)."""

    seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"+{self.seconds:.0f}s"
