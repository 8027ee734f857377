"""The Celery app. Configuration comes from Django settings under the ``CELERY_`` namespace.

Queues per domain so workers scale per kind of work: crm, sales, delivery, system and llm (model
calls: slow, rate-limited, best on their own workers). ``agents.run`` goes to the queue of the
run's agent, chosen when it is published; everything else of the runtime is system work.
"""

import os
from typing import Any

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings")

QUEUES = ("crm", "sales", "delivery", "system", "llm")

app = Celery("smarter_team")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "system"
app.conf.task_routes = {"agents.run": {"queue": "system"}, "agents.*": {"queue": "system"}}
# Celery's Django fix-up closes the database connection before and after every task unless
# this is set: a new PostgreSQL connection per agent run cost more than the run itself. Django's
# own rules (CONN_MAX_AGE, CONN_HEALTH_CHECKS) decide instead, applied around each task below.
app.conf["CELERY_DB_REUSE_MAX"] = 1_000_000
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_database_connections(**kwargs: Any) -> None:
    # Drops a connection that is broken or older than CONN_MAX_AGE; keeps a healthy one.
    if kwargs.get("task") is not None and getattr(kwargs["task"].request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
