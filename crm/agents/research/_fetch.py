"""What research fetched, as facts: each document with its URL, provider and fetch time, read once
through ``ctx.cached`` so that a retry or a second run about the same subject does not pay again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from agents.context import RunContext
from crm.services import findings, web
from crm.services.findings import Finding

CACHE_FOR = dt.timedelta(days=30)


class Doc(BaseModel):
    """One fetched document: a page (its text) or a search answer (its text and citations)."""

    kind: Literal["page", "search"]
    url: str
    title: str = ""
    text: str = ""
    citations: list[str] = Field(default_factory=list)
    provider: str
    fetched_at: dt.datetime


class Claim(BaseModel):
    """A finding as the brain states it: the runtime-free part (the rest comes from the Doc)."""

    kind: findings.Kind
    claim: str = Field(min_length=3, max_length=500)
    source_url: str


def scrape(ctx: RunContext, url: str, *, ttl: dt.timedelta = CACHE_FOR) -> Doc:
    role = ctx.roles.web_research

    def fetch() -> Doc:
        page = role.scrape(url=url)
        return Doc(
            kind="page", url=url, title=page.title, text=web.page_text(page), provider=role.name, fetched_at=ctx.now()
        )

    return ctx.cached(f"research:scrape:{url}", fetch, model=Doc, ttl=ttl)


def search(ctx: RunContext, query: str, *, key: str, ttl: dt.timedelta = CACHE_FOR) -> Doc:
    role = ctx.roles.web_research

    def fetch() -> Doc:
        answer = role.search(query=query, max_results=5)
        cites = [c.url for c in answer.citations]
        return Doc(
            kind="search",
            url=cites[0] if cites else "",
            title=query,
            text=answer.answer if cites else "",
            citations=cites,
            provider=role.name,
            fetched_at=ctx.now(),
        )

    return ctx.cached(f"research:search:{key}", fetch, model=Doc, ttl=ttl)


def source_text(docs: list[Doc], url: str) -> str:
    """All text a URL stands for: the page's own, or the search answers that cite it."""
    return " ".join(d.text for d in docs if d.url == url or url in d.citations)


def unsupported(claims: list[Claim], docs: list[Doc]) -> str | None:
    """The first claim that no fetched document backs (wrong URL or words not in it), else None."""
    for c in claims:
        text = source_text(docs, c.source_url)
        if not text or not findings.supported(c.claim, text):
            return f"claim {c.claim[:60]!r} is not backed by {c.source_url}"
    return None


class _HasClaims(Protocol):
    findings: list[Claim]


def checker(docs: list[Doc]) -> Callable[[Any], str | None]:
    """A check for ``ask``: the answer's claims must all be backed by ``docs``."""

    def check(decision: _HasClaims) -> str | None:
        return unsupported(decision.findings, docs)

    return check


class _Sourced(Protocol):
    doc: Doc | None


def ask_each_sourced(ctx: RunContext, subjects: Sequence[_Sourced]) -> list[Any]:
    """One question to the brain per subject with a fetched document, its claims checked against that
    document (the heuristic answers when they are not backed); None for a subject with nothing
    fetched, which is never guessed at."""
    return [
        None if subject.doc is None else ctx.brain.decide_checked(subject, check=checker([subject.doc]))
        for subject in subjects
    ]


def to_findings(claims: list[Claim], docs: list[Doc]) -> list[Finding]:
    out = []
    for c in claims:
        doc = next((d for d in docs if d.url == c.source_url or c.source_url in d.citations), None)
        if doc is not None:
            out.append(
                Finding(
                    kind=c.kind,
                    claim=c.claim,
                    source_url=c.source_url,
                    provider=doc.provider,
                    fetched_at=doc.fetched_at,
                )
            )
    return findings.merge([], out)
