"""Bookkeeping of schedules declared in code and of bulk LLM work sent as Message Batches."""

from __future__ import annotations

from django.db import models

from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check

from .runs import AgentRun


class CodeSchedule(TimeStampedModel):
    """What ``sync_schedules`` last wrote to a PeriodicTask, so an operator's later edit is recognised and kept."""

    name = models.CharField(max_length=200, unique=True, help_text="the PeriodicTask name")
    written = models.JSONField(default=dict, blank=True, help_text="field -> value as the code last wrote it")

    def __str__(self) -> str:
        return self.name


class LLMBatchStatus(models.TextChoices):
    SUBMITTED = "submitted"
    COLLECTED = "collected"
    FAILED = "failed"


class LLMBatch(StatefulModel):
    """One Message Batch at the model provider: many runs' brain calls answered together, at half price."""

    Status = LLMBatchStatus

    STATUS_MACHINE = StatusMachine({Status.SUBMITTED: {Status.COLLECTED, Status.FAILED}})

    provider_batch_id = models.CharField(max_length=128, unique=True)
    agent_name = models.CharField(max_length=64)
    model_name = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    request_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "LLM batches"
        constraints = [choices_check("status", LLMBatchStatus, "llmbatch_status_valid")]

    def __str__(self) -> str:
        return f"{self.agent_name} batch {self.provider_batch_id} ({self.status})"


class LLMBatchItemStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    ERRORED = "errored"


class LLMBatchItem(models.Model):
    """One run's request in a batch; the collected answer waits here until the run executes."""

    Status = LLMBatchItemStatus

    batch = models.ForeignKey(LLMBatch, on_delete=models.CASCADE, related_name="items")
    # A run re-queued after a lost batch may be submitted again: one item per submission.
    run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="batch_items")
    custom_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decision = models.JSONField(null=True, blank=True, help_text="the validated tool input")
    usage = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "custom_id"], name="llmbatchitem_unique_custom_id"),
            choices_check("status", LLMBatchItemStatus, "llmbatchitem_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.custom_id} ({self.status})"
