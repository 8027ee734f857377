"""Records of the outside world: every provider call (ApiUsage) and every webhook (WebhookEvent)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from smarter_team import clock
from smarter_team.fields import RedactedTextField
from smarter_team.models import StatefulModel, StatusMachine, choices_check


class ApiUsage(models.Model):
    """One row per outbound provider call. Never holds a secret: URLs are stored without query."""

    provider = models.CharField(max_length=32)
    operation = models.CharField(max_length=64)
    method = models.CharField(max_length=8, blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="scheme, host and path only: never the query")
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
    # Set when raw_body holds only a prefix (rejected requests): the whole body's size and digest.
    body_size = models.PositiveIntegerField(null=True, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    # Set when a publish of this event failed (broker down): the sweeper republishes it on its
    # next pass instead of WEBHOOK_REPLAY_AFTER_MINUTES after arrival.
    publish_failed_at = models.DateTimeField(null=True, blank=True)
    signature_ok = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = RedactedTextField(blank=True)
    received_at = models.DateTimeField(default=clock.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhookevent_status_received"),
            # The console's search by the id a vendor's dashboard shows (the unique constraint
            # leads with the provider, so it cannot serve the id alone).
            models.Index(fields=["event_id"], name="webhookevent_event_id"),
        ]
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


class LocalVector(models.Model):
    """The ``local`` VectorStore: vectors in our own database, for the no-service default.

    Similarity is computed in Python over one namespace (see integrations/local/vector_store.py);
    fine for the thousands of rows an agency keeps, Pinecone beyond that.
    """

    namespace = models.CharField(max_length=64)
    record_id = models.CharField(max_length=255)
    text = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    embedding = models.JSONField(default=list, help_text="unit-length list of floats")
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["namespace", "record_id"]
        constraints = [
            models.UniqueConstraint(fields=["namespace", "record_id"], name="localvector_unique_namespace_record")
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.record_id}"


class MemoryEntry(models.Model):
    """The ``local`` Memory: one message of a conversation session, searchable by meaning."""

    session_id = models.CharField(max_length=255, db_index=True)
    role = models.CharField(max_length=16, default="user")
    name = models.CharField(max_length=128, blank=True)
    content = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    embedding = models.JSONField(default=list, help_text="unit-length list of floats")
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["session_id", "created_at", "id"]
        verbose_name_plural = "memory entries"

    def __str__(self) -> str:
        return f"{self.session_id}: {self.content[:40]}"


# --- The sandbox world (integrations/sandbox) -------------------------------------------------
class SandboxEventStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"


class SandboxEvent(StatefulModel):
    """Something the simulated market will report later through a real, signed webhook.

    Due work is a row a beat tick finds (never a Celery ETA); ``key`` is derived from the world's
    seed and the act that caused it, so scheduling the same consequence twice is a no-op.
    """

    Status = SandboxEventStatus

    STATUS_MACHINE = StatusMachine(
        {
            Status.PENDING: {Status.DELIVERED, Status.FAILED, Status.CANCELED},
            Status.FAILED: {Status.PENDING},  # retried after a 5xx, or by an operator
        }
    )

    key = models.CharField(max_length=200, unique=True)
    provider = models.CharField(max_length=32, help_text="the webhook provider it is posted as")
    kind = models.CharField(max_length=64, help_text="what happens in the world, e.g. reply, booking_created")
    subject = models.CharField(max_length=128, db_index=True, help_text="the booking, document, invoice or email")
    payload = models.JSONField(help_text="the vendor-shaped body, posted as JSON")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="sandboxevent_status_due")]
        constraints = [choices_check("status", SandboxEventStatus, "sandboxevent_status_valid")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.kind} {self.subject} @ {self.due_at:%Y-%m-%d %H:%M}"


class SandboxRecord(models.Model):
    """An object the agency created in the sandbox world (a document, an invoice, a search...).

    The world itself is computed from the seed; only what the agency made through a role call
    needs remembering between calls (who a document goes to, what an invoice is for).
    """

    kind = models.CharField(max_length=32)
    ref = models.CharField(max_length=128, help_text="the id the sandbox provider returned")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    # The world asks its records by who they concern ("every email to this address", "the person at
    # this domain") on every send and every research call: computed from ``data`` by the database, so
    # every writer (bulk or not) fills them, and indexed, so a question costs the same with 10k people
    # as with 100 (a filter on the JSON itself is a scan, and with server-side parameters PostgreSQL
    # cannot match it to an expression index).
    party = models.GeneratedField(
        expression=Coalesce(
            KT("data__to"), KT("data__buyer"), KT("data__attendee_email"), KT("data__email"), KT("data__contact")
        ),
        output_field=models.TextField(null=True),
        db_persist=True,
        help_text="the address it concerns: an email's recipient, a document's buyer, a booking's attendee, "
        "a person, a customer, a project's contact",
    )
    sender = models.GeneratedField(
        expression=KT("data__from_mailbox"),
        output_field=models.TextField(null=True),
        db_persist=True,
        help_text="the mailbox an email was sent from",
    )
    domain = models.GeneratedField(
        expression=Coalesce(KT("data__company__domain"), KT("data__domain")),
        output_field=models.TextField(null=True),
        db_persist=True,
        help_text="a person's company domain, a project's client domain",
    )
    profile = models.GeneratedField(
        expression=KT("data__linkedin_url"),
        output_field=models.TextField(null=True),
        db_persist=True,
        help_text="a person's public profile URL",
    )
    starts = models.GeneratedField(
        expression=KT("data__start"),
        output_field=models.TextField(null=True),
        db_persist=True,
        help_text="a booking's start, UTC ISO 8601 (so text order is time order): the host's free slots "
        "are found by the bookings in a window, not by reading every booking",
    )

    class Meta:
        ordering = ["kind", "ref"]
        constraints = [models.UniqueConstraint(fields=["kind", "ref"], name="sandboxrecord_unique_kind_ref")]
        indexes = [
            models.Index(fields=["kind", "party"], name="sandboxrecord_party"),
            models.Index(fields=["kind", "sender", "created_at"], name="sandboxrecord_sender"),
            models.Index(fields=["kind", "domain"], name="sandboxrecord_domain"),
            models.Index(fields=["kind", "profile"], name="sandboxrecord_profile"),
            models.Index(fields=["kind", "starts"], name="sandboxrecord_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"
