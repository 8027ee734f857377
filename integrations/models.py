"""Records of the outside world: every provider call (ApiUsage) and every webhook (WebhookEvent)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from smarter_team import clock
from smarter_team.models import StatefulModel, StatusMachine, choices_check


class ApiUsage(models.Model):
    """One row per outbound provider call. Never holds a secret: URLs are stored without query."""

    provider = models.CharField(max_length=32)
    operation = models.CharField(max_length=64)
    method = models.CharField(max_length=8, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    success = models.BooleanField(default=True)
    error_type = models.CharField(max_length=32, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    units = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal("0"), help_text="credits, rows, seconds"
    )
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    run = models.ForeignKey(
        "agents.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="api_usage"
    )
    at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "API usage"
        indexes = [models.Index(fields=["provider", "at"], name="apiusage_provider_at")]
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0), name="apiusage_cost_nonnegative")]

    def __str__(self) -> str:
        return f"{self.provider}.{self.operation} {self.status_code or '-'}"


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"
    REJECTED = "rejected"


class WebhookEvent(StatefulModel):
    Status = WebhookEventStatus

    STATUS_MACHINE = StatusMachine(
        {
            Status.RECEIVED: {Status.PROCESSED, Status.IGNORED, Status.FAILED},
            Status.FAILED: {Status.RECEIVED, Status.PROCESSED, Status.IGNORED},  # replay
            Status.PROCESSED: {Status.RECEIVED},  # an operator's explicit replay
            Status.IGNORED: {Status.RECEIVED},
        }
    )

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255, help_text="the provider's id, or a composite key when it sends none")
    event_type = models.CharField(max_length=128, blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="signature headers are stored masked")
    raw_body = models.BinaryField()
    signature_ok = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=clock.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="webhookevent_status_received")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhookevent_unique_provider_event"),
            choices_check("status", WebhookEventStatus, "webhookevent_status_valid"),
            # A rejected event was never verified; anything else must have been.
            models.CheckConstraint(
                condition=Q(status="rejected") | Q(signature_ok=True), name="webhookevent_unverified_is_rejected"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_type or '?'} {self.event_id}"
