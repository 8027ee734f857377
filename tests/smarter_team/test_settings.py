"""Settings behave as the README promises in each environment."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    ours = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    clean.update(env)
    # A fresh interpreter imports Django and every app: seconds on a quiet machine, but a CI runner
    # shared with other work has taken over a minute. The limit only stops a hang.
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=300
    )


SETUP = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'smarter_team.settings'); django.setup(); "


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _run(SETUP, DJANGO_ENV="production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_refuses_debug() -> None:
    result = _run(SETUP, DJANGO_ENV="production", DJANGO_DEBUG="true", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off" in result.stderr


def test_production_settings_pass_the_deploy_checks() -> None:
    code = SETUP + (
        "from django.core.management import call_command; call_command('check', deploy=True, fail_level='WARNING')"
    )
    key = secrets.token_urlsafe(60)
    result = _run(
        code,
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=key,
        DJANGO_ALLOWED_HOSTS="a.example",
        PUBLIC_BASE_URL="https://a.example",
    )
    assert result.returncode == 0, result.stderr


def test_production_refuses_unsubscribe_links_over_http() -> None:
    code = SETUP + (
        "from django.core.management import call_command; call_command('check', deploy=True, fail_level='WARNING')"
    )
    key = secrets.token_urlsafe(60)
    result = _run(
        code,
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=key,
        DJANGO_ALLOWED_HOSTS="a.example",
        PUBLIC_BASE_URL="http://a.example",
    )
    assert result.returncode != 0 and "agents.E020" in result.stderr


def test_embedded_defaults_need_no_service() -> None:
    code = SETUP + (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.BRAIN_DEFAULT, s.DEBUG, "
        "s.DATABASES['default']['OPTIONS']['transaction_mode'])"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "heuristic", "True", "IMMEDIATE"]


def test_env_example_lists_every_variable_the_settings_read() -> None:
    settings_source = "".join(p.read_text() for p in (ROOT / "smarter_team").glob("settings*.py"))
    read = set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"", settings_source))
    read |= set(re.findall(r"^\s+\"([A-Z][A-Z0-9_]+_(?:KEY|SECRET|TOKEN|ID|INDEX))\",$", settings_source, re.M))
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = sorted(name for name in read if name not in listed)
    assert not missing, f".env.example lacks {missing}"


def test_postgresql_binds_on_the_server_unless_told_not_to() -> None:
    code = SETUP + "from django.conf import settings as s; d = s.DATABASES['default']; "
    code += "print(d['ENGINE'], d['OPTIONS'].get('server_side_binding'), d['OPTIONS'].get('prepare_threshold'))"
    url = "postgres://u@db.example:5432/agency"  # settings only: nothing connects
    on = _run(code, DATABASE_URL=url)
    client_side = _run(code, DATABASE_URL=url, DATABASE_SERVER_SIDE_BINDING="false")
    unprepared = _run(code, DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false")  # behind an old PgBouncer
    assert not (on.returncode or client_side.returncode or unprepared.returncode), on.stderr + client_side.stderr
    assert on.stdout.split() == ["smarter_team.postgresql", "True", "5"]
    assert client_side.stdout.split() == ["smarter_team.postgresql", "False", "5"]
    assert unprepared.stdout.split() == ["smarter_team.postgresql", "True", "None"]
