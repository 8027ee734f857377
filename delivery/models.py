"""After the signature: onboarding, delivery, retention, offboarding."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from smarter_team import clock
from smarter_team.models import (
    StatefulModel,
    StatusMachine,
    TimeStampedModel,
    choices_check,
    currency_check,
    currency_field,
    money_field,
)


class OnboardingStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    STUCK = "stuck"
    COMPLETED = "completed"
    CANCELED = "canceled"


class Onboarding(StatefulModel):
    Status = OnboardingStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.IN_PROGRESS: {S.STUCK, S.COMPLETED, S.CANCELED},
            S.STUCK: {S.IN_PROGRESS, S.COMPLETED, S.CANCELED},
        }
    )

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="onboardings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField(default=clock.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField(default=clock.now)
    nudges_sent = models.PositiveSmallIntegerField(default=0)
    shared_folder_url = models.URLField(max_length=500, blank=True)

    class Meta:
        constraints = [
            choices_check("status", OnboardingStatus, "onboarding_status_valid"),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=["in_progress", "stuck"]),
                name="onboarding_one_open_per_client",
                violation_error_message="This client already has an open onboarding.",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False), name="onboarding_completed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"onboarding of {self.client}"


class OnboardingTask(TimeStampedModel):
    onboarding = models.ForeignKey(Onboarding, on_delete=models.CASCADE, related_name="tasks")
    item = models.CharField(max_length=255)
    order = models.PositiveSmallIntegerField(default=0)
    external_id = models.CharField(max_length=128, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["onboarding", "order"]
        constraints = [models.UniqueConstraint(fields=["onboarding", "item"], name="onboardingtask_unique_item")]

    def __str__(self) -> str:
        return self.item


class ProjectStatus(models.TextChoices):
    PLANNING = "planning"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELED = "canceled"


class Project(StatefulModel):
    Status = ProjectStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.PLANNING: {S.ACTIVE, S.CANCELED},
            S.ACTIVE: {S.ON_HOLD, S.COMPLETED, S.CANCELED},
            S.ON_HOLD: {S.ACTIVE, S.CANCELED},
        }
    )

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="projects")
    proposal = models.ForeignKey(
        "sales.Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNING)
    starts_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    pm_tool_id = models.CharField(max_length=128, blank=True, help_text="ClickUp list / Notion page id")
    committed_hours = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        constraints = [
            choices_check("status", ProjectStatus, "project_status_valid"),
            models.UniqueConstraint(fields=["client", "name"], name="project_unique_name_per_client"),
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(starts_on__isnull=True) | Q(due_on__gte=F("starts_on")),
                name="project_dates_ordered",
                violation_error_message="The project cannot be due before it starts.",
            ),
            models.CheckConstraint(condition=Q(committed_hours__gte=0), name="project_hours_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name


class MilestoneStatus(models.TextChoices):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    AT_RISK = "at_risk"
    DONE = "done"
    ACCEPTED = "accepted"


class Milestone(StatefulModel):
    Status = MilestoneStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.PENDING: {S.IN_PROGRESS, S.AT_RISK, S.DONE},
            S.IN_PROGRESS: {S.AT_RISK, S.DONE},
            S.AT_RISK: {S.IN_PROGRESS, S.DONE},
            S.DONE: {S.ACCEPTED, S.IN_PROGRESS},
        }
    )

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=255)
    order = models.PositiveSmallIntegerField(default=0)
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    acceptance_criteria = models.JSONField(default=list, blank=True)
    amount = money_field(help_text="invoiced on acceptance; 0 = not billed separately")
    external_id = models.CharField(max_length=128, blank=True)
    completed_on = models.DateField(null=True, blank=True, help_text="when its last task closed")
    slip_days = models.PositiveSmallIntegerField(
        default=0, help_text="days past its due date, forecast from the tasks' progress (0 = on time)"
    )

    class Meta:
        ordering = ["project", "order"]
        constraints = [
            choices_check("status", MilestoneStatus, "milestone_status_valid"),
            models.UniqueConstraint(fields=["project", "name"], name="milestone_unique_name_per_project"),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="milestone_amount_nonnegative",
                violation_error_message="The milestone amount cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectTaskKind(models.TextChoices):
    PLANNED = "planned"
    REWORK = "rework", "rework after QA"
    FIX = "fix", "fix of a reported defect"
    CHANGE = "change", "approved change request"


class ProjectTaskStatus(models.TextChoices):
    TO_DO = "to_do"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped", "closed without being done"


class ProjectTask(TimeStampedModel):
    """A unit of work we planned and pushed to the PM tool; the tool is the truth of its progress,
    so any status may follow any other (a closed task can be reopened there)."""

    Kind = ProjectTaskKind
    Status = ProjectTaskStatus

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    key = models.CharField(
        max_length=160, unique=True, help_text="domain identity, the PM tool's idempotency key (milestone:3:task:2)"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PLANNED)
    estimate_hours = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    due_on = models.DateField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TO_DO)
    pm_status = models.CharField(max_length=64, blank=True, help_text="the PM tool's own word for it")
    external_id = models.CharField(max_length=128, blank=True, help_text="the PM tool's task id")
    url = models.URLField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "order", "pk"]
        constraints = [
            choices_check("kind", ProjectTaskKind, "projecttask_kind_valid"),
            choices_check("status", ProjectTaskStatus, "projecttask_status_valid"),
            models.UniqueConstraint(fields=["project", "title"], name="projecttask_unique_title_per_project"),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="projecttask_unique_external_id",
                violation_error_message="Another task of this project has that PM tool id.",
            ),
            models.CheckConstraint(
                condition=Q(estimate_hours__gte=0),
                name="projecttask_estimate_nonnegative",
                violation_error_message="An estimate cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def closed(self) -> bool:
        return self.status in (ProjectTaskStatus.DONE, ProjectTaskStatus.DROPPED)


class DeliverableStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    READY = "ready", "ready for QA"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELIVERED = "delivered"


class Deliverable(StatefulModel):
    Status = DeliverableStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.IN_PROGRESS: {S.READY},
            S.READY: {S.APPROVED, S.REJECTED},
            S.REJECTED: {S.IN_PROGRESS, S.READY},
            S.APPROVED: {S.DELIVERED, S.IN_PROGRESS},
        }
    )

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="deliverables")
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)

    class Meta:
        constraints = [choices_check("status", DeliverableStatus, "deliverable_status_valid")]

    def __str__(self) -> str:
        return self.name


class QAReviewVerdict(models.TextChoices):
    PASS = "pass"  # noqa: S105 (a QA verdict, not a password)
    FAIL = "fail"


class QAReview(TimeStampedModel):
    Verdict = QAReviewVerdict

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="reviews")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    findings = models.JSONField(default=list, blank=True, help_text="[{criterion, met, note}]")
    reviewer = models.CharField(max_length=64, default="quality_assurance")

    class Meta:
        verbose_name = "QA review"
        constraints = [choices_check("verdict", QAReviewVerdict, "qareview_verdict_valid")]

    def __str__(self) -> str:
        return f"{self.verdict} for {self.deliverable}"


class ChangeRequestStatus(models.TextChoices):
    DETECTED = "detected"
    PRICED = "priced"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


class ChangeRequest(StatefulModel):
    Status = ChangeRequestStatus

    S = Status
    STATUS_MACHINE = StatusMachine(
        {
            S.DETECTED: {S.PRICED, S.REJECTED},
            S.PRICED: {S.AWAITING_APPROVAL, S.APPROVED, S.REJECTED},
            S.AWAITING_APPROVAL: {S.APPROVED, S.REJECTED},
        }
    )

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="change_requests")
    description = models.TextField()
    price = money_field()
    currency = currency_field()
    estimate = models.JSONField(
        default=dict, blank=True, help_text="how the price was reached: lines, hours, cost, margin (pricing)"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DETECTED)
    source_message = models.ForeignKey(
        "crm.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            choices_check("status", ChangeRequestStatus, "changerequest_status_valid"),
            currency_check("changerequest_currency_iso"),
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="changerequest_price_nonnegative",
                violation_error_message="The price cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class ClientReport(TimeStampedModel):
    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="reports")
    period_start = models.DateField()
    period_end = models.DateField()
    content = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "period_start"], name="clientreport_unique_period"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="clientreport_period_ordered",
                violation_error_message="The report period cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period_start}"


class HealthSnapshot(TimeStampedModel):
    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="health_snapshots")
    taken_on = models.DateField()
    score = models.PositiveSmallIntegerField()
    components = models.JSONField(default=dict, blank=True, help_text="{payments, sentiment, delivery, engagement}")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "taken_on"], name="healthsnapshot_one_per_day"),
            models.CheckConstraint(
                condition=Q(score__lte=100),
                name="healthsnapshot_score_0_100",
                violation_error_message="A health score is between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.taken_on}: {self.score}"


class ChurnRiskAssessmentLevel(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ChurnRiskAssessment(TimeStampedModel):
    Level = ChurnRiskAssessmentLevel

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="churn_assessments")
    snapshot = models.ForeignKey(HealthSnapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices)
    factors = models.JSONField(default=list, blank=True)
    save_play = models.TextField(blank=True)

    class Meta:
        constraints = [choices_check("level", ChurnRiskAssessmentLevel, "churnrisk_level_valid")]

    def __str__(self) -> str:
        return f"{self.client}: {self.level}"


class UpsellOpportunityStatus(models.TextChoices):
    IDENTIFIED = "identified"
    PROPOSED = "proposed"
    WON = "won"
    LOST = "lost"


class UpsellOpportunity(StatefulModel):
    Status = UpsellOpportunityStatus

    STATUS_MACHINE = StatusMachine(
        {Status.IDENTIFIED: {Status.PROPOSED, Status.LOST}, Status.PROPOSED: {Status.WON, Status.LOST}}
    )

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="upsells")
    title = models.CharField(max_length=255)
    rationale = models.TextField(blank=True)
    estimated_value = money_field()
    currency = currency_field()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IDENTIFIED)
    proposal = models.ForeignKey("sales.Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "upsell opportunities"
        constraints = [
            choices_check("status", UpsellOpportunityStatus, "upsell_status_valid"),
            currency_check("upsell_currency_iso"),
            models.CheckConstraint(condition=Q(estimated_value__gte=0), name="upsell_value_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.title


class SurveyResponseKind(models.TextChoices):
    NPS = "nps"
    CSAT = "csat"
    EXIT = "exit"


class SurveyResponse(TimeStampedModel):
    Kind = SurveyResponseKind

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="survey_responses")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="NPS 0-10, CSAT 1-5")
    answers = models.JSONField(default=dict, blank=True)
    analysis = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            choices_check("kind", SurveyResponseKind, "survey_kind_valid"),
            models.CheckConstraint(
                condition=Q(score__isnull=True)
                | (Q(kind="nps") & Q(score__lte=10))
                | (Q(kind="csat") & Q(score__gte=1) & Q(score__lte=5))
                | Q(kind="exit"),
                name="survey_score_in_scale",
                violation_error_message="NPS scores are 0-10 and CSAT scores 1-5.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.client}"


class OffboardingStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Offboarding(StatefulModel):
    Status = OffboardingStatus

    STATUS_MACHINE = StatusMachine({Status.IN_PROGRESS: {Status.COMPLETED}})

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="offboardings")
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    checklist = models.JSONField(default=list, blank=True, help_text="[{item, done_at}]")
    handover_document = models.TextField(blank=True)
    access_revoked_at = models.DateTimeField(null=True, blank=True)
    reactivation_after = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            choices_check("status", OffboardingStatus, "offboarding_status_valid"),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status="in_progress"),
                name="offboarding_one_open_per_client",
                violation_error_message="This client already has an offboarding in progress.",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="offboarding_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"offboarding of {self.client}"


class ClientAccessKind(models.TextChoices):
    USER_ACCOUNT = "user_account", "user account"
    ADMIN_ACCOUNT = "admin_account", "admin account"
    API_KEY = "api_key", "API key or token"
    GUEST = "guest", "guest seat"
    COLLABORATOR = "collaborator", "collaborator account"


class ClientAccessStatus(models.TextChoices):
    REQUESTED = "requested"
    GRANTED = "granted"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn", "withdrawn (never granted)"


class ClientAccessRevocation(models.TextChoices):
    PROVIDER = "provider", "through the provider"
    MANUAL = "manual", "by hand (a person removes it)"


class ClientAccess(StatefulModel):
    """An access a client gave us to one of their systems: what access_revocation must take back.

    Recorded when onboarding asks for it, granted when the client confirms, and revoked (or the
    request withdrawn) when the client leaves, with who did it and how.
    """

    Kind = ClientAccessKind
    Status = ClientAccessStatus
    Revocation = ClientAccessRevocation

    S = Status
    STATUS_MACHINE = StatusMachine({S.REQUESTED: {S.GRANTED, S.WITHDRAWN}, S.GRANTED: {S.REVOKED}})

    client = models.ForeignKey("sales.Client", on_delete=models.CASCADE, related_name="accesses")
    system = models.CharField(max_length=64, help_text="the client's system, e.g. HubSpot")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    role = models.CharField(
        max_length=32, blank=True, help_text="the integrations role that can revoke it; blank: a person must"
    )
    resource_id = models.CharField(max_length=128, blank=True, help_text="the provider's id of what we hold")
    requested_at = models.DateTimeField(default=clock.now)
    granted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=128, blank=True)
    revocation = models.CharField(max_length=16, choices=Revocation.choices, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "client accesses"
        constraints = [
            choices_check("kind", ClientAccessKind, "clientaccess_kind_valid"),
            choices_check("status", ClientAccessStatus, "clientaccess_status_valid"),
            models.UniqueConstraint(
                fields=["client", "system", "kind"],
                condition=Q(status__in=["requested", "granted"]),
                name="clientaccess_one_live_per_system",
                violation_error_message="This access is already requested or held for the client.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["granted", "revoked"]) | Q(granted_at__isnull=False),
                name="clientaccess_granted_has_time",
                violation_error_message="A granted access needs the time it was granted.",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | (Q(revoked_at__isnull=False) & ~Q(revoked_by="")),
                name="clientaccess_revoked_has_who_and_when",
                violation_error_message="A revoked access needs who revoked it and when.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} ({self.get_kind_display()}) for {self.client}"
