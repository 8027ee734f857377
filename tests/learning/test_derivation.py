from __future__ import annotations

from typing import Any

import pytest

from learning.derivation import ErrorGroup, Proposal, derive_condition, error_kind, field_paths, propose
from learning.facts_record import record_facts


def group(error_type: str = "ValueError", message: str = "lead 1 has no company domain", **kw) -> ErrorGroup:
    base = {
        "agent_name": "t_domain_enricher",
        "provider": "",
        "error_type": error_type,
        "step": "run",
        "fingerprint": "f" * 64,
        "pattern": message,
        "message": message,
        "occurrences": 3,
        "transient_share": 0.0,
    }
    return ErrorGroup(**{**base, **kw})


@pytest.mark.parametrize(
    ("error_type", "message", "transient", "kind"),
    [
        ("integrations.http.errors.RateLimitedError", "icypeas.find (HTTP 429): slow down", 1.0, "rate_limit"),
        ("agents.errors.TransientError", "upstream unavailable", 1.0, "transient"),
        ("TimeoutError", "read timed out", 0.0, "transient"),
        ("integrations.http.errors.AuthError", "HTTP 401", 0.0, "auth"),
        ("PermissionError", "not allowed", 0.0, "auth"),
        ("ValueError", "bad", 0.0, "validation"),
        ("agents.errors.PermanentError", "lead 3 has no domain", 0.0, "validation"),
        ("ZeroDivisionError", "division by zero", 0.0, "other"),
    ],
)
def test_error_kind(error_type: str, message: str, transient: float, kind: str) -> None:
    assert error_kind(group(error_type, message, transient_share=transient)) == kind


def test_field_paths_walks_nested_dicts() -> None:
    assert field_paths({"a": 1, "b": {"c": {"d": 1}}, "l": [1]}) == {"a", "b", "b.c", "b.c.d", "l"}


def test_derives_the_field_missing_in_failures_and_present_in_successes() -> None:
    failing = [{"lead_id": i, "company_domain": None, "country": "US"} for i in range(5)]
    succeeding = [{"lead_id": i, "company_domain": f"c{i}.com", "country": "US"} for i in range(20)]
    condition, evidence = derive_condition(failing, succeeding, message="no company domain")
    assert condition == {"field": "company_domain", "op": "missing"}
    assert evidence["fail_share"] == 1.0 and evidence["ok_share"] == 0.0


def test_empty_strings_give_the_empty_op() -> None:
    failing: list[dict[str, Any]] = [{"company_domain": ""}, {"company_domain": None}, {}]
    succeeding = [{"company_domain": "a.com"}, {"company_domain": "b.com"}]
    assert derive_condition(failing, succeeding)[0] == {"field": "company_domain", "op": "empty"}


def test_tolerates_a_little_noise() -> None:
    failing: list[dict[str, Any]] = [{"d": None}] * 19 + [{"d": "x.com"}]
    succeeding = [{"d": "y.com"}] * 30
    assert derive_condition(failing, succeeding)[0] == {"field": "d", "op": "missing"}


def test_derives_a_value_shared_by_failures_and_rare_in_successes() -> None:
    failing = [{"country": "KP", "id": i} for i in range(4)]
    succeeding = [{"country": c, "id": i} for i, c in enumerate(["US", "DE", "FR"] * 5)]
    assert derive_condition(failing, succeeding)[0] == {"field": "country", "op": "equals", "value": "KP"}


def test_no_condition_without_contrast_or_discrimination() -> None:
    failing = [{"d": None}] * 3
    assert derive_condition(failing, [])[0] == {}
    assert derive_condition(failing, [{"d": None}] * 3)[0] == {}  # successes lack it too


def test_the_field_the_message_names_wins_a_tie() -> None:
    failing = [{"company_domain": None, "zzz": None}] * 3
    succeeding = [{"company_domain": "a.com", "zzz": 1}] * 3
    condition, _ = derive_condition(failing, succeeding, message="lead has no company domain")
    assert condition["field"] == "company_domain"


def test_propose_maps_error_kinds_to_rule_types() -> None:
    failing = [record_facts({"company_domain": None})] * 3
    ok = [record_facts({"company_domain": "a.com"})] * 3
    validate = propose(group(), failing, ok)
    assert isinstance(validate, Proposal)
    assert validate.rule_type == "validate" and validate.condition == {"field": "company_domain", "op": "empty"}
    assert "company_domain is missing or empty" in validate.text
    retry = propose(group("RateLimitedError", "HTTP 429", transient_share=1.0), failing, ok)
    assert (
        isinstance(retry, Proposal)
        and retry.rule_type == "retry"
        and retry.action_params == {"delays": [60, 300, 900], "max_attempts": 4}
    )
    escalate = propose(group("AuthError", "invalid api key"), failing, ok)
    assert (
        isinstance(escalate, Proposal)
        and escalate.rule_type == "escalate"
        and escalate.action_params["target"] == "admin"
    )
    always = propose(group("ValueError", "bad"), failing, failing)  # nothing discriminates
    assert isinstance(always, Proposal) and always.rule_type == "always" and always.condition == {}


def test_a_refusal_by_domain_becomes_a_condition_on_the_domain_part_only() -> None:
    from learning.derivation import derive_from_records, domains_of

    def rec(domain: str) -> dict[str, dict[str, object]]:
        return {"lead.company.domain": {"t": "str", "present": True, "len": len(domain), "domain": domain}}

    failing = [rec("gmail.com"), rec("yahoo.com"), rec("gmail.com"), rec("gmail.com")]
    succeeding = [rec(f"practice{n}.com") for n in range(20)]
    condition, evidence = derive_from_records(failing, succeeding, known=lambda path: True)
    assert domains_of(condition) == ["gmail.com", "yahoo.com"]
    assert evidence["fail_share"] == 1.0 and evidence["ok_share"] == 0.0
    # A domain that succeeds as often as it fails is no lesson.
    condition, _ = derive_from_records(failing, [*succeeding, *[rec("gmail.com")] * 10], known=lambda path: True)
    assert condition == {}
