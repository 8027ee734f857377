from __future__ import annotations

from typing import Any

import pytest

from learning.conditions import ConditionError, describe, evaluate, validate

LEAD = {
    "company_domain": "",
    "country": "DE",
    "score": 35,
    "tags": [],
    "lead": {"email": "a@b.com", "emails": ["x@y.com"]},
    "flag": True,
    "none": None,
}


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        ({"field": "company_domain", "op": "empty"}, True),
        ({"field": "company_domain", "op": "missing"}, False),  # present but empty
        ({"field": "absent", "op": "missing"}, True),
        ({"field": "none", "op": "missing"}, True),
        ({"field": "tags", "op": "empty"}, True),
        ({"field": "country", "op": "present"}, True),
        ({"field": "country", "op": "equals", "value": "DE"}, True),
        ({"field": "country", "op": "in", "value": ["US", "CA"]}, False),
        ({"field": "score", "op": "lt", "value": 40}, True),
        ({"field": "score", "op": "gt", "value": 40}, False),
        ({"field": "country", "op": "lt", "value": 3}, False),  # not a number: false, not an error
        ({"field": "lead.email", "op": "matches", "value": r"@b\.com$"}, True),
        ({"field": "lead.emails.0", "op": "equals", "value": "x@y.com"}, True),
        ({"field": "lead.emails.5", "op": "missing"}, True),
        ({"field": "flag", "op": "equals", "value": 1}, False),  # JSON true is not the number 1
        ({"field": "absent", "op": "equals", "value": None}, False),
        (
            {"all": [{"field": "country", "op": "equals", "value": "DE"}, {"field": "score", "op": "lt", "value": 40}]},
            True,
        ),
        (
            {"all": [{"field": "country", "op": "equals", "value": "DE"}, {"field": "score", "op": "gt", "value": 40}]},
            False,
        ),
        ({"any": [{"field": "country", "op": "equals", "value": "US"}, {"field": "tags", "op": "empty"}]}, True),
        ({"not": {"field": "country", "op": "present"}}, False),
        ({}, False),
    ],
)
def test_evaluate(condition: dict[str, Any], fires: bool) -> None:
    validate(condition)
    assert evaluate(condition, LEAD) is fires


@pytest.mark.parametrize(
    "condition",
    [
        [],
        {"field": "x", "op": "eval"},
        {"field": "", "op": "missing"},
        {"field": "x", "op": "equals"},
        {"field": "x", "op": "in", "value": "US"},
        {"field": "x", "op": "lt", "value": "3"},
        {"field": "x", "op": "lt", "value": True},
        {"field": "x", "op": "matches", "value": "("},
        {"field": "x", "op": "matches", "value": "a" * 500},
        {"field": "x", "op": "missing", "extra": 1},
        {"all": []},
        {"all": [{}]},
        {"all": [{"field": "x", "op": "missing"}], "any": []},
        {"not": {}},
    ],
)
def test_validate_rejects_malformed_conditions(condition: Any) -> None:
    with pytest.raises(ConditionError):
        validate(condition)


def test_too_deep_nesting_is_rejected_and_false() -> None:
    condition: dict[str, Any] = {"field": "x", "op": "missing"}
    for _ in range(12):
        condition = {"not": condition}
    with pytest.raises(ConditionError):
        validate(condition)
    assert evaluate(condition, {}) is False


def test_malformed_conditions_never_fire_at_run_time() -> None:
    assert evaluate({"field": "x", "op": "__import__"}, {}) is False
    assert evaluate("__import__('os')", {}) is False
    assert evaluate({"field": "x", "op": "matches", "value": "("}, {"x": "("}) is False


def test_evaluate_on_non_dict_input_is_safe() -> None:
    assert evaluate({"field": "a.b", "op": "missing"}, None) is True
    assert evaluate({"field": "a.b", "op": "equals", "value": 1}, [1, 2]) is False


def test_describe_reads_like_english() -> None:
    text = describe({"any": [{"field": "company_domain", "op": "empty"}, {"field": "score", "op": "lt", "value": 40}]})
    assert text == "(company_domain is missing or empty) or (score < 40)"


def test_a_malformed_part_makes_the_whole_condition_false_even_under_not() -> None:
    assert evaluate({"not": {"field": "x", "op": "bogus"}}, {}) is False
    assert (
        evaluate({"any": [{"field": "x", "op": "missing"}, {"field": "x", "op": "matches", "value": "("}]}, {}) is False
    )
