"""``manage.py agents list`` and ``manage.py agents run NAME --input JSON`` (synchronous, in-process)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import ValidationError

from agents import registry, roster, runtime
from agents.errors import UnknownAgent
from agents.models import AgentRun
from agents.services.runs import start_run


class Command(BaseCommand):
    help = "List the registered agents, or run one now in this process and print its output."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every registered agent with its trigger, queue, brain and schedule")
        run = sub.add_parser("run", help="run one agent synchronously and print the output JSON")
        run.add_argument("name")
        run.add_argument("--input", default="{}", help="the agent's input as a JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list()
        else:
            self._run(options["name"], options["input"])

    def _list(self) -> None:
        row = "{:<32} {:<16} {:<16} {:<9} {:<6} {:<14} {}"
        self.stdout.write(row.format("NAME", "CATEGORY", "TRIGGER", "QUEUE", "BRAIN", "SCHEDULE", "NEXT"))
        for agent in registry.all_agents():
            trigger = ",".join(agent.trigger) if isinstance(agent.trigger, tuple) else agent.trigger
            schedule = "" if agent.schedule is None else str(agent.schedule)
            next_agents = ",".join(agent.next)
            self.stdout.write(
                row.format(agent.name, agent.category, trigger, agent.queue, agent.brain, schedule, next_agents)
            )
        planned = sorted(roster.PLANNED)
        built = sum(1 for name in roster.ROSTER if name not in roster.PLANNED)
        self.stdout.write(f"\n{built} of {len(roster.ROSTER)} AGENTS.md agents registered.")
        if planned:
            self.stdout.write(f"\n{len(planned)} of {len(roster.ROSTER)} AGENTS.md agents planned, not built yet:")
            for name in planned:
                self.stdout.write(f"  {name:<32} {roster.ROSTER[name]}")

    def _run(self, name: str, raw: str) -> None:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--input is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CommandError("--input must be a JSON object")
        try:
            run = start_run(agent_name=name, input=data, trigger=AgentRun.Trigger.MANUAL, enqueue=False)
        except UnknownAgent as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(f"invalid input for {name}: {exc}") from None
        runtime.execute(run.pk)
        run.refresh_from_db()
        result = {"run": run.pk, "status": run.status, "output": run.output, "error": run.error or None}
        self.stdout.write(json.dumps(result, indent=2, default=str))
        if run.status not in (AgentRun.Status.SUCCEEDED, AgentRun.Status.SKIPPED):
            raise CommandError(f"run {run.pk} ended {run.status}")
