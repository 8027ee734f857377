"""Sandbox project tool (ClickUp-like) and voice (ElevenLabs/Retell-like).

The project tool is worked by a small team on the project clock. Tasks are taken in the order
they were created (none before its start date, "Starts: 2026-05-01") by ``TEAM_SIZE`` people,
each takes its estimate (read from the description, "Estimate: 12h", as a ClickUp time estimate
would be) stretched by a seeded overrun, so a plan with realistic dates and some buffer is mostly
on time and a tight one slips. Now and then a task is closed as "won't do" (scope silently
dropped: the gap QA is there to catch), and now and then the client adds a task of their own on
the shared board (one the agency never created). What the client makes of all this is in
``integrations/sandbox/projects.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from integrations.http.errors import NotFoundError
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox.market import SandboxProvider
from integrations.sandbox.rng import rng_for, sandbox_id
from integrations.sandbox.store import recall, records, remember
from integrations.values import AudioClip, PhoneCall, Project, Task
from smarter_team import clock

# A small agency puts about two people on a client project, each giving it part of their day (the
# rest goes to other clients and overhead). Judgement; RescueTime's data puts a knowledge worker's
# focused work under three hours a day, so three and a half hours on one client is a busy team.
TEAM_SIZE = 2
FOCUS_HOURS_PER_DAY = 3.5
# Work happens on weekdays: a working day is 7/5 calendar days on average.
CALENDAR_PER_WORKING_DAY = 7 / 5
# Estimates run over: Flyvbjerg and Budzier (HBR, 2011) found IT projects overrun by 27% on
# average with a fat tail. A lognormal factor with median e^0.12 (1.13) and sigma 0.4 has a mean of
# about 1.22 and takes twice as long one time in thirteen.
OVERRUN_MU, OVERRUN_SIGMA = 0.12, 0.4
UNKNOWN_ESTIMATE_HOURS = (4.0, 24.0)  # a task without an estimate: anything from half a day to three
# Share of planned tasks a team closes without doing ("won't do": out of time, judged unneeded).
# Judgement: omissions are the commonest kind of defect found in reviews; one task in sixteen makes
# about one milestone in five arrive with a gap.
DROP_SHARE = 0.06
# Share of projects where the client adds a task of their own to the shared board (judgement).
CLIENT_TASK_SHARE = 0.25
CLIENT_TASK_AFTER_DAYS = (3, 20)
CLIENT_TASKS = (
    "Client: please also add our holiday opening hours",
    "Client: can the team look at the Spanish version?",
    "Client: export last month's conversations for our board meeting",
    "Client: connect the shared inbox as well",
)
DONE, DROPPED, DOING, TODO = "complete", "won't do", "in progress", "to do"

_ESTIMATE = re.compile(r"estimate:\s*(\d+(?:\.\d+)?)\s*h", re.I)
_MILESTONE = re.compile(r"^milestone:\s*(.+)$", re.I | re.M)
# A task's start date, as a ClickUp start date would be set: the team does not take it up before
# (a retainer's month of work waits for its month).
_STARTS = re.compile(r"^starts:\s*(\d{4}-\d{2}-\d{2})\s*$", re.I | re.M)
DAY_STARTS = dt.time(9, 0)
_REWORK = re.compile(r"\b(rework|fix)\b", re.I)
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", re.I)
_DOMAIN = re.compile(r"\(([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})\)", re.I)


@dataclass(frozen=True)
class Progress:
    """Where one task stands at a moment: the world's truth, of which ``Task`` shows the surface."""

    record: dict[str, Any]
    starts_at: dt.datetime
    ends_at: dt.datetime
    dropped: bool

    @property
    def task_id(self) -> str:
        return str(self.record["task_id"])

    @property
    def milestone(self) -> str:
        return str(self.record.get("milestone") or "")

    @property
    def rework(self) -> bool:
        return bool(self.record.get("rework"))

    @property
    def due(self) -> dt.date | None:
        due = self.record.get("due")
        return dt.date.fromisoformat(str(due)) if due else None

    def status(self, now: dt.datetime) -> str:
        if now >= self.ends_at:
            return DROPPED if self.dropped else DONE
        return DOING if now >= self.starts_at else TODO


