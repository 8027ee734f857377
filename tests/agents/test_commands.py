"""manage.py agents list / run."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from agents.models import AgentRun

pytestmark = pytest.mark.django_db


def test_list_shows_every_agent(capsys) -> None:
    call_command("agents", "list")
    out = capsys.readouterr().out
    assert "data_validation" in out and "deduplication" in out and "30 3 * * *" in out


def test_run_executes_in_process_and_prints_the_output(capsys) -> None:
    call_command("agents", "run", "t_echo", "--input", '{"text": "hello"}')
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "succeeded" and printed["output"] == {"echo": "hello"}
    assert AgentRun.objects.get(pk=printed["run"]).trigger == AgentRun.Trigger.MANUAL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "no agent registered"),
        (["t_echo", "--input", "{oops"], "not JSON"),
        (["t_echo", "--input", "[1]"], "JSON object"),
        (["data_validation", "--input", "{}"], "invalid input"),
        (["t_broken"], "ended failed"),
    ],
)
def test_run_reports_what_went_wrong(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("agents", "run", *args)
