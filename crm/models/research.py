"""What we know about the market: ideal customer profiles, niches, personas and research reports."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check


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
    company = models.ForeignKey("crm.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    summary = models.TextField(blank=True)
    findings = models.JSONField(default=dict, blank=True)
    sources = models.JSONField(default=list, blank=True)
    run = models.ForeignKey("agents.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [choices_check("kind", ResearchReportKind, "researchreport_kind_valid")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"
