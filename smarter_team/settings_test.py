"""Settings for pytest: the real settings, read with test defaults set first.

PostgreSQL and Redis are the machine's services (the Makefile and .ci/run start them and may
override the URLs); tests never reach a real model or vendor, whatever a developer's .env says.
"""

import os

os.environ["DJANGO_ENV"] = "test"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smarter_team")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ["ANTHROPIC_API_KEY"] = ""
os.environ["BRAIN_DEFAULT"] = "heuristic"
os.environ["CLOCK_SPEED"] = "1"

from smarter_team.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user factories
INTEGRATION_KEYS = {name: "" for name in INTEGRATION_KEYS}  # noqa: F405

# pytest-xdist: each worker gets its own test database (pytest-django suffixes the name) and its
# own Redis key space (cache keys, Celery queues, broker bookkeeping), so two workers never purge,
# consume or count each other's messages.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    CACHES["default"]["KEY_PREFIX"] = XDIST_WORKER  # noqa: F405
    # The providers' shared state too: a test clearing its tokens must not clear the other
    # worker's in the middle of a test (a second OAuth refresh there, once, in CI).
    REDIS_KEY_PREFIX = f"{REDIS_KEY_PREFIX}:{XDIST_WORKER}"  # noqa: F405
    if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
            "global_keyprefix": f"{XDIST_WORKER}:",
        }
