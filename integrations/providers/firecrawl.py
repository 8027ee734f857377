"""Firecrawl: pages as clean markdown, whole sites crawled, web search (the WebResearch role).

API reference: https://docs.firecrawl.dev/api-reference/introduction
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate, Usage
from integrations.http.pagination import by_cursor
from integrations.registry import register_provider
from integrations.values import Citation, ResearchAnswer, ScrapedPage

SCRAPE = "v1/scrape"  # https://docs.firecrawl.dev/api-reference/endpoint/scrape
SEARCH = "v1/search"  # https://docs.firecrawl.dev/api-reference/endpoint/search
CRAWL = "v1/crawl"  # https://docs.firecrawl.dev/api-reference/endpoint/crawl-post
CRAWL_STATUS = "v1/crawl/{id}"  # https://docs.firecrawl.dev/api-reference/endpoint/crawl-get
CREDIT_USAGE = "v1/team/credit-usage"  # https://docs.firecrawl.dev/api-reference/endpoint/credit-usage


class _PageMetadata(pydantic.BaseModel):
    title: str = ""
    sourceURL: str = ""
    statusCode: int = 200


class _Page(pydantic.BaseModel):
    markdown: str = ""
    metadata: _PageMetadata = _PageMetadata()


class ScrapeResponse(pydantic.BaseModel):
    success: bool
    data: _Page


class _SearchHit(pydantic.BaseModel):
    url: str
    title: str = ""
    description: str = ""


class SearchResponse(pydantic.BaseModel):
    success: bool
    data: list[_SearchHit]


class CrawlStarted(pydantic.BaseModel):
    success: bool
    id: str


class CrawlStatus(pydantic.BaseModel):
    status: str
    total: int = 0
    completed: int = 0
    data: list[_Page] = []
    next: str | None = None


class _Credits(pydantic.BaseModel):
    remaining_credits: int


class CreditUsage(pydantic.BaseModel):
    success: bool
    data: _Credits


@register_provider("web_research", "firecrawl")
class FirecrawlClient(BaseClient):
    name = "firecrawl"
    base_url = "https://api.firecrawl.dev"
    api_key_name = "FIRECRAWL_API_KEY"
    required_keys = ("FIRECRAWL_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=1.5)

    def scrape(self, *, url: str) -> ScrapedPage:
        result = self.post(
            SCRAPE,
            operation="scrape",
            model=ScrapeResponse,
            json={"url": url, "formats": ["markdown"], "onlyMainContent": True},
            idempotent=True,
            meter=lambda _: Usage(units=Decimal(1)),
        )
        meta = result.data.metadata
        return ScrapedPage(
            url=meta.sourceURL or url, title=meta.title, markdown=result.data.markdown, status_code=meta.statusCode
        )

    def search(self, *, query: str, max_results: int = 5) -> ResearchAnswer:
        result = self.post(
            SEARCH,
            operation="search",
            model=SearchResponse,
            json={"query": query, "limit": max_results},
            idempotent=True,
        )
        answer = "\n".join(f"- {hit.title}: {hit.description}" for hit in result.data)
        return ResearchAnswer(
            query=query, answer=answer, citations=tuple(Citation(url=h.url, title=h.title) for h in result.data)
        )

    def start_crawl(self, *, url: str, limit: int = 20) -> str:
        started = self.post(
            CRAWL,
            operation="start_crawl",
            model=CrawlStarted,
            json={"url": url, "limit": limit, "scrapeOptions": {"formats": ["markdown"]}},
        )
        return started.id

    def crawl_status(self, crawl_id: str) -> CrawlStatus:
        return self.get(CRAWL_STATUS.format(id=crawl_id), operation="crawl_status", model=CrawlStatus)

    def crawl_pages(self, crawl_id: str) -> Iterator[_Page]:
        """Every page of a finished crawl, following Firecrawl's ``next`` URLs."""

        def fetch(cursor: str | None) -> tuple[list[_Page], str | None]:
            status = self.get(cursor or CRAWL_STATUS.format(id=crawl_id), operation="crawl_status", model=CrawlStatus)
            return status.data, status.next

        return by_cursor(fetch)

    def ping(self) -> str:
        usage = self.get(CREDIT_USAGE, operation="health_check", model=CreditUsage, attempts=1)
        return f"{usage.data.remaining_credits} credits left"


__all__: list[Any] = ["FirecrawlClient"]
