"""System checks: a deprecated model in use is a warning on every `manage.py check` and deploy."""

from __future__ import annotations

from unittest import mock

from agents import checks
from tests.agents.sample_agents import ThinkerAgent


def test_the_default_model_is_not_deprecated() -> None:
    assert checks.check_models_not_deprecated() == []


def test_a_deprecated_default_model_is_a_warning_naming_its_end_of_life(settings) -> None:
    settings.ANTHROPIC_MODEL = "claude-old-1"
    with mock.patch.object(checks, "_deprecations", return_value={"claude-old-1": "November 30th, 2026"}):
        (warning,) = checks.check_models_not_deprecated()
    assert warning.id == "agents.W001" and "November 30th, 2026" in warning.msg
    assert "ANTHROPIC_MODEL" in (warning.hint or "")


def test_an_agent_pinned_to_a_deprecated_model_is_named(settings) -> None:
    with (
        mock.patch.object(ThinkerAgent, "model", "claude-pinned-1"),
        mock.patch.object(checks, "_deprecations", return_value={"claude-pinned-1": "June 1st, 2027"}),
    ):
        (warning,) = checks.check_models_not_deprecated()
    assert "t_thinker" in (warning.hint or "")


def test_the_sdk_deprecation_list_is_read() -> None:
    # If the SDK moves its list, this check must say so rather than pass silently forever.
    assert "claude-sonnet-4-5" in checks._deprecations()
