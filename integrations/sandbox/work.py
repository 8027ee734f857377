"""Sandbox project tool (ClickUp-like) and voice (ElevenLabs/Retell-like).

Tasks progress by themselves on the project clock: each takes a seeded number of days, so
progress_tracking sees work moving and, now and then, slipping past its due date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from integrations.http.errors import NotFoundError
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox.market import SandboxProvider
from integrations.sandbox.rng import rng_for, sandbox_id
from integrations.sandbox.store import recall, records, remember
from integrations.values import AudioClip, PhoneCall, Project, Task
from smarter_team import clock


@register_provider("project_tool", SANDBOX, keys=())
class SandboxProjectTool(SandboxProvider):
    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project:
        project_id = sandbox_id("prj", idempotency_key)
        remember(kind="project", ref=project_id, data={"project_id": project_id, "name": name})
        return Project(project_id=project_id, name=name, url=f"https://app.clickup.com/sandbox/{project_id}")

    def create_task(
        self, *, idempotency_key: str, project_id: str, title: str, description: str = "", due: dt.date | None = None
    ) -> Task:
        if recall(kind="project", ref=project_id) is None:
            raise NotFoundError(f"no project {project_id}", provider=SANDBOX, operation="create_task")
        task_id = sandbox_id("tsk", idempotency_key)
        task = remember(
            kind="task",
            ref=task_id,
            data={
                "task_id": task_id,
                "project_id": project_id,
                "title": title,
                "due": due.isoformat() if due else None,
                "created_at": clock.now().isoformat(),
            },
        )
        return self._value(task)

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]:
        tasks = [self._value(t) for t in records(kind="task", project_id=project_id)]
        return [t for t in tasks if include_done or not t.done]

    @staticmethod
    def _value(task: dict[str, object]) -> Task:
        rng = rng_for("task-progress", task["task_id"])
        started = dt.datetime.fromisoformat(str(task["created_at"]))
        elapsed = clock.now() - started
        takes = dt.timedelta(days=rng.uniform(1, 14))
        done = elapsed >= takes
        status = "complete" if done else ("in progress" if elapsed >= takes / 3 else "to do")
        return Task(
            task_id=str(task["task_id"]),
            title=str(task["title"]),
            status=status,
            done=done,
            due=dt.date.fromisoformat(str(task["due"])) if task.get("due") else None,
            url=f"https://app.clickup.com/t/{task['task_id']}",
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
