"""Icypeas: professional email from a name and a domain (the EmailFinder role).

API reference: https://api-doc.icypeas.com/find-emails/email-discovery/
A search is asynchronous: start it, then read its result a few seconds later.
"""

from __future__ import annotations

from typing import ClassVar

import pydantic

from integrations.http import BaseClient, PermanentError, Rate, TransientError
from integrations.registry import register_provider
from integrations.values import EmailFindResult

EMAIL_SEARCH = "email-search"  # https://api-doc.icypeas.com/find-emails/email-discovery/
READ_SEARCH = "bulk-single-searchs/read"  # https://api-doc.icypeas.com/fetch-results/search-item

POLL_ATTEMPTS = 6
POLL_INTERVAL_SECONDS = 2.0
_PENDING = {"NONE", "SCHEDULED", "IN_PROGRESS"}
_FOUND = {"FOUND", "DEBITED"}
_NOT_FOUND = {"NOT_FOUND", "DEBITED_NOT_FOUND"}
_CERTAINTY = {"ultra_sure": 0.95, "very_sure": 0.85, "sure": 0.75, "probable": 0.5}


class _Started(pydantic.BaseModel):
    id: str = pydantic.Field(alias="_id")
    status: str


class SearchStarted(pydantic.BaseModel):
    success: bool
    item: _Started


class _FoundEmail(pydantic.BaseModel):
    email: str
    certainty: str = ""


class _Results(pydantic.BaseModel):
    emails: list[_FoundEmail] = []


class _Item(pydantic.BaseModel):
    id: str = pydantic.Field(alias="_id")
    status: str
    results: _Results = _Results()


class SearchRead(pydantic.BaseModel):
    success: bool
    items: list[_Item] = []


@register_provider("email_finder", "icypeas")
class IcypeasClient(BaseClient):
    name = "icypeas"
    base_url = "https://app.icypeas.com/api"
    api_key_name = "ICYPEAS_API_KEY"
    required_keys = ("ICYPEAS_API_KEY",)
    auth_style = "header"  # the raw key in Authorization, no scheme
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=5.0)

    def read_search(self, search_id: str, *, operation: str = "read_search") -> SearchRead:
        return self.post(READ_SEARCH, operation=operation, model=SearchRead, json={"id": search_id}, idempotent=True)

    def find_email(self, *, first_name: str, last_name: str, domain: str) -> EmailFindResult | None:
        started = self.post(
            EMAIL_SEARCH,
            operation="find_email",
            model=SearchStarted,
            json={"firstname": first_name, "lastname": last_name, "domainOrCompany": domain},
        )
        for _ in range(POLL_ATTEMPTS):
            self.sleep(POLL_INTERVAL_SECONDS)
            read = self.read_search(started.item.id, operation="find_email_result")
            item = next((i for i in read.items if i.id == started.item.id), None)
            if item is None or item.status in _PENDING:
                continue
            if item.status in _NOT_FOUND or (item.status in _FOUND and not item.results.emails):
                return None
            if item.status in _FOUND:
                best = item.results.emails[0]
                return EmailFindResult(
                    email=best.email, confidence=_CERTAINTY.get(best.certainty, 0.5), provider=self.name
                )
            raise PermanentError(f"search ended {item.status}", provider=self.name, operation="find_email")
        raise TransientError(f"search {started.item.id} still running", provider=self.name, operation="find_email")

    def ping(self) -> str:
        self.post(
            READ_SEARCH,
            operation="health_check",
            model=SearchRead,
            json={"id": "health-check"},
            idempotent=True,
            attempts=1,
        )
        return "search API answered"
