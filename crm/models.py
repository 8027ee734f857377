"""Who we sell to and what we said: research, leads, campaigns, conversations, suppression."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check


def _normalise_fields(
    obj: models.Model, normalisers: dict[str, Callable[[str], str]], exclude: Collection[str] | None
) -> dict[str, list[str]]:
    """Normalise contact fields in place before field validation; returns each field's error.

    Runs before the length checks, so "+1 (415) 555-0123" or "Germany" become values that fit their
    columns instead of failing on length with a message that helps nobody.
    """
    errors: dict[str, list[str]] = {}
    for name, normaliser in normalisers.items():
        value = getattr(obj, name)
        if (exclude and name in exclude) or value is None:
            continue
        if not str(value).strip():
            # Blank means "unknown"; a nullable column stores NULL so unique constraints allow many.
            setattr(obj, name, None if obj._meta.get_field(name).null else "")
            continue
        try:
            setattr(obj, name, normaliser(str(value)))
        except ValueError as exc:
            errors[name] = [str(exc)]
    return errors


def _clean_fields_then(
    errors: dict[str, list[str]], exclude: Collection[str] | None, clean_fields: Callable[[set[str]], None]
) -> None:
    try:
        clean_fields({*(exclude or ()), *errors})
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **errors}) from None
    if errors:
        raise ValidationError(errors)


class IdealCustomerProfile(TimeStampedModel):
    name = models.CharField(max_length=128, unique=True)
    industries = models.JSONField(default=list, blank=True)
    company_sizes = models.JSONField(default=list, blank=True, help_text='employee ranges, e.g. ["11-50", "51-200"]')
    titles = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166 alpha-2 codes")
    pains = models.JSONField(default=list, blank=True)
    exclusions = models.JSONField(default=list, blank=True, help_text="domains or keywords never to target")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "ideal customer profile"

    def __str__(self) -> str:
        return self.name


class NicheStatus(models.TextChoices):
    CANDIDATE = "candidate"
    SELECTED = "selected"
    DROPPED = "dropped"


class Niche(StatefulModel):
    Status = NicheStatus

    STATUS_MACHINE = StatusMachine(
        {
            Status.CANDIDATE: {Status.SELECTED, Status.DROPPED},
            Status.SELECTED: {Status.DROPPED},
            Status.DROPPED: {Status.CANDIDATE},
        }
    )

    name = models.CharField(max_length=128, unique=True)
    icp = models.ForeignKey(
        IdealCustomerProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="niches"
    )
    description = models.TextField(blank=True)
    demand_score = models.PositiveSmallIntegerField(default=0)
    budget_score = models.PositiveSmallIntegerField(default=0)
    competition_score = models.PositiveSmallIntegerField(default=0)
    reachability_score = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)

    class Meta:
        constraints = [
            choices_check("status", NicheStatus, "niche_status_valid"),
            *[
                models.CheckConstraint(condition=Q(**{f"{f}__lte": 100}), name=f"niche_{f}_le_100")
                for f in ("demand_score", "budget_score", "competition_score", "reachability_score")
            ],
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def total_score(self) -> int:
        # Competition counts against a niche.
        return self.demand_score + self.budget_score + self.reachability_score - self.competition_score


class Persona(TimeStampedModel):
    niche = models.ForeignKey(Niche, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=128)
    title_patterns = models.JSONField(default=list, blank=True)
    pains = models.JSONField(default=list, blank=True)
    triggers = models.JSONField(default=list, blank=True)
    objections = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["niche", "name"], name="persona_unique_per_niche")]

    def __str__(self) -> str:
        return f"{self.name} ({self.niche})"


class Company(TimeStampedModel):
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=253, null=True, blank=True, help_text="lower case, no scheme or www")
    industry = models.CharField(max_length=128, blank=True)
    employee_range = models.CharField(max_length=16, blank=True, help_text="e.g. 11-50")
    revenue_band = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    tech_stack = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    enrichment = models.JSONField(default=dict, blank=True, help_text="{source, fetched_at, data}")
    source = models.CharField(max_length=64, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(fields=["domain"], name="company_unique_domain"),
            # Normalised in the database, not only in Python: no upper case, no scheme, no www.
            models.CheckConstraint(
                condition=Q(domain__isnull=True)
                | (
                    Q(domain=Lower("domain")) & ~Q(domain__startswith="www.") & ~Q(domain__contains="/") & ~Q(domain="")
                ),
                name="company_domain_normalised",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"), name="company_country_iso"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")), name="company_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return self.domain or self.name

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        from crm.services.normalize import normalize_country, normalize_domain

        errors = _normalise_fields(self, {"domain": normalize_domain, "country": normalize_country}, exclude)
        _clean_fields_then(errors, exclude, super().clean_fields)

    def clean(self) -> None:
        if self.merged_into_id is not None and self.merged_into_id == self.pk:
            raise ValidationError({"merged_into": "a company cannot be merged into itself"})


class LeadStatus(models.TextChoices):
    NEW = "new"
    ENRICHED = "enriched"
    VERIFIED = "verified"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONTACTED = "contacted"
    REPLIED = "replied"
    INTERESTED = "interested"
    MEETING_BOOKED = "meeting_booked"
    PROPOSAL_SENT = "proposal_sent"
    WON = "won"
    LOST = "lost"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class LeadEmailStatus(models.TextChoices):
    UNKNOWN = "unknown"
    VALID = "valid"
    RISKY = "risky"
    CATCH_ALL = "catch_all"
    INVALID = "invalid"
    DISPOSABLE = "disposable"
    ROLE = "role"


class Lead(StatefulModel):
    Status = LeadStatus

    EmailStatus = LeadEmailStatus

    S = Status
    # Unsubscribed is reachable from everywhere and leaves only by a human's explicit decision
    # (not modelled: re-consent creates a new lead record).
    _ANY_TERMINAL = {S.UNSUBSCRIBED, S.BOUNCED, S.LOST, S.DISQUALIFIED}
    STATUS_MACHINE = StatusMachine(
        {
            S.NEW: {S.ENRICHED, S.VERIFIED, S.QUALIFIED, S.DISQUALIFIED, S.UNSUBSCRIBED, S.BOUNCED},
            S.ENRICHED: {S.VERIFIED, S.QUALIFIED, S.DISQUALIFIED, S.UNSUBSCRIBED, S.BOUNCED},
            S.VERIFIED: {S.ENRICHED, S.QUALIFIED, S.DISQUALIFIED, S.UNSUBSCRIBED, S.BOUNCED},
            S.QUALIFIED: {S.CONTACTED, S.DISQUALIFIED, S.UNSUBSCRIBED, S.BOUNCED, S.REPLIED},
            S.DISQUALIFIED: {S.QUALIFIED, S.UNSUBSCRIBED},
            S.CONTACTED: {S.REPLIED, S.INTERESTED, S.MEETING_BOOKED, *_ANY_TERMINAL},
            S.REPLIED: {S.INTERESTED, S.MEETING_BOOKED, S.CONTACTED, *_ANY_TERMINAL},
            S.INTERESTED: {S.MEETING_BOOKED, S.PROPOSAL_SENT, S.REPLIED, *_ANY_TERMINAL},
            S.MEETING_BOOKED: {S.PROPOSAL_SENT, S.INTERESTED, S.WON, *_ANY_TERMINAL},
            S.PROPOSAL_SENT: {S.WON, S.MEETING_BOOKED, *_ANY_TERMINAL},
            S.WON: {S.UNSUBSCRIBED},
            S.LOST: {S.QUALIFIED, S.UNSUBSCRIBED},  # reactivation after a cool-off
            S.BOUNCED: {S.NEW, S.UNSUBSCRIBED},  # a corrected address starts over
        }
    )

    first_name = models.CharField(max_length=128, blank=True)
    last_name = models.CharField(max_length=128, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    email = models.EmailField(max_length=254, null=True, blank=True, help_text="lower case")
    email_status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.UNKNOWN)
    title = models.CharField(max_length=255, blank=True)
    seniority = models.CharField(max_length=32, blank=True)
    linkedin_url = models.URLField(max_length=500, blank=True)
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +14155550123")
    country = models.CharField(max_length=2, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="IANA name, e.g. Europe/Berlin")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    score_reasons = models.JSONField(default=list, blank=True)
    research = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=64, blank=True)
    source_ref = models.CharField(max_length=255, blank=True, help_text="id of the record at the source")
    icp = models.ForeignKey(
        IdealCustomerProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    do_not_contact = models.BooleanField(default=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")

    class Meta:
        indexes = [
            models.Index(fields=["status", "score"], name="lead_status_score"),
            models.Index(Lower("last_name"), "company", name="lead_name_company"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="lead_unique_email"),
            models.CheckConstraint(
                condition=Q(email__isnull=True) | (Q(email=Lower("email")) & Q(email__contains="@")),
                name="lead_email_normalised",
            ),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="lead_score_0_100"),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="lead_phone_e164"
            ),
            choices_check("status", LeadStatus, "lead_status_valid"),
            choices_check("email_status", LeadEmailStatus, "lead_email_status_valid"),
            # An unsubscribed lead can never be contactable again by accident.
            models.CheckConstraint(
                condition=~Q(status="unsubscribed") | Q(do_not_contact=True), name="lead_unsubscribed_is_dnc"
            ),
            models.CheckConstraint(condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"), name="lead_country_iso"),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")), name="lead_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or f"lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        from crm.services import normalize

        def phone(raw: str) -> str:
            return normalize.normalize_phone(raw, self.country if len(self.country or "") == 2 else None)

        normalisers = {
            "email": normalize.normalize_email,
            "country": normalize.normalize_country,
            "phone": phone,  # after the country: a national number is read with it
            "time_zone": normalize.normalize_time_zone,
        }
        errors = _normalise_fields(self, normalisers, exclude)
        _clean_fields_then(errors, exclude, super().clean_fields)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.score is not None and not 0 <= self.score <= 100:
            errors["score"] = "a score is between 0 and 100"
        if self.status == LeadStatus.UNSUBSCRIBED and not self.do_not_contact:
            errors["do_not_contact"] = "an unsubscribed lead must be marked do-not-contact"
        if self.merged_into_id is not None and self.merged_into_id == self.pk:
            errors["merged_into"] = "a lead cannot be merged into itself"
        if errors:
            raise ValidationError(errors)


class ResearchReportKind(models.TextChoices):
    NICHE = "niche"
    PERSONA = "persona"
    COMPANY = "company"
    LEAD = "lead"
    COMPETITOR = "competitor"


class ResearchReport(TimeStampedModel):
    Kind = ResearchReportKind

    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=255)
    niche = models.ForeignKey(Niche, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    summary = models.TextField(blank=True)
    findings = models.JSONField(default=dict, blank=True)
    sources = models.JSONField(default=list, blank=True)
    run = models.ForeignKey("agents.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [choices_check("kind", ResearchReportKind, "researchreport_kind_valid")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class Mailbox(TimeStampedModel):
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=128, blank=True)
    provider = models.CharField(max_length=32, default="sandbox")
    provider_account_id = models.CharField(max_length=128, blank=True)
    daily_cap = models.PositiveIntegerField(default=40)
    warmup_stage = models.PositiveSmallIntegerField(default=0, help_text="0 = warmed up; n = ramp day n")
    bounce_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    complaint_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="mailbox_email_lower"),
            models.CheckConstraint(
                condition=Q(bounce_rate__gte=0, bounce_rate__lte=1, complaint_rate__gte=0, complaint_rate__lte=1),
                name="mailbox_rates_0_1",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        from crm.services.normalize import normalize_email

        errors = _normalise_fields(self, {"email": normalize_email}, exclude)
        _clean_fields_then(errors, exclude, super().clean_fields)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft"
    REVIEW = "review"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


class CampaignTimezonePolicy(models.TextChoices):
    LEAD = "lead", "the lead's time zone"
    AGENCY = "agency", "the agency's time zone"


class Campaign(StatefulModel):
    Status = CampaignStatus

    TimezonePolicy = CampaignTimezonePolicy

    STATUS_MACHINE = StatusMachine(
        {
            Status.DRAFT: {Status.REVIEW},
            Status.REVIEW: {Status.DRAFT, Status.ACTIVE},
            Status.ACTIVE: {Status.PAUSED, Status.COMPLETED},
            Status.PAUSED: {Status.ACTIVE, Status.COMPLETED, Status.DRAFT},
        }
    )

    name = models.CharField(max_length=255, unique=True)
    icp = models.ForeignKey(
        IdealCustomerProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    daily_limit = models.PositiveIntegerField(default=50)
    send_window_start = models.TimeField(default=dt.time(9, 0))
    send_window_end = models.TimeField(default=dt.time(17, 0))
    send_weekdays = models.JSONField(default=list, blank=True, help_text="ISO weekdays, 1 = Monday; empty = Mon-Fri")
    timezone_policy = models.CharField(max_length=8, choices=TimezonePolicy.choices, default=TimezonePolicy.LEAD)
    stop_rules = models.JSONField(default=dict, blank=True, help_text='{"on_reply": true, "max_bounce_rate": 0.03}')
    external_id = models.CharField(max_length=128, blank=True, help_text="id at the outreach provider")
    mailboxes = models.ManyToManyField(Mailbox, blank=True, related_name="campaigns")
    paused_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            choices_check("status", CampaignStatus, "campaign_status_valid"),
            models.CheckConstraint(
                condition=Q(send_window_end__gt=F("send_window_start")), name="campaign_window_ordered"
            ),
            models.CheckConstraint(condition=Q(daily_limit__gte=1), name="campaign_daily_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.send_window_start and self.send_window_end and self.send_window_end <= self.send_window_start:
            errors["send_window_end"] = "the send window must end after it starts (same day, in the lead's zone)"
        weekdays: Any = self.send_weekdays
        if not isinstance(weekdays, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in weekdays):
            errors["send_weekdays"] = "a list of ISO weekdays 1-7 (1 = Monday), e.g. [1, 2, 3, 4, 5]"
        if not isinstance(self.stop_rules, dict):
            errors["stop_rules"] = 'a JSON object, e.g. {"on_reply": true}'
        if errors:
            raise ValidationError(errors)


class CampaignStep(TimeStampedModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    delay_business_days = models.PositiveSmallIntegerField(default=0)
    subject_template = models.CharField(max_length=255)
    body_template = models.TextField()
    spam_check = models.JSONField(default=dict, blank=True, help_text="{passed, score, findings, checked_at}")

    class Meta:
        ordering = ["campaign", "order"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "order"], name="campaignstep_unique_order"),
            models.CheckConstraint(condition=~Q(subject_template=""), name="campaignstep_subject_present"),
            models.CheckConstraint(condition=~Q(body_template=""), name="campaignstep_body_present"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} step {self.order}"


class Variant(TimeStampedModel):
    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=8, help_text="A, B, ...")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    weight = models.PositiveSmallIntegerField(default=1)
    is_winner = models.BooleanField(default=False)

    class Meta:
        ordering = ["step", "label"]
        constraints = [
            models.UniqueConstraint(fields=["step", "label"], name="variant_unique_label"),
            models.UniqueConstraint(fields=["step"], condition=Q(is_winner=True), name="variant_one_winner_per_step"),
            models.CheckConstraint(condition=~Q(label=""), name="variant_label_present"),
        ]

    def __str__(self) -> str:
        return f"{self.step} / {self.label}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    REPLIED = "replied"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    STOPPED = "stopped"


class Enrollment(StatefulModel):
    Status = EnrollmentStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.ACTIVE: {S.PAUSED, S.COMPLETED, S.REPLIED, S.BOUNCED, S.UNSUBSCRIBED, S.STOPPED},
            S.PAUSED: {S.ACTIVE, S.REPLIED, S.BOUNCED, S.UNSUBSCRIBED, S.STOPPED},
            S.REPLIED: {S.UNSUBSCRIBED, S.STOPPED},
            S.COMPLETED: {S.REPLIED, S.UNSUBSCRIBED, S.BOUNCED},
        }
    )
    STOPPED_STATES = frozenset({S.COMPLETED, S.REPLIED, S.BOUNCED, S.UNSUBSCRIBED, S.STOPPED})

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="enrollments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    current_step = models.PositiveSmallIntegerField(default=0, help_text="order of the next step to send")
    variant_label = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    next_send_at = models.DateTimeField(null=True, blank=True)
    variables = models.JSONField(default=dict, blank=True, help_text="personalisation variables")
    stopped_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_send_at"], name="enrollment_due")]
        constraints = [
            models.UniqueConstraint(fields=["lead", "campaign"], name="enrollment_unique_lead_campaign"),
            choices_check("status", EnrollmentStatus, "enrollment_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} in {self.campaign}"


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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_thread")]
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
            errors = _normalise_fields(self, {"value": normaliser}, exclude)
            if not errors:
                self.value_hash = value_hash(self.value)
        _clean_fields_then(errors, exclude, super().clean_fields)
