"""report_generator: the managers' daily and weekly reports, emailed with their charts and kept.

Every morning (business time) it reports on the previous day; on Mondays also on the previous
week. Load computes the figures (agents/services/reports/figures.py: one query per figure) and
draws the charts; act keeps the Report row (one per kind and period: a second run finds it) and
records one ``report.send`` act per report, which mails the managers group after commit: HTML with
inlined CSS and the charts attached by Content-ID, a plain-text part. An empty period is a report
that says so, not a crash.
"""

from __future__ import annotations

import base64
import datetime as dt
import zoneinfo
from email.mime.image import MIMEImage
from typing import Any, Literal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.models import Action, Report, StaffGroup
from agents.outbox import register_performer
from agents.registry import register
from agents.services.reports import render
from agents.services.reports.figures import figures
from agents.services.staff import staff_emails
from smarter_team import clock


class ReportRequest(BaseModel):
    kind: Literal["daily", "weekly", "both"] | None = None  # None: daily, and weekly on Mondays


class Draft(BaseModel):
    kind: str
    title: str
    start: dt.datetime
    end: dt.datetime
    html: str
    text: str
    images: list[dict[str, str]]
    figures: dict[str, Any]


class Drafts(Facts):
    drafts: list[Draft]
    existing: dict[str, int] = Field(default_factory=dict)  # kind -> Report id already kept


class Reported(BaseModel):
    reports: list[int] = Field(default_factory=list)
    already: list[int] = Field(default_factory=list)
    summary: str = ""


class ReportMail(BaseModel):
    report_id: int


@register_performer("report.send", payload=ReportMail, contacts=())
class SendReport:
    """The email of one Report to the managers group (at most once per report: the act's key)."""

    def perform(self, payload: ReportMail, key: str) -> dict[str, Any]:
        report = Report.objects.get(pk=payload.report_id)
        to = staff_emails([StaffGroup.MANAGER])[StaffGroup.MANAGER]
        if not to:
            return {"sent_to": [], "note": "no manager with an address: kept in the admin only"}
        message = EmailMultiAlternatives(
            subject=report.subject or f"{report.kind} report {report.period_start}",
            body=report.text,
            to=to,
        )
        message.attach_alternative(report.html, "text/html")
        # multipart/related: the HTML and the images it shows by Content-ID travel together.
        message.mixed_subtype = "related"  # type: ignore[attr-defined]
        for image in report.images:
            part = MIMEImage(base64.b64decode(image["data_base64"]), _subtype="png")
            part.add_header("Content-ID", f"<{image['name']}>")
            part.add_header("Content-Disposition", "inline", filename=f"{image['name']}.png")
            message.attach(part)
        message.send(fail_silently=False)
        return {"sent_to": to}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        sent_to = list(result.get("sent_to", []))
        Report.objects.filter(pk=action.payload.get("report_id")).update(
            sent_to=sent_to, sent_at=clock.now() if sent_to else None
        )


def _zone() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def periods(now: dt.datetime, kind: str | None) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(kind, start, end) to report on: yesterday, and last week (Monday to Monday) on a Monday."""
    today = now.astimezone(_zone()).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    if kind in (None, "daily", "both"):
        out.append(("daily", today - dt.timedelta(days=1), today))
    if kind in ("weekly", "both") or (kind is None and today.weekday() == 0):
        monday = today - dt.timedelta(days=today.weekday())
        out.append(("weekly", monday - dt.timedelta(days=7), monday))
    return out


@register
class ReportGenerator(Agent[ReportRequest, Reported]):
    """Daily and weekly manager reports: funnel, campaigns, revenue, delivery, agents, cost."""

    name = "report_generator"
    category = "system"
    trigger = ("schedule", "handoff")
    schedule = "0 6 * * *"
    Input = ReportRequest
    Facts = Drafts
    Output = Reported

    def load(self, ctx: RunContext, data: ReportRequest) -> Drafts:
        drafts, existing = [], {}
        for kind, start, end in periods(ctx.now(), data.kind):
            kept = Report.objects.filter(kind=kind, period_start=start.date()).values_list("pk", flat=True).first()
            if kept is not None:
                existing[kind] = kept
                continue
            numbers = figures(start, end)
            title = f"Smarter Team {kind} report, {start:%a %d %b %Y}" + (
                f" to {end - dt.timedelta(days=1):%a %d %b %Y}" if kind == "weekly" else ""
            )
            images = render.charts(numbers)
            drafts.append(
                Draft(
                    kind=kind,
                    title=title,
                    start=start,
                    end=end,
                    html=render.html(numbers, title=title, images=images),
                    text=render.text(numbers, title=title),
                    images=images,
                    figures=_plain(numbers),
                )
            )
        return Drafts(drafts=drafts, existing=existing)

    def act(self, ctx: RunContext, facts: Drafts) -> Reported:
        out = Reported(already=list(facts.existing.values()))
        for draft in facts.drafts:
            report, created = Report.objects.get_or_create(
                kind=draft.kind,
                period_start=draft.start.date(),
                defaults={
                    "period_end": (draft.end - dt.timedelta(days=1)).date(),
                    "subject": draft.title,
                    "html": draft.html,
                    "text": draft.text,
                    "images": draft.images,
                    "figures": draft.figures,
                },
            )
            if not created:
                out.already.append(report.pk)
                continue
            ctx.act(
                "report.send", f"report:{draft.kind}:{draft.start.date().isoformat()}", ReportMail(report_id=report.pk)
            )
            out.reports.append(report.pk)
        out.summary = f"{len(out.reports)} report(s) made" + (
            f", {len(out.already)} kept already" if out.already else ""
        )
        return out


def _plain(numbers: Any) -> dict[str, Any]:
    """The figures as JSON (kept on the Report: what each number was, for the admin and audits)."""
    import dataclasses
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return dict(json.loads(json.dumps(dataclasses.asdict(numbers), cls=DjangoJSONEncoder)))
