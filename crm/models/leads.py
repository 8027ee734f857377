"""Who we sell to: companies and the people at them."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from crm.models._normalising import clean_fields_then, normalise_fields
from crm.models.research import IdealCustomerProfile, Persona
from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check


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

        errors = normalise_fields(self, {"domain": normalize_domain, "country": normalize_country}, exclude)
        clean_fields_then(errors, exclude, super().clean_fields)

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
            # The weaker identities an import matches a row by when it has no address (crm.services.leads):
            # without them every imported row read every lead, and a list of n leads cost n squared.
            models.Index(fields=["linkedin_url"], name="lead_linkedin"),
            models.Index(fields=["source", "source_ref"], name="lead_source_ref"),
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
        errors = normalise_fields(self, normalisers, exclude)
        clean_fields_then(errors, exclude, super().clean_fields)

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
