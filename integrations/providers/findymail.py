"""Findymail: find an email from a name and a domain, and verify one (EmailFinder, EmailVerifier).

API reference: https://app.findymail.com/docs/
"""

from __future__ import annotations

from typing import ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.registry import register_provider
from integrations.values import EmailFindResult, Verdict

SEARCH_NAME = "search/name"  # https://app.findymail.com/docs/#find-email-from-name
VERIFY = "verify"  # https://app.findymail.com/docs/#verify-an-email
CREDITS = "credits"  # https://app.findymail.com/docs/#get-remaining-credits


class _Contact(pydantic.BaseModel):
    name: str = ""
    email: str | None = None
    domain: str = ""


class SearchResult(pydantic.BaseModel):
    contact: _Contact | None = None


class VerifyResult(pydantic.BaseModel):
    email: str
    verified: bool
    provider: str = ""


class Credits(pydantic.BaseModel):
    credits: int
    verifier_credits: int = 0


@register_provider("email_finder", "findymail")
@register_provider("email_verifier", "findymail")
class FindymailClient(BaseClient):
    name = "findymail"
    base_url = "https://app.findymail.com/api"
    api_key_name = "FINDYMAIL_API_KEY"
    required_keys = ("FINDYMAIL_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=5.0)
    # Findymail verifies live against the mail server; it can take a while.
    verify_timeout_seconds: ClassVar[float] = 60.0

    def find_email(self, *, first_name: str, last_name: str, domain: str) -> EmailFindResult | None:
        response = self.request(
            "POST",
            SEARCH_NAME,
            operation="find_email",
            json={"name": f"{first_name} {last_name}".strip(), "domain": domain},
            idempotent=True,
            timeout=self.verify_timeout_seconds,
            accept=(404,),
        )
        if response.status_code == 404:
            return None  # Findymail answers 404 when it found nobody: a result, not a failure
        result = self.parse(response, SearchResult, operation="find_email")
        if result.contact is None or not result.contact.email:
            return None
        # Findymail only returns addresses it verified itself.
        return EmailFindResult(email=result.contact.email, confidence=0.9, provider=self.name)

    def verify(self, email: str) -> Verdict:
        result = self.post(
            VERIFY,
            operation="verify",
            model=VerifyResult,
            json={"email": email},
            idempotent=True,
            timeout=self.verify_timeout_seconds,
        )
        return Verdict(
            email=email,
            status="valid" if result.verified else "invalid",
            reason=f"mail server: {result.provider}" if result.provider else "",
            provider=self.name,
        )

    def ping(self) -> str:
        credits = self.get(CREDITS, operation="health_check", model=Credits, attempts=1)
        return f"{credits.credits} finder / {credits.verifier_credits} verifier credits"
