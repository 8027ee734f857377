"""How we reach them: sending mailboxes, campaigns, their steps and variants, and enrollments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from crm.models._normalising import clean_fields_then, normalise_fields
from crm.models.leads import Lead
from crm.models.research import IdealCustomerProfile, Persona
from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check


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
    # Gmail's history cursor: the inbox poll reads what changed after it (users.history.list).
    history_id = models.CharField(max_length=32, blank=True, help_text="last Gmail historyId read (inbox poll)")
    history_synced_at = models.DateTimeField(null=True, blank=True, help_text="last inbox poll that moved on")

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

        errors = normalise_fields(self, {"email": normalize_email}, exclude)
        clean_fields_then(errors, exclude, super().clean_fields)


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


class CampaignStats(TimeStampedModel):
    """One day's reading of a campaign, counted from its Message rows (campaign_analytics writes it)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="stats")
    day = models.DateField(help_text="business date of the reading")
    totals = models.JSONField(default=dict, blank=True, help_text="{sent, opened, replied, ..., *_rate}")
    by_step = models.JSONField(default=dict, blank=True, help_text='{"<step order>": totals}')
    by_variant = models.JSONField(default=dict, blank=True, help_text='{"<step order>/<label>": totals}')

    class Meta:
        verbose_name_plural = "campaign stats"
        ordering = ["campaign", "-day"]
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="campaignstats_unique_day")]

    def __str__(self) -> str:
        return f"{self.campaign} on {self.day}"


class MailboxDay(models.Model):
    """What one mailbox sent on one (UTC) day: the row the sender locks to stay under the cap, so
    two workers sending at once cannot both take the last slot."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    sent = models.PositiveIntegerField(default=0)
    warmup_advanced = models.BooleanField(default=False, help_text="the warm-up ramp moved on this day")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "day"], name="mailboxday_unique")]

    def __str__(self) -> str:
        return f"{self.mailbox} on {self.day}: {self.sent}"
