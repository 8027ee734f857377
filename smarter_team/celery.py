"""The Celery app. Configuration comes from Django settings under the ``CELERY_`` namespace.

Queues per domain so workers scale per kind of work: crm, sales, delivery, system and llm (model
calls: slow, rate-limited, best on their own workers). ``agents.run`` goes to the queue of the
run's agent, chosen when it is published; everything else of the runtime is system work.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings")

QUEUES = ("crm", "sales", "delivery", "system", "llm")

app = Celery("smarter_team")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "system"
app.conf.task_routes = {"agents.run": {"queue": "system"}, "agents.*": {"queue": "system"}}
app.autodiscover_tasks()
