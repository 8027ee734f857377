"""What we said and who must never hear from us again: conversations, messages, the suppression list."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from crm.models._normalising import clean_fields_then, normalise_fields
from crm.models.leads import Lead
from crm.models.outreach import CampaignStep, Enrollment, Mailbox, Variant
from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check


class ConversationChannel(models.TextChoices):
    EMAIL = "email"
    PHONE = "phone"
    LINKEDIN = "linkedin"


class ConversationStatus(models.TextChoices):
    OPEN = "open"
    WAITING = "waiting", "waiting for us"
    CLOSED = "closed"


class Conversation(TimeStampedModel):
    Channel = ConversationChannel

    Status = ConversationStatus

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="conversations")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    intent = models.CharField(max_length=32, blank=True)
    sentiment = models.CharField(max_length=16, blank=True)
    insights = models.JSONField(default=dict, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            choices_check("channel", ConversationChannel, "conversation_channel_valid"),
            choices_check("status", ConversationStatus, "conversation_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} with {self.lead}"


class MessageDirection(models.TextChoices):
    OUT = "out"
    IN = "in"


class MessageStatus(models.TextChoices):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    BOUNCED = "bounced"
    FAILED = "failed"


class Message(StatefulModel):
    Direction = MessageDirection

    Status = MessageStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.DRAFT: {S.AWAITING_APPROVAL, S.QUEUED, S.FAILED},
            S.AWAITING_APPROVAL: {S.DRAFT, S.QUEUED, S.FAILED},
            S.QUEUED: {S.SENT, S.FAILED, S.BOUNCED},
            S.SENT: {S.DELIVERED, S.OPENED, S.CLICKED, S.REPLIED, S.BOUNCED},
            S.DELIVERED: {S.OPENED, S.CLICKED, S.REPLIED, S.BOUNCED},
            S.OPENED: {S.CLICKED, S.REPLIED},
            S.CLICKED: {S.REPLIED},
            S.FAILED: {S.QUEUED},
        }
    )

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    step = models.ForeignKey(CampaignStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    from_email = models.EmailField(blank=True)
    to_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Message-ID, In-Reply-To, List-Unsubscribe")
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    intent = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    failed_reason = models.CharField(max_length=255, blank=True, help_text="why a queued message was not sent")
    # Issue 16's "share of sent first lines that cite a fact", decided once, at the send (the sender
    # checks the line's citations just before): None, the copy has no first-line slot; True, the line
    # that left cites stored, sourced findings; False, the slot was there but research gave no line.
    first_line_cited = models.BooleanField(
        null=True, blank=True, help_text="at the send: the first line cites a stored fact (empty: no first line)"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_thread"),
            # The console's "not sent yet" views (drafts awaiting approval, queued, failed): a few
            # rows among millions that no other index finds. Partial, so it stays that small; the
            # price is that a status-only update (delivered, opened) is no longer a HOT update.
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["draft", "awaiting_approval", "queued", "failed"]),
                name="message_unsent",
            ),
        ]
        constraints = [
            choices_check("direction", MessageDirection, "message_direction_valid"),
            choices_check("status", MessageStatus, "message_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "delivered", "opened", "clicked", "replied"])
                | Q(sent_at__isnull=False),
                name="message_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.subject[:50]}"


class SuppressionEntryReason(models.TextChoices):
    UNSUBSCRIBE = "unsubscribe"
    COMPLAINT = "complaint"
    HARD_BOUNCE = "hard_bounce"
    MANUAL = "manual"
    GDPR_OBJECTION = "gdpr_objection"
    GDPR_ERASURE = "gdpr_erasure"


class SuppressionEntryKind(models.TextChoices):
    EMAIL = "email"
    DOMAIN = "domain"


class SuppressionEntry(TimeStampedModel):
    Reason = SuppressionEntryReason

    Kind = SuppressionEntryKind

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.EMAIL)
    value = models.CharField(max_length=254, blank=True, help_text="lower-case address or domain; blank after erasure")
    value_hash = models.CharField(max_length=64, help_text="sha256 of the value, kept after erasure")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    source = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "suppression entries"
        indexes = [
            # The outreach tallies (campaign_analytics daily, deliverability_monitor hourly) ask, for
            # every email sent, whether its address complained: by value, which only the unique
            # hash index led to, scanning every email entry per email (sends times suppressions).
            models.Index(fields=["kind", "value"], name="suppression_value"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value_hash"], name="suppression_unique_value"),
            choices_check("reason", SuppressionEntryReason, "suppression_reason_valid"),
            choices_check("kind", SuppressionEntryKind, "suppression_kind_valid"),
            models.CheckConstraint(condition=Q(value=Lower("value")), name="suppression_value_lower"),
            models.CheckConstraint(condition=Q(value_hash__regex=r"^[0-9a-f]{64}$"), name="suppression_hash_sha256"),
            # An email entry holds an address, a domain entry a bare domain (or nothing after erasure).
            models.CheckConstraint(
                condition=Q(value="")
                | (Q(kind="email") & Q(value__contains="@"))
                | (Q(kind="domain") & ~Q(value__contains="@") & ~Q(value__contains="/")),
                name="suppression_value_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value or self.value_hash[:12] + '…'} ({self.reason})"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # The hash is derived from the normalised value, so a typed entry matches what senders check.
        from crm.services.normalize import normalize_domain, normalize_email
        from crm.services.suppression import value_hash

        if not self.value and not self.value_hash:
            raise ValidationError({"value": "enter the address or domain to suppress"})
        errors: dict[str, list[str]] = {}
        if self.value:
            normaliser = normalize_email if self.kind == SuppressionEntryKind.EMAIL else normalize_domain
            errors = normalise_fields(self, {"value": normaliser}, exclude)
            if not errors:
                self.value_hash = value_hash(self.value)
        clean_fields_then(errors, exclude, super().clean_fields)
