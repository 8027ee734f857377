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
