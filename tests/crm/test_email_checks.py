"""crm.services.email_checks: the one verification path (agent and command), no DNS asked."""

from __future__ import annotations

import pytest

from crm.services.email_checks import check_address, check_syntax
from integrations.http.errors import TransientError
from integrations.values import Verdict


class FakeResolver:
    def __init__(self, answers: dict[str, list[str]] | None = None, *, down: bool = False) -> None:
        self.answers, self.down = answers or {}, down
        self.asked: list[str] = []

    def mx_hosts(self, domain: str) -> list[str]:
        self.asked.append(domain)
        if self.down:
            raise TransientError("timeout", provider="dns", operation="mx")
        return self.answers.get(domain, [])


def verifier(status: str):
    return lambda email: Verdict(email=email, status=status, reason="mailbox check", provider="fake")


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ('"john doe"@acme.com', True),  # quoted local part
        ("jane@[192.0.2.1]", True),  # IP literal
        ("josé@bücher.de", True),  # internationalised
        ("a" * 65 + "@acme.com", False),  # local part over 64
        ("jane@acme", False),  # no dot in the domain
        ("jane@something.invalid", False),  # special-use domain
        ("jane..doe@acme.com", False),
        ("", False),
    ],
)
def test_syntax_follows_the_rfcs(raw: str, ok: bool) -> None:
    _, error = check_syntax(raw)
    assert (error == "") is ok, error


def test_internationalised_domains_are_stored_in_ascii() -> None:
    assert check_syntax("Jane@Bücher.de")[0] == "jane@xn--bcher-kva.de"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("jane@mailinator.com", "disposable"),
        ("jane@yopmail.com", "disposable"),
        ("info@acme.com", "role"),
        ("sales@acme.com", "role"),
        ("jane@[192.0.2.1]", "risky"),
        ("not an address", "invalid"),
    ],
)
def test_lists_decide_before_any_lookup(raw: str, status: str) -> None:
    resolver = FakeResolver()
    check = check_address(raw, resolver=resolver, verify=verifier("valid"))
    assert check.status == status and check.reason
    assert resolver.asked == []


def test_no_mx_is_invalid_and_the_provider_is_not_paid() -> None:
    paid: list[str] = []

    def verify(email: str) -> Verdict:
        paid.append(email)
        return Verdict(email=email, status="valid")

    check = check_address("jane@acme.com", resolver=FakeResolver(), verify=verify)
    assert check.status == "invalid" and "no MX" in check.reason
    assert paid == []


@pytest.mark.parametrize("status", ["valid", "invalid", "risky", "catch_all"])
def test_the_provider_has_the_last_word(status: str) -> None:
    check = check_address(
        "jane@acme.com", resolver=FakeResolver({"acme.com": ["mx.acme.com"]}), verify=verifier(status)
    )
    assert check.status == status and check.steps == ("syntax", "lists", "mx", "provider")


def test_offline_asks_neither_dns_nor_the_provider() -> None:
    resolver = FakeResolver()
    check = check_address("Jane@Acme.com", offline=True, resolver=resolver, verify=verifier("invalid"))
    assert (check.email, check.status) == ("jane@acme.com", "unknown")
    assert resolver.asked == []


def test_dns_down_is_transient() -> None:
    with pytest.raises(TransientError):
        check_address("jane@acme.com", resolver=FakeResolver(down=True))
