from __future__ import annotations

import pytest

from learning.fingerprint import error_type_of, fingerprint, normalise_message


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Lead 42 has no company domain", "lead <n> has no company domain"),
        ("price -3.50 too low", "price <n> too low"),
        ("lead_123 failed", "<id> failed"),
        ("request req-9f2a rejected", "request <id> rejected"),
        ("run 550e8400-e29b-41d4-a716-446655440000 lost", "run <uuid> lost"),
        ("run 550e8400e29b41d4a716446655440000 lost", "run <uuid> lost"),
        ("object at 0x7f3a9c lost", "object at <hex> lost"),
        ("etag deadbeef12 mismatch", "etag <hex> mismatch"),
        ("bounce for bob.smith+x@acme.co.uk", "bounce for <email>"),
        ("GET https://api.vendor.io/v1/leads?page=2 failed", "get <url> failed"),
        ("acme.com is unreachable", "<domain> is unreachable"),
        ("mail.sub.example.co.uk is unreachable", "<domain> is unreachable"),
        ("status 'bounced' not allowed", "status <value> not allowed"),
        ('status "bounced" not allowed', "status <value> not allowed"),
        ("column `email` missing", "column <value> missing"),
        ("  many    spaces\nand lines ", "many spaces and lines"),
    ],
)
def test_normalise_replaces_what_varies(message: str, expected: str) -> None:
    assert normalise_message(message) == expected


def test_dotted_field_names_are_not_taken_for_domains() -> None:
    # "lead.email" and "lead.phone" are different mistakes; a domain placeholder would merge them.
    assert normalise_message("lead.email is required") != normalise_message("lead.phone is required")


def test_alike_errors_share_a_fingerprint() -> None:
    a = fingerprint(agent_name="lead_research", error_type="ValueError", step="enrich", message="lead 1 (a.com) no x")
    b = fingerprint(agent_name="lead_research", error_type="ValueError", step="enrich", message="lead 9 (b.io) no x")
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0


@pytest.mark.parametrize(
    "changed",
    [
        {"agent_name": "email_finder"},
        {"error_type": "KeyError"},
        {"step": "score"},
        {"message": "lead 1 has no title"},
    ],
)
def test_each_part_separates_errors(changed: dict[str, str]) -> None:
    base = {"agent_name": "lead_research", "error_type": "ValueError", "step": "enrich", "message": "lead 1 no domain"}
    assert fingerprint(**base) != fingerprint(**{**base, **changed})


def test_case_and_spacing_of_agent_and_step_do_not_matter() -> None:
    a = fingerprint(agent_name="Lead_Research ", error_type="ValueError", step="Enrich", message="x")
    b = fingerprint(agent_name="lead_research", error_type="ValueError", step="enrich", message="x")
    assert a == b


def test_very_long_messages_are_bounded() -> None:
    assert len(normalise_message("word " * 10_000)) <= 2000


def test_error_type_names_builtins_short_and_others_qualified() -> None:
    class LocalError(Exception):
        pass

    assert error_type_of(ValueError("x")) == "ValueError"
    assert error_type_of(LocalError()).endswith(
        "test_fingerprint.test_error_type_names_builtins_short_and_others_qualified.<locals>.LocalError"
    )
