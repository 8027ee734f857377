"""Meetings, proposals and money."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from smarter_team.models import (
    StatefulModel,
    StatusMachine,
    TimeStampedModel,
    choices_check,
    currency_check,
    currency_field,
    money_field,
)


class MeetingKind(models.TextChoices):
    DISCOVERY = "discovery"
    PROPOSAL = "proposal"
    KICKOFF = "kickoff"
    CHECK_IN = "check_in"


class MeetingStatus(models.TextChoices):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    REMINDED = "reminded"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELED = "canceled"
    FOLLOWED_UP = "followed_up"


class Meeting(StatefulModel):
    Kind = MeetingKind

    Status = MeetingStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.PROPOSED: {S.SCHEDULED, S.CANCELED},
            S.SCHEDULED: {S.RESCHEDULED, S.REMINDED, S.HELD, S.NO_SHOW, S.CANCELED},
            S.RESCHEDULED: {S.RESCHEDULED, S.REMINDED, S.HELD, S.NO_SHOW, S.CANCELED},
            S.REMINDED: {S.RESCHEDULED, S.HELD, S.NO_SHOW, S.CANCELED},
            S.HELD: {S.FOLLOWED_UP},
            S.NO_SHOW: {S.RESCHEDULED, S.FOLLOWED_UP, S.CANCELED},
        }
    )

    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings")
    client = models.ForeignKey(
        "sales.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DISCOVERY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    title = models.CharField(max_length=255, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    booking_uid = models.CharField(max_length=128, null=True, blank=True, help_text="Cal.com booking uid")
    join_url = models.URLField(max_length=500, blank=True)
    reminder_24h_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_1h_sent_at = models.DateTimeField(null=True, blank=True)
    no_show_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["status", "starts_at"], name="meeting_status_start")]
        constraints = [
            models.UniqueConstraint(fields=["booking_uid"], name="meeting_unique_booking_uid"),
            choices_check("kind", MeetingKind, "meeting_kind_valid"),
            choices_check("status", MeetingStatus, "meeting_status_valid"),
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(client__isnull=False),
                name="meeting_has_lead_or_client",
                violation_error_message="A meeting needs a lead or a client.",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="meeting_ends_after_start",
                violation_error_message="The meeting must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "canceled"]) | Q(starts_at__isnull=False),
                name="meeting_scheduled_has_start",
                violation_error_message="A scheduled meeting needs a start time.",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} meeting #{self.pk}"


class MeetingParticipantRole(models.TextChoices):
    HOST = "host"
    PROSPECT = "prospect"
    CLIENT = "client"
    GUEST = "guest"


class MeetingParticipant(TimeStampedModel):
    Role = MeetingParticipantRole

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(max_length=255, blank=True)
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.GUEST)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "email"], name="meetingparticipant_unique_email"),
            choices_check("role", MeetingParticipantRole, "meetingparticipant_role_valid"),
        ]

    def __str__(self) -> str:
        return self.name or self.email


class MeetingNoteKind(models.TextChoices):
    PREP = "prep"
    TRANSCRIPT = "transcript"
    SUMMARY = "summary"


class MeetingNote(TimeStampedModel):
    Kind = MeetingNoteKind

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    content = models.TextField()
    action_items = models.JSONField(default=list, blank=True, help_text="[{text, owner, due}]")
    source = models.CharField(max_length=128, blank=True, help_text="e.g. the Fathom recording id")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind"], name="meetingnote_one_per_kind"),
            choices_check("kind", MeetingNoteKind, "meetingnote_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.meeting}"


class FathomRecordingTranscriptStatus(models.TextChoices):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class FathomRecording(TimeStampedModel):
    TranscriptStatus = FathomRecordingTranscriptStatus

    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings")
    recording_id = models.CharField(max_length=128, unique=True)
    url = models.URLField(max_length=500, blank=True)
    share_url = models.URLField(max_length=500, blank=True)
    transcript_status = models.CharField(
        max_length=8, choices=TranscriptStatus.choices, default=TranscriptStatus.PENDING
    )
    summary = models.TextField(blank=True)

    class Meta:
        constraints = [
            choices_check("transcript_status", FathomRecordingTranscriptStatus, "fathomrecording_status_valid")
        ]

    def __str__(self) -> str:
        return self.recording_id


class CallPerformance(TimeStampedModel):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="performance")
    talk_ratio = models.DecimalField(max_digits=4, decimal_places=3, help_text="share of words spoken by us, 0-1")
    questions_asked = models.PositiveSmallIntegerField(default=0)
    longest_monologue_seconds = models.PositiveIntegerField(default=0)
    objections_raised = models.PositiveSmallIntegerField(default=0)
    objections_handled = models.PositiveSmallIntegerField(default=0)
    next_step_agreed = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "call performance"
        constraints = [
            models.CheckConstraint(condition=Q(talk_ratio__gte=0, talk_ratio__lte=1), name="callperformance_ratio_0_1"),
            models.CheckConstraint(
                condition=Q(objections_handled__lte=F("objections_raised")), name="callperformance_handled_le_raised"
            ),
        ]

    def __str__(self) -> str:
        return f"performance of {self.meeting}"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SENT = "sent"
    VIEWED = "viewed"
    SIGNED = "signed"
    DECLINED = "declined"
    EXPIRED = "expired"


class Proposal(StatefulModel):
    Status = ProposalStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.DRAFT: {S.AWAITING_APPROVAL, S.SENT},
            S.AWAITING_APPROVAL: {S.DRAFT, S.SENT, S.DECLINED},
            S.SENT: {S.VIEWED, S.SIGNED, S.DECLINED, S.EXPIRED},
            S.VIEWED: {S.SIGNED, S.DECLINED, S.EXPIRED},
            S.EXPIRED: {S.DRAFT},
            S.DECLINED: {S.DRAFT},
        }
    )

    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    client = models.ForeignKey(
        "sales.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    title = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    requirements = models.JSONField(default=dict, blank=True)
    line_items = models.JSONField(default=list, blank=True, help_text="[{description, quantity, unit_price}]")
    total = money_field()
    currency = currency_field()
    valid_until = models.DateField(null=True, blank=True)
    document_id = models.CharField(max_length=128, null=True, blank=True, help_text="PandaDoc document id")
    sent_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    follow_ups_sent = models.PositiveSmallIntegerField(default=0)
    content = models.TextField(blank=True, help_text="the proposal as written for the client (the document's text)")
    pricing = models.JSONField(
        default=dict, blank=True, help_text="how the price was reached: list price, cost, margin, discount, budget fit"
    )
    reactivate_after = models.DateField(
        null=True, blank=True, help_text="a declined or expired deal: the lead may be approached again from this day"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document_id"], name="proposal_unique_document"),
            choices_check("status", ProposalStatus, "proposal_status_valid"),
            currency_check("proposal_currency_iso"),
            models.CheckConstraint(
                condition=Q(total__gte=0),
                name="proposal_total_nonnegative",
                violation_error_message="The proposal total cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(company__isnull=False) | Q(client__isnull=False),
                name="proposal_has_recipient",
                violation_error_message="A proposal needs a lead, a company or a client.",
            ),
            models.CheckConstraint(
                condition=~Q(status="signed") | Q(signed_at__isnull=False), name="proposal_signed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ClientStatus(models.TextChoices):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    CHURNED = "churned"
    OFFBOARDED = "offboarded"


class Client(StatefulModel):
    Status = ClientStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.ONBOARDING: {S.ACTIVE, S.AT_RISK, S.CHURNED},
            S.ACTIVE: {S.AT_RISK, S.CHURNED},
            S.AT_RISK: {S.ACTIVE, S.CHURNED},
            S.CHURNED: {S.OFFBOARDED, S.ONBOARDING},  # win-back starts a new onboarding
            S.OFFBOARDED: {S.ONBOARDING},
        }
    )

    company = models.OneToOneField("crm.Company", on_delete=models.PROTECT, related_name="client")
    primary_contact = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ONBOARDING)
    started_on = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    monthly_value = money_field()
    currency = currency_field()
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            choices_check("status", ClientStatus, "client_status_valid"),
            currency_check("client_currency_iso"),
            models.CheckConstraint(
                condition=Q(monthly_value__gte=0),
                name="client_value_nonnegative",
                violation_error_message="The monthly value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(health_score__isnull=True) | Q(health_score__lte=100), name="client_health_0_100"
            ),
            models.CheckConstraint(
                condition=Q(contract_end__isnull=True)
                | Q(started_on__isnull=True)
                | Q(contract_end__gte=F("started_on")),
                name="client_contract_ordered",
                violation_error_message="The contract cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.company)


class InvoiceSequence(models.Model):
    """The last number used per year: locked with SELECT FOR UPDATE so numbers have no gaps."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class InvoiceKind(models.TextChoices):
    DEPOSIT = "deposit"
    MILESTONE = "milestone"
    RETAINER = "retainer"
    FINAL = "final"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class Invoice(StatefulModel):
    Kind = InvoiceKind

    Status = InvoiceStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.DRAFT: {S.OPEN, S.VOID},
            S.OPEN: {S.PAID, S.VOID, S.UNCOLLECTIBLE},
            S.UNCOLLECTIBLE: {S.PAID, S.VOID},
            S.PAID: {S.OPEN},  # a full refund reopens it
        }
    )

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    number = models.CharField(max_length=32, unique=True, help_text="INV-YYYY-NNNNN, gapless per year")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    amount = money_field()
    currency = currency_field()
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    provider_id = models.CharField(max_length=64, null=True, blank=True, help_text="Stripe invoice id")
    accounting_id = models.CharField(max_length=64, blank=True, help_text="QuickBooks invoice id")
    dunning_stage = models.PositiveSmallIntegerField(default=0)
    last_dunning_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # The business event it bills (a deposit of a proposal, a retainer month, a milestone): unique,
    # so two runs for the same event can never both create an invoice.
    key = models.CharField(
        max_length=128, null=True, blank=True, help_text="the business event billed, e.g. client:3:retainer:2026-05"
    )
    description = models.CharField(max_length=255, blank=True, help_text="the invoice's line, as the client reads it")
    payment_url = models.URLField(max_length=500, blank=True, help_text="the provider's hosted payment page")
    # A chargeback opened on its payment (Stripe charge.dispute.created): nobody chases it while set.
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_on"], name="invoice_status_due")]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_unique_year_sequence"),
            models.UniqueConstraint(fields=["provider_id"], name="invoice_unique_provider_id"),
            models.UniqueConstraint(fields=["key"], name="invoice_unique_key"),
            choices_check("kind", InvoiceKind, "invoice_kind_valid"),
            choices_check("status", InvoiceStatus, "invoice_status_valid"),
            currency_check("invoice_currency_iso"),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="invoice_amount_positive",
                violation_error_message="The invoice amount must be greater than zero.",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="invoice_paid_has_time"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="invoice_sequence_positive"),
            models.CheckConstraint(
                condition=Q(number__regex=r"^INV-[0-9]{4}-[0-9]{5,}$"), name="invoice_number_format"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class Payment(StatefulModel):
    """One row per provider event (a ledger): a charge that succeeded or failed, or a refund.

    Rows are never rewritten, so a replayed webhook finds its row by ``provider_event_id`` and changes
    nothing. A refund is its own row (status refunded, the refunded amount, positive); what an invoice
    has been paid is the sum of succeeded rows minus the sum of refunded rows.
    """

    Status = PaymentStatus

    # Every status is terminal: a refund is recorded as a new row, not by rewriting the charge.
    STATUS_MACHINE = StatusMachine({})

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    currency = currency_field()
    provider_event_id = models.CharField(max_length=128, unique=True, help_text="the Stripe event that recorded it")
    provider_payment_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    paid_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    # Bookkeeping, not the ledger: the QuickBooks payment this row was synced as (set once).
    accounting_id = models.CharField(max_length=64, blank=True, help_text="QuickBooks payment id")

    class Meta:
        constraints = [
            choices_check("status", PaymentStatus, "payment_status_valid"),
            currency_check("payment_currency_iso"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(paid_at__isnull=False),
                name="payment_succeeded_has_time",
                violation_error_message="A succeeded payment needs the time it was paid.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"
