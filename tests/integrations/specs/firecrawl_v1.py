"""Firecrawl API v1: the operations our client calls, pinned as facts from Firecrawl's OpenAPI document.

Source: firecrawl/firecrawl ``apps/api/v1-openapi.json``, last changed in commit
363afb8048a3de402c2311587badc7ffb1ba6466 (2025-06-20), read at 61e38dc893a50bcaaaaac89c1117a7b51e9824fb
(2025-08-25): https://github.com/firecrawl/firecrawl/blob/61e38dc893a50bcaaaaac89c1117a7b51e9824fb/apps/api/v1-openapi.json.
The repository is AGPL-3.0, so the file is not copied here: this module records, by hand, the facts
our tests rely on (paths, methods, field names, types, enums, required lists), leaving out prose,
examples and every option we neither send nor read. All operations take ``Authorization: Bearer``.
Request bodies are closed here (the document leaves them open): an option Firecrawl does not know
is an option it silently ignores.
"""

from __future__ import annotations

from typing import Any

SOURCE = "https://github.com/firecrawl/firecrawl/blob/61e38dc893a50bcaaaaac89c1117a7b51e9824fb/apps/api/v1-openapi.json"
_FORMATS = ["markdown", "html", "rawHtml", "links", "screenshot", "screenshot@fullPage", "json", "changeTracking"]
_METADATA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "language": {"type": "string", "nullable": True},
        "sourceURL": {"type": "string"},
        "statusCode": {"type": "integer"},
        "error": {"type": "string", "nullable": True},
    },
}
_DOCUMENT = {  # a scraped page as scrape and crawl status return it
    "type": "object",
    "properties": {
        "markdown": {"type": "string"},
        "html": {"type": "string", "nullable": True},
        "rawHtml": {"type": "string", "nullable": True},
        "links": {"type": "array", "items": {"type": "string"}},
        "screenshot": {"type": "string", "nullable": True},
        "metadata": _METADATA,
    },
}
# ScrapeOptions has no required field; these are the ones of its twenty we might send.
_SCRAPE_OPTIONS = {
    "formats": {"type": "array", "items": {"type": "string", "enum": _FORMATS}},
    "onlyMainContent": {"type": "boolean"},
    "includeTags": {"type": "array", "items": {"type": "string"}},
    "excludeTags": {"type": "array", "items": {"type": "string"}},
    "maxAge": {"type": "integer"},
    "waitFor": {"type": "integer"},
    "timeout": {"type": "integer"},
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return {"required": True, **_json(schema)}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.0",
    "paths": {
        "/v1/scrape": {
            "post": {
                "operationId": "scrapeAndExtractFromUrl",
                "requestBody": _body({"url": {"type": "string", "format": "uri"}, **_SCRAPE_OPTIONS}, ["url"]),
                "responses": {
                    "200": _json({"type": "object", "properties": {"success": {"type": "boolean"}, "data": _DOCUMENT}})
                },
            }
        },
        "/v1/search": {
            "post": {
                "operationId": "searchAndScrape",
                "requestBody": _body(
                    {
                        "query": {"type": "string"},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                        "tbs": {"type": "string"},
                        "location": {"type": "string"},
                        "timeout": {"type": "integer"},
                        "ignoreInvalidURLs": {"type": "boolean"},
                        "scrapeOptions": {"type": "object"},
                    },
                    ["query"],
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "success": {"type": "boolean"},
                                "data": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "title": {"type": "string"},
                                            "description": {"type": "string"},
                                            "url": {"type": "string"},
                                            "markdown": {"type": "string", "nullable": True},
                                            "metadata": _METADATA,
                                        },
                                    },
                                },
                                "warning": {"type": "string", "nullable": True},
                            },
                        }
                    )
                },
            }
        },
        "/v1/crawl": {
            "post": {
                "operationId": "crawlUrls",
                "requestBody": _body(
                    {
                        "url": {"type": "string", "format": "uri"},
                        "excludePaths": {"type": "array", "items": {"type": "string"}},
                        "includePaths": {"type": "array", "items": {"type": "string"}},
                        "maxDepth": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "allowExternalLinks": {"type": "boolean"},
                        "scrapeOptions": {
                            "type": "object",
                            "properties": _SCRAPE_OPTIONS,
                            "additionalProperties": False,
                        },
                    },
                    ["url"],
                ),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "success": {"type": "boolean"},
                                "id": {"type": "string"},
                                "url": {"type": "string", "format": "uri"},
                            },
                        }
                    )
                },
            }
        },
        "/v1/crawl/{id}": {
            "get": {
                "operationId": "getCrawlStatus",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string"},
                                "total": {"type": "integer"},
                                "completed": {"type": "integer"},
                                "creditsUsed": {"type": "integer"},
                                "expiresAt": {"type": "string", "format": "date-time"},
                                "next": {"type": "string", "nullable": True},
                                "data": {"type": "array", "items": _DOCUMENT},
                            },
                        }
                    )
                },
            }
        },
        "/v1/team/credit-usage": {
            "get": {
                "operationId": "getCreditUsage",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "success": {"type": "boolean"},
                                "data": {"type": "object", "properties": {"remaining_credits": {"type": "number"}}},
                            },
                        }
                    )
                },
            }
        },
    },
}
