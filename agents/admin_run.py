"""Running an agent from the console: a form built from the agent's Input schema and validated by it.

The form's fields come from the pydantic model (types, defaults, descriptions, choices); Django parses
what a browser sends (numbers, aware datetimes, JSON), then the schema itself validates the whole
input and its errors land on the fields they name. A valid input starts the run through
``start_run_by_hand``: queued like any other run (``manage.py agents run`` goes the same way), with
the operator in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from agents import registry
from agents.base import AgentBase
from agents.errors import UnknownAgent
from agents.models import AgentRun
from agents.services.runs import RETRYABLE, retry_run, start_run_by_hand
from smarter_team import clock
from smarter_team.dashboard.links import changelist

RUN_PERMISSION = "agents.run_agent"


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """(the type inside ``X | None``, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) < len(typing.get_args(annotation)) and len(args) == 1:
            return args[0], True
    return annotation, False


def _choices(annotation: Any) -> list[str] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return None


class LinesField(forms.CharField):
    """A list of strings, one per line (addresses, references)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str] | None:  # type: ignore[override]
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()] if text else None

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, list | tuple) else value


class JSONInputField(forms.JSONField):
    """JSON typed in a textarea; left blank, it stays blank (not "null") when the form comes back."""

    def prepare_value(self, value: Any) -> Any:
        return "" if value is None else super().prepare_value(value)


def form_field(info: FieldInfo) -> forms.Field:
    """The form field for one schema field. Blank means "the schema's default"; the schema decides."""
    inner, nullable = _unwrap_optional(info.annotation)
    required = info.is_required() and not nullable
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    common: dict[str, Any] = {"required": required, "help_text": info.description or ""}
    choices = _choices(inner)
    if inner is bool:
        return forms.BooleanField(required=False, initial=bool(default), help_text=common["help_text"])
    if choices is not None:
        blank = [] if required else [("", "(the default)" if default is not None else "(none)")]
        initial = str(default.value if isinstance(default, enum.Enum) else default) if default is not None else ""
        return forms.ChoiceField(choices=[*blank, *((c, c) for c in choices)], initial=initial, **common)
    simple: dict[Any, type[forms.Field]] = {
        int: forms.IntegerField,
        float: forms.FloatField,
        decimal.Decimal: forms.DecimalField,
        dt.date: forms.DateField,
        str: forms.CharField,
    }
    if inner is dt.datetime:
        # The admin's split date and time: what a person types is read in the project's time zone.
        return forms.SplitDateTimeField(widget=admin_widgets.AdminSplitDateTime, initial=default, **common)
    if inner in simple:
        field = simple[inner](initial=default, **common)
        if inner is dt.date:
            field.widget = admin_widgets.AdminDateWidget()
        elif inner is str:
            field.widget = admin_widgets.AdminTextInputWidget()
        return field
    if typing.get_origin(inner) is list and typing.get_args(inner) in ((str,), ()):
        return LinesField(initial=default, **common)
    # Anything richer (a mapping, a list of records, a nested model) is typed as JSON.
    as_json = default.model_dump(mode="json") if isinstance(default, BaseModel) else default
    return JSONInputField(initial=as_json, widget=forms.Textarea({"rows": 4}), **common)


class AgentInputForm(forms.Form):
    """One field per field of ``agent.Input``; ``clean`` validates the input with the schema itself."""

    def __init__(self, agent: type[AgentBase], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.keys: dict[str, str] = {}  # form field -> the key the schema reads (its alias, if any)
        for name, info in agent.Input.model_fields.items():
            self.fields[name] = form_field(info)
            self.keys[name] = info.alias or name
        self.validated: BaseModel | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        data = {}
        for name, value in cleaned.items():
            if value in (None, "", []) and not self.fields[name].required:
                continue  # blank: the schema's default applies
            data[self.keys[name]] = value
        try:
            self.validated = self.agent.Input.model_validate(data)
        except ValidationError as exc:
            by_key = {key: name for name, key in self.keys.items()}
            for error in exc.errors():
                loc = error.get("loc", ())
                field = by_key.get(str(loc[0])) if loc else None
                where = ".".join(str(part) for part in loc[1:])
                text = f"{error['msg']}{f' (at {where})' if where else ''}"
                # A field Django already refused keeps that one error: the schema never saw its value.
                if field is None or field not in self.errors:
                    self.add_error(field, text)
        return cleaned

    @property
    def input(self) -> dict[str, Any]:
        """The run's input, as the schema dumps it (JSON: what the runtime stores)."""
        if self.validated is None:
            raise ValueError("the form is not valid")
        return self.validated.model_dump(mode="json", by_alias=True)


# --- views (wired by AgentRunAdmin.get_urls) -----------------------------------------------------


def _allowed(request: HttpRequest) -> None:
    if not request.user.has_perm(RUN_PERMISSION):
        raise PermissionDenied("running agents needs the 'Can run an agent from the console' permission")


def _summary(agent: type[AgentBase]) -> str:
    doc = (agent.__doc__ or "").strip()
    return doc.split("\n\n")[0].replace("\n", " ") if doc else ""


