"""Is an address worth sending to? Syntax, throw-away and role lists, MX, then the verifier's verdict.

One path for the email_verification agent and ``manage.py verify_email``: each step can only make
the verdict worse, and the first decisive step wins with its reason. MX answers come from a small
resolver interface: real DNS (dnspython) in production, the sandbox world on the embedded default,
a fake in tests. No step here writes to the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from email_validator import EmailNotValidError, validate_email

from crm.services import normalize
from integrations.values import Verdict

# Lead.email_status values, best first; a later step never improves on an earlier one.
PASSES = frozenset({"valid", "risky", "catch_all"})


class MxResolver(Protocol):
    def mx_hosts(self, domain: str) -> list[str]:
        """The domain's mail exchangers, best first; [] when it has none (or does not exist).
        Raises ``integrations.http.errors.TransientError`` when DNS cannot answer now."""
        ...


@dataclass(frozen=True)
class EmailCheck:
    email: str
    status: str  # a Lead.EmailStatus value
    reason: str
    steps: tuple[str, ...] = ()

    @property
    def passes(self) -> bool:
        return self.status in PASSES


class DnsResolver:
    """Real DNS through dnspython; an address without MX falls back to the A record (RFC 5321 5.1)."""

    def __init__(self, lifetime: float = 5.0) -> None:
        self.lifetime = lifetime

    def mx_hosts(self, domain: str) -> list[str]:
        import dns.exception
        import dns.resolver

        from integrations.http.errors import TransientError

        try:
            answer = dns.resolver.resolve(domain, "MX", lifetime=self.lifetime)
        except dns.resolver.NXDOMAIN:
            return []
        except dns.resolver.NoAnswer:
            try:
                dns.resolver.resolve(domain, "A", lifetime=self.lifetime)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                return []
            return [domain]
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            raise TransientError(f"DNS did not answer for {domain}: {exc}", provider="dns", operation="mx") from exc
        records = sorted(answer, key=lambda r: r.preference)
        hosts = [str(r.exchange).rstrip(".") for r in records]
        return [h for h in hosts if h]  # "0 ." is a null MX (RFC 7505): accepts no mail


def get_resolver() -> MxResolver:
    """``EMAIL_MX_RESOLVER``: "dns", "sandbox", or "auto" (the sandbox while the verifier role is the
    sandbox, so the embedded default never asks real DNS)."""
    choice = settings.EMAIL_MX_RESOLVER
    if choice == "auto":
        from integrations.registry import SANDBOX, choose_provider

        choice = "sandbox" if choose_provider("email_verifier") == SANDBOX else "dns"
    if choice == "sandbox":
        from integrations.sandbox.market import SandboxMxResolver

        return SandboxMxResolver()
    if choice != "dns":
        raise ValueError(f"EMAIL_MX_RESOLVER={choice!r}: use auto, dns or sandbox")
    return DnsResolver()


def check_syntax(raw: str) -> tuple[str, str]:
    """(normalised address, "") or (raw, reason). RFC 5321/5322 via email-validator: quoted local
    parts, IP literals, length limits, internationalised addresses, special-use domains."""
    try:
        info = validate_email(
            (raw or "").strip(), check_deliverability=False, allow_quoted_local=True, allow_domain_literal=True
        )
    except EmailNotValidError as exc:
        return (raw or "").strip(), str(exc)
    domain = info.ascii_domain or info.domain
    local = info.local_part
    # RFC 5321 4.5.3.1.1: 64 octets of local part, whatever the library lets through.
    if len(local.encode()) > 64:
        return raw.strip(), f"the part before the @ is {len(local.encode())} octets long (64 at most)"
    return f"{local.lower()}@{domain.lower()}", ""


def check_address(
    raw: str,
    *,
    offline: bool = False,
    resolver: MxResolver | None = None,
    verify: Callable[[str], Verdict] | None = None,
) -> EmailCheck:
    """The verdict for one address. ``offline``: syntax and lists only (no MX, no provider)."""
    email, error = check_syntax(raw)
    if error:
        return EmailCheck(email, "invalid", f"syntax: {error}", ("syntax",))
    local, _, domain = email.rpartition("@")
    steps = ["syntax"]
    if domain.startswith("["):
        return EmailCheck(email, "risky", "IP-literal domain: no MX to check, rarely a person's mailbox", ("syntax",))
    if normalize.is_disposable_domain(domain):
        return EmailCheck(email, "disposable", f"{domain} is a throw-away mail service", (*steps, "lists"))
    if normalize.is_role_account(local):
        return EmailCheck(email, "role", f"{local}@ is a role account, not a person", (*steps, "lists"))
    steps.append("lists")
    if offline:
        return EmailCheck(email, "unknown", "syntax and lists pass (offline: MX and provider not asked)", tuple(steps))
    hosts = (resolver or get_resolver()).mx_hosts(domain)
    steps.append("mx")
    if not hosts:
        return EmailCheck(email, "invalid", f"{domain} accepts no mail (no MX record)", tuple(steps))
    if verify is None:
        return EmailCheck(email, "unknown", f"MX {hosts[0]}; no verifier asked", tuple(steps))
    verdict = verify(email)
    steps.append("provider")
    reason = f"{verdict.provider or 'verifier'}: {verdict.reason or verdict.status}"
    return EmailCheck(email, verdict.status, reason, tuple(steps))
