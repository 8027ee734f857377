"""Reading what the WebResearch role fetched: page text and the sentences worth keeping."""

from __future__ import annotations

import re

import trafilatura

from integrations.values import ScrapedPage

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_MARKUP = re.compile(r"^[#>*\-\s]+|[*_`]+")


def page_text(page: ScrapedPage) -> str:
    """The readable text of a page: Firecrawl's markdown as it is, raw HTML (another provider, a
    direct fetch) through trafilatura, which drops navigation, footers and scripts."""
    body = page.markdown.strip()
    if page.status_code >= 400 or not body:
        return ""
    if body.startswith("<") or "<html" in body[:500].lower():
        return trafilatura.extract(body, include_comments=False, include_tables=False) or ""
    return body


def sentences(text: str) -> list[str]:
    """Plain sentences of a text (markdown marks stripped), without headings and fragments."""
    out = []
    for raw in _SENTENCE.split(text):
        sentence = _MARKUP.sub("", raw).strip()
        if len(sentence.split()) >= 4:
            out.append(sentence if sentence.endswith((".", "!", "?")) else f"{sentence}.")
    return out