def agent_list_view(model_admin: ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    """Every registered agent, by category, each with a link to its input form."""
    _allowed(request)
    groups: dict[str, list[dict[str, Any]]] = {}
    for agent in registry.all_agents():
        groups.setdefault(agent.category, []).append(
            {
                "name": agent.name,
                "summary": _summary(agent),
                "trigger": ", ".join(agent.trigger) if isinstance(agent.trigger, tuple) else agent.trigger,
                "queue": agent.queue,
                "brain": agent.brain,
                "schedule": "" if agent.schedule is None else str(agent.schedule),
                "inputs": ", ".join(agent.Input.model_fields) or "none",
                "url": reverse("admin:agents_agentrun_run", args=[agent.name]),
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Run an agent",
        "groups": sorted(groups.items()),
    }
    return TemplateResponse(request, "admin/agents/agentrun/run_list.html", context)


def _input_of(agent: type[AgentBase], run_id: str | None) -> dict[str, Any] | None:
    """A past run's input as the form's starting values ("Run again"), read back through the schema
    (datetimes as datetimes); None when there is no such run or its input no longer fits the schema."""
    if not run_id or not run_id.isdigit():
        return None
    stored = AgentRun.objects.filter(pk=int(run_id), agent_name=agent.name).values_list("input", flat=True).first()
    try:
        return agent.Input.model_validate(stored).model_dump() if stored is not None else None
    except ValidationError:
        return None


def run_agent_view(model_admin: ModelAdmin[Any], request: HttpRequest, agent_name: str) -> HttpResponse:
    """The agent's input form; a valid input queues a run and leads to its page."""
    _allowed(request)
    try:
        agent = registry.get(agent_name)
    except UnknownAgent:
        raise Http404(f"no agent registered as {agent_name!r}") from None
    form = AgentInputForm(agent, request.POST or None, initial=_input_of(agent, request.GET.get("from_run")))
    if request.method == "POST" and form.is_valid():
        run = start_run_by_hand(agent_name=agent.name, input=form.input, user=request.user)  # type: ignore[arg-type]
        if run.due_at > clock.now():  # a paused budget holds new runs in its scope
            text = f"Run #{run.pk} of {agent.name} is queued, held until {run.due_at:%Y-%m-%d %H:%M} (a paused budget)."
            model_admin.message_user(request, text, messages.WARNING)
        else:
            model_admin.message_user(request, f"Run #{run.pk} of {agent.name} is {run.status}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:agents_agentrun_change", args=[run.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Run {agent.name}",
        # Plain values: a template calls what is callable, and an agent class is.
        "agent": {
            "name": agent.name,
            "category": agent.category,
            "queue": agent.queue,
            "brain": agent.brain,
            "next": ", ".join(agent.next),
            "input": agent.Input.__name__,
        },
        "summary": _summary(agent),
        "form": form,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/agents/agentrun/run_form.html", context)


def retry_view(model_admin: ModelAdmin[Any], request: HttpRequest, object_id: str) -> HttpResponse:
    """The Retry button of a run's page: a fresh set of attempts, or a warning that there is nothing to retry."""
    run = get_object_or_404(AgentRun, pk=object_id)
    if request.method != "POST" or not model_admin.has_change_permission(request, run):
        raise PermissionDenied("retrying a run needs a POST by staff who may change runs")
    if run.status in RETRYABLE:
        retry_run(run=run, user=request.user)  # type: ignore[arg-type]
        model_admin.message_user(request, f"Run #{run.pk} is queued again.", messages.SUCCESS)
    else:
        text = f"Run #{run.pk} is {run.status}: nothing to retry (only failed or escalated runs are)."
        model_admin.message_user(request, text, messages.WARNING)
    return HttpResponseRedirect(reverse("admin:agents_agentrun_change", args=[run.pk]))


# What a run's page shows under its fields: where it failed, the rules it met, what it wrote.
SHOWN_ON_RUN_PAGE = 10


def run_page_context(model_admin: ModelAdmin[Any], request: HttpRequest, run: AgentRun) -> dict[str, Any]:
    """The run's ErrorLog rows and rule applications (the first few, each linked, and the changelist of
    all of them), its audit entries, and whether its Retry button applies."""
    from agents.models import AuditLog
    from learning.models import ErrorLog, RuleApplication

    of_run = {"run__id__exact": run.pk}
    errors = list(ErrorLog.objects.filter(run=run).order_by("-occurred_at", "-pk")[: SHOWN_ON_RUN_PAGE + 1])
    applications = list(
        RuleApplication.objects.filter(run=run).select_related("rule").order_by("-at", "-pk")[: SHOWN_ON_RUN_PAGE + 1]
    )
    return {
        "run_errors": errors[:SHOWN_ON_RUN_PAGE],
        "run_errors_more": len(errors) > SHOWN_ON_RUN_PAGE,
        "run_errors_url": changelist(ErrorLog, of_run),
        "rule_applications": applications[:SHOWN_ON_RUN_PAGE],
        "rule_applications_more": len(applications) > SHOWN_ON_RUN_PAGE,
        "rule_applications_url": changelist(RuleApplication, of_run),
        "audit_url": changelist(AuditLog, of_run),
        "can_retry": run.status in RETRYABLE and model_admin.has_change_permission(request, run),
        "can_run_agents": request.user.has_perm(RUN_PERMISSION) and registry.is_registered(run.agent_name),
    }
