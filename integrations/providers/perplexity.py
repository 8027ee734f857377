"""Perplexity: answers with citations from the live web (the WebResearch role).

API reference: https://docs.perplexity.ai/api-reference/chat-completions-post
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate, Usage
from integrations.registry import register_provider
from integrations.values import Citation, ResearchAnswer, ScrapedPage

# https://docs.perplexity.ai/api-reference/chat-completions-post
CHAT_COMPLETIONS = "chat/completions"
MODEL = "sonar"
SYSTEM_PROMPT = "Answer concisely and factually for a B2B sales researcher. Cite sources."


# The vendor's own response model (perplexityai's StreamChunk) makes content, citations,
# search_results and usage nullable: an explicit null means "none", not a broken answer. Content
# may also come as structured chunks, of which the text ones are the answer.
class _Message(pydantic.BaseModel):
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(c.get("text", "")) for c in self.content if c.get("type") == "text")
        return self.content or ""


class _Choice(pydantic.BaseModel):
    message: _Message


class _SearchResult(pydantic.BaseModel):
    url: str
    title: str = ""


class _TokenUsage(pydantic.BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatCompletion(pydantic.BaseModel):
    id: str
    choices: list[_Choice] = pydantic.Field(min_length=1)
    citations: list[str] | None = None
    search_results: list[_SearchResult] | None = None
    usage: _TokenUsage | None = None

    @property
    def answer(self) -> str:
        return self.choices[0].message.text


def _usage(completion: ChatCompletion) -> Usage:
    tokens = completion.usage or _TokenUsage()
    return Usage(units=Decimal(1), tokens_in=tokens.prompt_tokens, tokens_out=tokens.completion_tokens)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_DROP = re.compile(r"<(script|style|noscript)[^>]*>.*?</\1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]*\n[\s]*|[ \t]{2,}")


def html_to_text(page: str) -> tuple[str, str]:
    """(title, text) of an HTML page: good enough for a prompt, not a browser."""
    title_match = _TITLE.search(page)
    title = html.unescape(title_match.group(1).strip()) if title_match else ""
    text = html.unescape(_TAG.sub(" ", _DROP.sub(" ", page)))
    return title, _SPACE.sub("\n", text).strip()


@register_provider("web_research", "perplexity")
class PerplexityClient(BaseClient):
    name = "perplexity"
    base_url = "https://api.perplexity.ai"
    api_key_name = "PERPLEXITY_API_KEY"
    required_keys = ("PERPLEXITY_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=5, per_second=0.8)  # 50 requests/minute on the base tier

    def chat(self, *, prompt: str, max_tokens: int = 800, operation: str = "chat") -> ChatCompletion:
        # https://docs.perplexity.ai/api-reference/chat-completions-post
        return self.post(
            CHAT_COMPLETIONS,
            operation=operation,
            model=ChatCompletion,
            json={
                "model": MODEL,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
                "max_tokens": max_tokens,
            },
            idempotent=True,  # a question has no side effect at the vendor
            meter=_usage,
        )

    def search(self, *, query: str, max_results: int = 5) -> ResearchAnswer:
        completion = self.chat(prompt=query, operation="search")
        citations = [Citation(url=r.url, title=r.title) for r in completion.search_results or ()] or [
            Citation(url=url) for url in completion.citations or ()
        ]
        return ResearchAnswer(query=query, answer=completion.answer, citations=tuple(citations[:max_results]))

    def scrape(self, *, url: str) -> ScrapedPage:
        """Perplexity has no scraper: fetch the page itself (no key sent to the site) and strip it to text."""
        response = self.request("GET", url, operation="scrape", authenticate=False, headers={"Accept": "text/html"})
        title, text = html_to_text(response.text)
        return ScrapedPage(url=url, title=title, markdown=text, status_code=response.status_code)

    def ping(self) -> str:
        # No free endpoint exists; the smallest completion is the cheapest authenticated call.
        self.chat(prompt="ping", max_tokens=1, operation="health_check")
        return "chat completions answered"