def identity(task: Mapping[str, Any]) -> str:
    """What the world knows a task by: whose board it is on and what it says (the market's own
    identities, so the same seed plays the same work whatever ids the agency's database gave)."""
    return str(task.get("identity") or task["task_id"])


def _hours(task: Mapping[str, Any]) -> float:
    if task.get("estimate_hours"):
        return float(task["estimate_hours"])
    low, high = UNKNOWN_ESTIMATE_HOURS
    return rng_for("task-estimate", identity(task)).uniform(low, high)


def duration(task: Mapping[str, Any]) -> dt.timedelta:
    """How long one person takes over a task, in calendar time, overrun included."""
    return _duration(identity(task), _hours(task), int(settings.SANDBOX_SEED))


def dropped(task: Mapping[str, Any]) -> bool:
    """Planned work closed without being done; rework and fixes are what the team was asked to
    get right, so they are always done."""
    return not task.get("rework") and _dropped(identity(task), int(settings.SANDBOX_SEED))


# A project's schedule is replayed every day of the world from its task records, and each task's
# draws are fixed by its identity (and the seed, part of the key): drawn once, not once per replay.
@functools.lru_cache(maxsize=65536)
def _duration(identity: str, hours: float, seed: int) -> dt.timedelta:
    overrun = rng_for("task-overrun", identity).lognormvariate(OVERRUN_MU, OVERRUN_SIGMA)
    return dt.timedelta(days=hours * overrun / FOCUS_HOURS_PER_DAY * CALENDAR_PER_WORKING_DAY)


@functools.lru_cache(maxsize=65536)
def _dropped(identity: str, seed: int) -> bool:
    return rng_for("task-dropped", identity).random() < DROP_SHARE


def ready_at(task: Mapping[str, Any]) -> dt.datetime:
    """When a task may be taken up: once it is on the board, and not before its start date."""
    created = dt.datetime.fromisoformat(str(task["created_at"]))
    if not task.get("starts"):
        return created
    return max(created, dt.datetime.combine(dt.date.fromisoformat(str(task["starts"])), DAY_STARTS, tzinfo=dt.UTC))


def schedule(project_id: str) -> list[Progress]:
    """The project's tasks as its team works them: first come, first served (in the order they can be
    taken up: next month's work does not hold a person while a rework waits), ``TEAM_SIZE`` at once,
    and a milestone's work only once the work of the milestones before it is finished (a team does
    not go live before the build is done; a rework joins its own milestone, after its work)."""
    created = records(kind="task", project_id=project_id)  # in the order they were created
    tasks = [t for _, _, t in sorted((ready_at(t), n, t) for n, t in enumerate(created))]
    free: list[dt.datetime] = []
    groups: list[str] = []  # milestones in the order their work first appeared
    ends: dict[str, dt.datetime] = {}  # the latest end of each milestone's work so far
    out: list[Progress] = []
    for task in tasks:
        group = str(task.get("milestone") or "")
        if group not in groups:
            groups.append(group)
        before = [ends[g] for g in groups[: groups.index(group)] if g in ends and group]
        start = max([ready_at(task), *before])
        if len(free) >= TEAM_SIZE:
            free.sort()
            start = max(start, free.pop(0))
        end = start + duration(task)
        free.append(end)
        ends[group] = max(end, ends.get(group, end))
        out.append(Progress(record=task, starts_at=start, ends_at=end, dropped=dropped(task)))
    return out


def client_task(project: Mapping[str, Any]) -> tuple[dt.datetime, Task] | None:
    """The task the client adds to the board themselves, if they do: when, and what it is."""
    project_id = str(project["project_id"])
    rng = rng_for("client-task", project.get("domain") or project_id, project.get("name", ""))
    if rng.random() >= CLIENT_TASK_SHARE:
        return None
    created = dt.datetime.fromisoformat(str(project["created_at"]))
    appears = created + dt.timedelta(days=rng.uniform(*CLIENT_TASK_AFTER_DAYS))
    task_id = sandbox_id("tsk", project_id, "client-added")
    task = Task(
        task_id=task_id, title=rng.choice(CLIENT_TASKS), status=TODO, url=f"https://app.clickup.com/t/{task_id}"
    )
    return appears, task


