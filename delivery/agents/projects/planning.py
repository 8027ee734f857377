"""From a signed proposal's scope to a plan: what the work is, in milestones and tasks, and when.

The scope is the proposal: its priced ``line_items`` (what was sold, hence the hours committed)
and its ``requirements`` (what the client asked for, written by transcript_processing from the
discovery call: needs, scope items, goals, a timeline, each a string or an object with ``text``).
The JSON is read tolerantly: keys vary between writers, and a plan is owed whatever they were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field

from delivery.agents.projects.common import (
    add_working_days,
    best_match,
    blended_rate,
    half_hours,
    is_working_day,
    project_pace,
    sum_hours,
    working_days_for,
)
from delivery.services.renewals import add_months

TEXT_KEYS = ("text", "need", "item", "description", "summary", "name", "title", "value", "quote")
# Plans carry a buffer: estimates overrun (Flyvbjerg and Budzier found 27% on average for IT work);
# 15% absorbs the usual overrun of a well-scoped milestone, not the fat tail (judgement).
BUFFER = Decimal("1.15")
# Without a discovery line, discovery and launch each take this share of the build hours.
PHASE_SHARE = Decimal("0.10")
MIN_PHASE_HOURS = Decimal("4")
MAX_ITEMS = 5  # scope items per build milestone: more make criteria nobody reviews (judgement)
_RETAINER = re.compile(r"retainer|per month|monthly|/\s?month|\bmonths?\b|ongoing|maintenance", re.I)
_DISCOVERY = re.compile(r"discovery|workshop|strategy|audit|assessment|design", re.I)
_HOURLY = re.compile(r"\bhours?\b|\bhrs?\b|hourly", re.I)
_GENERIC = re.compile(r"^(build|implementation|development|setup|work|project)\b", re.I)
_WEEKS = re.compile(r"(\d+)\s*(?:-\s*\d+\s*)?(weeks?|wks?|months?|days?)", re.I)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12}
_MEASURABLE = re.compile(r"\d+\s?%|\d+\s?(?:hours?|minutes?|days?|seconds?)|\bunder\b|\bwithin\b", re.I)


class ScopeLine(BaseModel):
    description: str
    amount: Decimal
    hours: Decimal
    kind: str  # discovery, build, retainer
    months: int = 0  # a retainer's term: its quantity of months


class Scope(BaseModel):
    """What the proposal sold and what the client asked for."""

    lines: list[ScopeLine]
    needs: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)  # scope items, when the proposal lists them
    goals: list[str] = Field(default_factory=list)  # measurable statements ("deflect 40% of tickets")
    tools: list[str] = Field(default_factory=list)  # systems and channels to connect
    timeline_weeks: int | None = None
    timeline_text: str = ""

    @property
    def committed_hours(self) -> Decimal:
        """Hours sold for the build (retainers are a monthly service, planned month by month)."""
        return sum_hours(line.hours for line in self.lines if line.kind != "retainer")


class TaskDraft(BaseModel):
    title: str = Field(min_length=3, max_length=180)
    estimate_hours: Decimal = Field(gt=0, le=400)
    serves: list[int] = Field(default_factory=list)  # the milestone's criteria (1-based) this work shows


class MilestoneDraft(BaseModel):
    name: str = Field(min_length=3, max_length=120)
    acceptance_criteria: list[str] = Field(min_length=1, max_length=8)
    tasks: list[TaskDraft] = Field(min_length=1, max_length=12)

    @property
    def hours(self) -> Decimal:
        return sum_hours(t.estimate_hours for t in self.tasks)


class Plan(BaseModel):
    milestones: list[MilestoneDraft] = Field(min_length=1, max_length=12)
    assumptions: list[str] = Field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return sum_hours(m.hours for m in self.milestones)


# --- reading the proposal -----------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return next((str(value[k]).strip() for k in TEXT_KEYS if value.get(k) not in (None, "")), "")
    return str(value).strip() if value is not None else ""


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value] if value not in (None, "", {}) else []
    return [t for t in (_text(i) for i in items) if t]


def _first(raw: Mapping[str, Any], *keys: str) -> Any:
    return next((raw[k] for k in keys if raw.get(k) not in (None, "", [], {})), None)


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return Decimal("0")
    return number if number.is_finite() and number > 0 else Decimal("0")


def weeks_in(text: str) -> int | None:
    """'live within 8 weeks' -> 8, 'two months' -> 9, '30 days' -> 5; None when it says no duration."""
    lowered = text.lower()
    for word, number in _NUMBER_WORDS.items():
        lowered = re.sub(rf"\b{word}\b", str(number), lowered)
    match = _WEEKS.search(lowered)
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2)
    if unit.startswith("month"):
        return round(count * 52 / 12)
    if unit.startswith("day"):
        return max(1, round(count / 7))
    return count


def line_of(item: Mapping[str, Any], *, rate: Decimal) -> ScopeLine | None:
    description = _text(item)
    if not description:
        return None
    quantity, unit_price = _decimal(item.get("quantity") or 1), _decimal(item.get("unit_price"))
    amount = _decimal(item.get("amount")) or quantity * unit_price
    unit = str(item.get("unit") or "")
    if _RETAINER.search(f"{description} {unit}"):
        kind = "retainer"
    elif _DISCOVERY.search(description):
        kind = "discovery"
    else:
        kind = "build"
    hourly = _HOURLY.search(f"{description} {unit}")
    hours = quantity if hourly else (amount / rate if rate > 0 else Decimal("0"))
    months = max(1, int(quantity)) if kind == "retainer" else 0
    return ScopeLine(description=description, amount=amount, hours=half_hours(hours), kind=kind, months=months)


def read_scope(*, requirements: Any, line_items: Any) -> Scope:
    raw = requirements if isinstance(requirements, Mapping) else {}
    rate = blended_rate()
    lines = [line for item in (line_items or []) if isinstance(item, Mapping) if (line := line_of(item, rate=rate))]
    needs = _texts(_first(raw, "needs", "pains", "problems", "goals", "goal"))
    goals = [
        t for t in _texts(_first(raw, "goals", "goal", "success", "success_measures", "kpis")) if _MEASURABLE.search(t)
    ]
    goals += [n for n in needs if _MEASURABLE.search(n) and n not in goals]
    timeline_raw = _first(raw, "timeline", "timeframe", "deadline")
    timeline_text = _text(timeline_raw) if not isinstance(timeline_raw, list) else "; ".join(_texts(timeline_raw))
    weeks = timeline_raw.get("weeks") if isinstance(timeline_raw, Mapping) else None
    return Scope(
        lines=lines,
        needs=needs,
        items=_texts(_first(raw, "scope", "scope_items", "deliverables", "features")),
        goals=goals,
        tools=_texts(_first(raw, "channels", "tools", "systems", "integrations", "current_tools")),
        timeline_weeks=int(weeks) if isinstance(weeks, int) and weeks > 0 else weeks_in(timeline_text),
        timeline_text=timeline_text,
    )


# --- the offline planner --------------------------------------------------------------------
def _name(line: ScopeLine, items: Sequence[str]) -> str:
    name = re.sub(r"\s*\((?:hours?|hrs?|fixed|project)\)\s*", " ", line.description, flags=re.I).strip(" -:")
    if _GENERIC.match(name) and items:
        name = f"{name.split()[0].capitalize()}: {items[0]}"
    return name[:120]


def _split(hours: Decimal, shares: Sequence[tuple[str, Decimal, list[int]]]) -> list[TaskDraft]:
    total = sum_hours(s for _, s, _ in shares)
    return [
        TaskDraft(title=title[:180], estimate_hours=half_hours(hours * share / total), serves=serves)
        for title, share, serves in shares
    ]


def _phase_hours(hours: Decimal) -> Decimal:
    return max(MIN_PHASE_HOURS, half_hours(hours))


def heuristic_plan(scope: Scope, *, client_name: str) -> Plan:
    """Discovery, one milestone per build line of the proposal (its tasks from the scope items it
    covers), then launch and handover; hours from the lines, split by the usual shares of the work."""
    build = [line for line in scope.lines if line.kind == "build"]
    discovery = [line for line in scope.lines if line.kind == "discovery"]
    build_hours = sum_hours(line.hours for line in build) or scope.committed_hours or Decimal("40")
    carve = Decimal("0") if discovery else PHASE_SHARE
    items = scope.items or scope.needs
    # Which build line each scope item belongs to (the one whose words it shares most).
    mapped: dict[int, list[str]] = {i: [] for i in range(len(build))}
    for item in items:
        index, score = best_match(item, [line.description for line in build])
        if build:
            mapped[index if score > 0 else max(range(len(build)), key=lambda i: build[i].hours)].append(item)
    assumptions: list[str] = []
    milestones = [
        MilestoneDraft(
            name="Discovery and design",
            acceptance_criteria=[
                f"Requirements, success measures and scope signed off by {client_name}",
                "Solution design covers " + ("; ".join(items[:3]) if items else "every line of the proposal"),
            ],
            tasks=_split(
                sum_hours(line.hours for line in discovery) or _phase_hours(build_hours * carve),
                [
                    ("Kick-off and requirements workshop", Decimal(3), [1]),
                    ("Map the current process and data sources", Decimal(3), [2]),
                    ("Solution design and success measures", Decimal(4), [1, 2]),
                ],
            ),
        )
    ]
    verb = "Build" if scope.items else "Solve"
    for index, line in enumerate(
        build or [ScopeLine(description="Build", amount=Decimal(0), hours=build_hours, kind="build")]
    ):
        own = (mapped.get(index, []) if build else list(items))[:MAX_ITEMS]
        criteria = [
            f"{item}: works end to end in {client_name}'s environment"
            if scope.items
            else f"Solved for {client_name}: {item}"
            for item in own
        ]
        shares = [(f"{verb}: {item}", Decimal(6) / len(own), [n]) for n, item in enumerate(own, start=1)]
        if not shares:
            criteria.append(f"{line.description} delivered as proposed")
            shares = [("Configure and build", Decimal(4), [1]), ("Data and content preparation", Decimal(2), [1])]
        if scope.tools:
            criteria.append(f"Connected to {', '.join(scope.tools[:4])}")
            shares.append((f"Integrate with {', '.join(scope.tools[:4])}", Decimal(2), [len(criteria)]))
        if index == len(build) - 1 or not build:
            for goal in scope.goals[:2]:
                criteria.append(f"Meets the stated goal: {goal}")
                shares.append((f"Measure the result against: {goal}", Decimal(1), [len(criteria)]))
        criteria.append("Internal test cases pass")
        shares.append(("Internal testing against the acceptance criteria", Decimal(2), [len(criteria)]))
        milestones.append(
            MilestoneDraft(
                name=_name(line, own), acceptance_criteria=criteria, tasks=_split(line.hours * (1 - 2 * carve), shares)
            )
        )
    milestones.append(
        MilestoneDraft(
            name="Launch and handover",
            acceptance_criteria=[
                f"{client_name} signs off user acceptance testing",
                "Live in production",
                "Runbook and training delivered",
            ],
            tasks=_split(
                _phase_hours(build_hours * (carve or PHASE_SHARE)),
                [
                    ("User acceptance testing with the client", Decimal(4), [1]),
                    ("Go-live", Decimal(2), [2]),
                    ("Handover: runbook and training", Decimal(4), [3]),
                ],
            ),
        )
    )
    _unique(milestones)
    if not build:
        assumptions.append("the proposal has no build line: the build is sized from the committed hours")
    if any(line.kind == "retainer" for line in scope.lines):
        assumptions.append("the retainer's months are planned as a milestone each, over the contract")
    return Plan(milestones=milestones, assumptions=assumptions)


def _unique(milestones: list[MilestoneDraft]) -> None:
    """Milestone names and task titles are unique (the PM tool finds tasks by title)."""
    seen: set[str] = set()
    for milestone in milestones:
        base, n = milestone.name, 2
        while milestone.name.lower() in seen:
            milestone.name, n = f"{base} ({n})", n + 1
        seen.add(milestone.name.lower())


def plan_problem(plan: Plan, scope: Scope) -> str | None:
    """What is wrong with a plan for this scope (None: nothing): the brain's plan must plan the
    hours that were sold and the needs that were stated."""
    names = [m.name.strip().lower() for m in plan.milestones]
    if len(set(names)) != len(names):
        return "two milestones share a name"
    titles = [t.title.strip().lower() for m in plan.milestones for t in m.tasks]
    if len(set(titles)) != len(titles):
        return "two tasks share a title"
    for milestone in plan.milestones:
        for number, criterion in enumerate(milestone.acceptance_criteria, start=1):
            if not any(number in t.serves or best_match(criterion, [t.title])[1] > 0 for t in milestone.tasks):
                return f"no task of {milestone.name!r} shows {criterion!r}"
    committed = scope.committed_hours
    if committed > 0 and not (committed * Decimal("0.75") <= plan.hours <= committed * Decimal("1.25")):
        return f"the plan has {plan.hours} h of work for {committed} h sold"
    text = " ".join(
        f"{m.name} {' '.join(m.acceptance_criteria)} {' '.join(t.title for t in m.tasks)}" for m in plan.milestones
    )
    missed = [need for need in scope.needs if best_match(need, [text])[1] == 0]
    return f"no milestone covers: {missed[0]}" if missed else None


# --- dates ------------------------------------------------------------------------------------
class Dated(BaseModel):
    due_on: dt.date
    task_dues: list[dt.date]


def schedule_plan(plan: Plan, *, starts_on: dt.date, timeline_weeks: int | None) -> tuple[list[Dated], dt.date, str]:
    """Due dates: each milestone takes its hours at the plan's pace plus the buffer, one after the
    other; a longer stated timeline spreads them over it. Returns the dates, the end and a note
    when the client's timeline is shorter than the work allows."""
    pace = project_pace()
    days = [working_days_for(m.hours * BUFFER, pace=pace) for m in plan.milestones]
    paced = sum(days)
    note = ""
    if timeline_weeks:
        wanted = timeline_weeks * 5
        if wanted > paced:
            days = [max(1, round(d * wanted / paced)) for d in days]
        elif wanted < paced:
            note = (
                f"the stated timeline ({timeline_weeks} weeks) is shorter than the work at our pace "
                f"({paced} working days)"
            )
    out: list[Dated] = []
    start = starts_on
    for milestone, span in zip(plan.milestones, days, strict=True):
        due = add_working_days(start, span - 1)
        dues, done = [], Decimal("0")
        for task in milestone.tasks:
            done += task.estimate_hours
            share = int(((span - 1) * done / milestone.hours).to_integral_value()) if milestone.hours else span - 1
            dues.append(add_working_days(start, share))
        dues[-1] = due
        out.append(Dated(due_on=due, task_dues=dues))
        start = add_working_days(due, 1)
    return out, out[-1].due_on, note


