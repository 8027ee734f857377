"""Apify: lead lists from a scraping actor (the LeadSource role; Google Maps places by default).

API reference: https://docs.apify.com/api/v2
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import pydantic

from integrations.http import BaseClient, Rate
from integrations.registry import register_provider
from integrations.values import LeadItem, LeadSearch

RUN_ACTOR = "actors/{actor_id}/runs"  # https://docs.apify.com/api/v2/act-runs-post (/v2/acts/ is the legacy prefix)
GET_RUN = "actor-runs/{run_id}"  # https://docs.apify.com/api/v2/actor-run-get
DATASET_ITEMS = "datasets/{dataset_id}/items"  # https://docs.apify.com/api/v2/dataset-items-get
ME = "users/me"  # https://docs.apify.com/api/v2/users-me-get

# The Google Maps scraper: local businesses with website and phone, a good first list for a niche.
DEFAULT_ACTOR = "compass~crawler-google-places"
_STATUS: dict[str, Literal["running", "succeeded", "failed", "aborted", "unknown"]] = {
    "READY": "running",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMING-OUT": "failed",
    "TIMED-OUT": "failed",
    "ABORTING": "aborted",
    "ABORTED": "aborted",
}


class _Run(pydantic.BaseModel):
    id: str
    status: str
    defaultDatasetId: str


class RunEnvelope(pydantic.BaseModel):
    data: _Run


class _User(pydantic.BaseModel):
    username: str


class UserEnvelope(pydantic.BaseModel):
    data: _User


class Place(pydantic.BaseModel):
    """One Google Maps place as the actor stores it; only what we map is declared, the rest kept."""

    model_config = pydantic.ConfigDict(extra="allow")

    title: str = ""
    website: str | None = None
    phone: str | None = None
    address: str | None = None
    categoryName: str | None = None
    emails: list[str] = []


def _domain(url: str) -> str:
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    return host.removeprefix("www.")


@register_provider("lead_source", "apify")
class ApifyClient(BaseClient):
    name = "apify"
    base_url = "https://api.apify.com/v2"
    api_key_name = "APIFY_API_TOKEN"
    required_keys = ("APIFY_API_TOKEN",)
    rate: ClassVar[Rate | None] = Rate(capacity=20, per_second=30.0)
    actor_id: ClassVar[str] = DEFAULT_ACTOR

    @staticmethod
    def _search(run: _Run) -> LeadSearch:
        return LeadSearch(search_id=run.id, status=_STATUS.get(run.status, "unknown"), dataset_id=run.defaultDatasetId)

    def run_actor(self, actor_id: str, run_input: dict[str, Any]) -> LeadSearch:
        envelope = self.post(
            RUN_ACTOR.format(actor_id=actor_id), operation="run_actor", model=RunEnvelope, json=run_input
        )
        return self._search(envelope.data)

    def run_search(self, *, query: str, location: str = "", max_items: int = 100) -> LeadSearch:
        return self.run_actor(
            self.actor_id,
            {
                "searchStringsArray": [query],
                "locationQuery": location,
                "maxCrawledPlacesPerSearch": max_items,
                "language": "en",
            },
        )

    def get_search(self, search_id: str) -> LeadSearch:
        return self._search(self.get(GET_RUN.format(run_id=search_id), operation="get_run", model=RunEnvelope).data)

    def dataset_items(self, dataset_id: str, *, offset: int = 0, limit: int = 100) -> list[Place]:
        return self.get(
            DATASET_ITEMS.format(dataset_id=dataset_id),
            operation="fetch_items",
            model=list[Place],
            params={"offset": offset, "limit": limit, "clean": "true", "format": "json"},
        )

    def fetch_items(self, *, search: LeadSearch, offset: int = 0, limit: int = 100) -> list[LeadItem]:
        items = []
        for place in self.dataset_items(search.dataset_id, offset=offset, limit=limit):
            website = place.website or ""
            items.append(
                LeadItem(
                    company_name=place.title,
                    website=website,
                    domain=_domain(website) if website else "",
                    phone=place.phone or "",
                    email=place.emails[0] if place.emails else "",
                    location=place.address or "",
                    industry=place.categoryName or "",
                    raw=place.model_dump(),
                )
            )
        return items

    def ping(self) -> str:
        return f"user {self.get(ME, operation='health_check', model=UserEnvelope, attempts=1).data.username}"