def project_identity(description: str) -> tuple[str, str]:
    """(client domain, client contact email) a project's description names, as a ClickUp list
    description would ("Client: Acme (acme.com)", "Client contact: jo@acme.com")."""
    email = _EMAIL.search(description)
    domain = _DOMAIN.search(description)
    contact = email.group(0).lower() if email else ""
    found = domain.group(1).lower() if domain else contact.partition("@")[2]
    return found, contact


@register_provider("project_tool", SANDBOX, keys=())
class SandboxProjectTool(SandboxProvider):
    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        project_id = sandbox_id("prj", idempotency_key)
        domain, contact = project_identity(description)
        known = recall(kind="project", ref=project_id)
        project = remember(
            kind="project",
            ref=project_id,
            data={
                "project_id": project_id,
                "name": name,
                "domain": domain,
                "contact": contact,
                "created_at": clock.now().isoformat(),
            },
        )
        if known is None and contact:
            from integrations.sandbox.projects import plan_client_messages  # the client's side of it

            plan_client_messages(project)
        return Project(project_id=project_id, name=name, url=f"https://app.clickup.com/sandbox/{project_id}")

    def create_task(
        self, *, idempotency_key: str, project_id: str, title: str, description: str = "", due: dt.date | None = None
    ) -> Task:
        project = recall(kind="project", ref=project_id)
        if project is None:
            raise NotFoundError(f"no project {project_id}", provider=SANDBOX, operation="create_task")
        task_id = sandbox_id("tsk", idempotency_key)
        estimate = _ESTIMATE.search(description)
        milestone = _MILESTONE.search(description)
        starts = _STARTS.search(description)
        task = remember(
            kind="task",
            ref=task_id,
            data={
                "task_id": task_id,
                "project_id": project_id,
                "title": title,
                "due": due.isoformat() if due else None,
                "created_at": clock.now().isoformat(),
                "estimate_hours": float(estimate.group(1)) if estimate else None,
                "milestone": milestone.group(1).strip() if milestone else "",
                "starts": starts.group(1) if starts else None,
                "rework": bool(_REWORK.search(title)),
                "identity": f"{project.get('domain') or project_id}\x1f{project.get('name', '')}\x1f{title}",
            },
        )
        return next(self._value(p, clock.now()) for p in schedule(project_id) if p.task_id == task["task_id"])

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        now = clock.now()
        tasks = [self._value(p, now) for p in schedule(project_id)]
        project = recall(kind="project", ref=project_id)
        added = client_task(project) if project is not None else None
        if added is not None and added[0] <= now:
            tasks.append(added[1])
        return [t for t in tasks if include_done or not t.done]

    @staticmethod
    def _value(progress: Progress, now: dt.datetime) -> Task:
        status = progress.status(now)
        return Task(
            task_id=progress.task_id,
            title=str(progress.record["title"]),
            status=status,
            done=status in (DONE, DROPPED),
            due=progress.due,
            url=f"https://app.clickup.com/t/{progress.task_id}",
        )


@register_provider("voice", SANDBOX, keys=())
class SandboxVoice(SandboxProvider):
    def synthesize(self, *, text: str, voice_id: str = "") -> AudioClip:
        # Not audio, but stable bytes of a plausible size: tests can compare, nothing plays it.
        digest = hashlib.sha256(f"{voice_id}\x1f{text}".encode()).digest()
        return AudioClip(audio=b"SBXAUDIO" + digest * max(1, len(text) // 32), characters=len(text))

    def start_call(
        self,
        *,
        idempotency_key: str,
        to_number: str,
        from_number: str = "",
        agent_id: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> PhoneCall:
        return PhoneCall(call_id=sandbox_id("call", idempotency_key), status="registered", to_number=to_number)
