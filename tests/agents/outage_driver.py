"""The load of the broker-outage test, run as a subprocess against a private Redis.

``python -m tests.agents.outage_driver SECONDS RESULT.json``: for SECONDS it starts runs (t_echo,
each committed by its caller), posts signed webhooks (Instantly replies) through the real URL,
and plays beat: the scheduled agent t_ticker's ticks through smarter_team.beat (the scheduler's
own path), dispatch_due and the webhook sweeper published as beat publishes them (a failure is
logged and the tick dropped, as beat does). Whatever raises is counted and written to RESULT.
The worker imports this module too, for t_ticker and the stand-in event agents.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from pydantic import BaseModel  # noqa: E402

import tests.agents.sample_agents  # noqa: E402, F401
from agents import registry  # noqa: E402
from agents.base import Agent, Empty  # noqa: E402
from agents.context import RunContext  # noqa: E402
from agents.errors import UnknownAgent  # noqa: E402
from integrations.webhooks import inputs  # noqa: E402

RUNS, WEBHOOKS, TICK_SECONDS = 100, 200, 2


class Ticked(BaseModel):
    ok: bool = True


class Ticker(Agent[Empty, Ticked]):
    name = "t_ticker"
    category = "test"
    trigger = "schedule"
    schedule = TICK_SECONDS
    Input = Empty
    Output = Ticked

    def act(self, ctx: RunContext, data: Any) -> Ticked:
        return Ticked()


def _register() -> None:
    if not registry.is_registered(Ticker.name):
        registry.register(Ticker)
    for name in ("email_response_handler", "unsubscribe_compliance"):
        try:
            registry.get(name)
        except UnknownAgent:
            stub = type(f"Stub_{name}", (Agent,), {"name": name, "category": "test", "trigger": "event",
                                                    "Input": inputs.EmailEvent, "__module__": __name__,
                                                    "act": lambda self, ctx, facts: Empty()})  # fmt: skip
            registry.register(stub)


_register()


def main(seconds: float, result_path: str) -> None:
    from agents.services.runs import start_run
    from agents.tasks import dispatch_due
    from integrations.webhooks.tasks import replay_unprocessed
    from smarter_team.beat import start_tick

    errors: dict[str, list[str]] = {"start_run": [], "webhook": [], "tick": [], "beat_publish": []}
    statuses: list[int] = []
    done = threading.Event()
    client = Client()
    secret = settings.SANDBOX_WEBHOOK_SECRETS["instantly"]

    def beat() -> None:
        last_tick = 0.0
        while not done.wait(1.0):
            now = time.monotonic()
            if now - last_tick >= TICK_SECONDS:
                last_tick = now
                try:
                    start_tick(Ticker.name)
                except Exception as exc:
                    errors["tick"].append(repr(exc))
            for task in (dispatch_due, replay_unprocessed):
                try:
                    task.apply_async()
                except Exception as exc:  # beat logs it and drops the tick
                    errors["beat_publish"].append(type(exc).__name__)
        connection.close()

    beat_thread = threading.Thread(target=beat, daemon=True)
    beat_thread.start()
    start = time.monotonic()
    total = RUNS + WEBHOOKS
    for i in range(total):
        time.sleep(max(0.0, start + seconds * i / total - time.monotonic()))
        if i % 3 == 0 and i // 3 < RUNS:
            try:
                with transaction.atomic():
                    start_run(agent_name="t_echo", input={"text": f"r{i}"}, trigger="event", idempotency_key=f"o:{i}")
            except Exception as exc:
                errors["start_run"].append(repr(exc))
        else:
            body = json.dumps({"event_type": "reply_received", "lead_email": f"p{i}@x.example",
                               "email_id": f"em_{i}", "timestamp": "2026-03-02T10:00:00Z"}).encode()  # fmt: skip
            try:
                response = client.post("/api/webhooks/instantly", data=body, content_type="application/json",
                                       headers={"X-Webhook-Secret": secret})  # fmt: skip
                statuses.append(response.status_code)
            except Exception as exc:
                errors["webhook"].append(repr(exc))
    # Top up to exactly RUNS runs and WEBHOOKS webhooks whatever the interleaving did.
    created = sum(1 for i in range(total) if i % 3 == 0 and i // 3 < RUNS)
    for j in range(created, RUNS):
        try:
            start_run(agent_name="t_echo", input={"text": f"t{j}"}, trigger="event", idempotency_key=f"o:t{j}")
        except Exception as exc:
            errors["start_run"].append(repr(exc))
    # Keep beating until told to stop (the test ends this process after recovery).
    with open(result_path, "w") as out:
        json.dump({"errors": errors, "statuses": statuses, "load_done": True}, out)
    while True:
        time.sleep(1.0)
        with open(result_path, "w") as out:
            json.dump({"errors": errors, "statuses": statuses, "load_done": True}, out)


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2])