# --- the retainer's months ------------------------------------------------------------------------
# A retainer is a monthly service (run, tune and improve what was built, and review the results with
# the client). Each month of its term is a milestone of its own, from the month's first day to its
# last: the work is taken up when the month starts (the task says so, as a PM tool's start date
# would), so it is spread over the contract and tracked, checked and reported like the build. The
# brain plans the build; the months follow from the lines sold, like the dates.
MAX_SERVICE_MONTHS = 36  # a renewal term is 1 to 36 months (delivery.services.renewals)
SERVICE_WORK = (
    ("Monitor and tune what runs", Decimal(4), [1]),
    ("Improvements from the backlog", Decimal(4), [2]),
    ("Results review with the client", Decimal(2), [3]),
)


class ServiceMonth(BaseModel):
    draft: MilestoneDraft
    starts_on: dt.date
    dated: Dated


def service_months(scope: Scope, *, client_name: str, starts_on: dt.date) -> list[ServiceMonth]:
    """The retainer's months from ``starts_on``: one milestone each, with its share of the hours sold."""
    retainers = [line for line in scope.lines if line.kind == "retainer"]
    if not retainers:
        return []
    months = min(MAX_SERVICE_MONTHS, max(line.months for line in retainers))
    monthly = sum_hours(line.hours / line.months for line in retainers)
    out = []
    for number in range(1, months + 1):
        first = add_months(starts_on, number - 1)
        last = add_months(starts_on, number) - dt.timedelta(days=1)
        while not is_working_day(last):
            last -= dt.timedelta(days=1)
        month = f"{first:%B %Y}"
        criteria = [
            f"Everything we run for {client_name} ran through {month} without an open incident",
            f"The improvements planned for {month} are live",
            f"{client_name} has seen the results of {month}",
        ]
        tasks = [
            TaskDraft(title=f"{title} ({month})", estimate_hours=half_hours(monthly * share / 10), serves=serves)
            for title, share, serves in SERVICE_WORK
        ]
        draft = MilestoneDraft(name=f"Operations: {month}", acceptance_criteria=criteria, tasks=tasks)
        out.append(ServiceMonth(draft=draft, starts_on=first, dated=Dated(due_on=last, task_dues=[last] * len(tasks))))
    return out
