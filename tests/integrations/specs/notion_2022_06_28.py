"""Notion's answers for API version 2022-06-28, pinned by hand from its published API reference.

notion-client returns plain dicts, and Notion publishes no OpenAPI file for this version, so the
shapes our client reads are written here as JSON Schema, each from the reference page cited:
the fields those pages list as always present are required, and the enums are theirs. Fields we
neither read nor have in a fixture are left open (any other key is allowed).
"""

from __future__ import annotations

from typing import Any

UUIDISH = {"type": "string", "minLength": 1}
TIME = {"type": "string", "format": "date-time"}

# https://developers.notion.com/reference/user ("Partial user" inside objects; the bot user of users/me)
PARTIAL_USER = {
    "type": "object",
    "required": ["object", "id"],
    "properties": {"object": {"const": "user"}, "id": UUIDISH},
}
USER: dict[str, Any] = {
    "type": "object",
    "required": ["object", "id", "type"],
    "properties": {
        "object": {"const": "user"},
        "id": UUIDISH,
        "type": {"enum": ["person", "bot"]},
        "name": {"type": ["string", "null"]},
        "avatar_url": {"type": ["string", "null"]},
        "bot": {"type": "object"},
    },
}

# https://developers.notion.com/reference/rich-text
RICH_TEXT: dict[str, Any] = {
    "type": "object",
    "required": ["type", "plain_text", "annotations", "href"],
    "properties": {
        "type": {"enum": ["text", "mention", "equation"]},
        "plain_text": {"type": "string"},
        "href": {"type": ["string", "null"]},
        "annotations": {
            "type": "object",
            "required": ["bold", "italic", "strikethrough", "underline", "code", "color"],
            "properties": {k: {"type": "boolean"} for k in ("bold", "italic", "strikethrough", "underline", "code")}
            | {"color": {"type": "string"}},
        },
        "text": {
            "type": "object",
            "required": ["content", "link"],
            "properties": {"content": {"type": "string"}, "link": {"type": ["object", "null"]}},
        },
        "mention": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["database", "date", "link_preview", "page", "template_mention", "user"]},
                # https://developers.notion.com/reference/property-value-object#date-property-values
                "date": {
                    "type": "object",
                    "required": ["start"],
                    "properties": {
                        "start": {"type": "string"},
                        "end": {"type": ["string", "null"]},
                        "time_zone": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
    "allOf": [
        {"if": {"properties": {"type": {"const": "text"}}}, "then": {"required": ["text"]}},
        {"if": {"properties": {"type": {"const": "mention"}}}, "then": {"required": ["mention"]}},
    ],
}

# https://developers.notion.com/reference/block (and .../block#paragraph, .../block#to-do)
BLOCK: dict[str, Any] = {
    "type": "object",
    "required": [
        "object",
        "id",
        "type",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "archived",
        "has_children",
    ],
    "properties": {
        "object": {"const": "block"},
        "id": UUIDISH,
        "type": {"type": "string"},
        "created_time": TIME,
        "last_edited_time": TIME,
        "created_by": PARTIAL_USER,
        "last_edited_by": PARTIAL_USER,
        "archived": {"type": "boolean"},
        "has_children": {"type": "boolean"},
        "paragraph": {
            "type": "object",
            "required": ["rich_text", "color"],
            "properties": {"rich_text": {"type": "array", "items": RICH_TEXT}, "color": {"type": "string"}},
        },
        "to_do": {
            "type": "object",
            "required": ["rich_text", "checked", "color"],
            "properties": {
                "rich_text": {"type": "array", "items": RICH_TEXT},
                "checked": {"type": "boolean"},
                "color": {"type": "string"},
            },
        },
    },
    "allOf": [
        {"if": {"properties": {"type": {"const": kind}}}, "then": {"required": [kind]}}
        for kind in ("paragraph", "to_do")
    ],
}

# https://developers.notion.com/reference/page
PAGE: dict[str, Any] = {
    "type": "object",
    "required": [
        "object",
        "id",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "archived",
        "icon",
        "cover",
        "properties",
        "parent",
        "url",
    ],
    "properties": {
        "object": {"const": "page"},
        "id": UUIDISH,
        "created_time": TIME,
        "last_edited_time": TIME,
        "created_by": PARTIAL_USER,
        "last_edited_by": PARTIAL_USER,
        "archived": {"type": "boolean"},
        "icon": {"type": ["object", "null"]},
        "cover": {"type": ["object", "null"]},
        "properties": {"type": "object"},
        # https://developers.notion.com/reference/parent-object
        "parent": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": ["database_id", "page_id", "workspace", "block_id"]}},
        },
        "url": {"type": "string"},
    },
}


def paginated(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """https://developers.notion.com/reference/intro#pagination: the list every paginated endpoint answers."""
    return {
        "type": "object",
        "required": ["object", "results", "next_cursor", "has_more", "type", kind],
        "properties": {
            "object": {"const": "list"},
            "results": {"type": "array", "items": item},
            "next_cursor": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
            "type": {"const": kind},
            kind: {"type": "object"},
        },
    }


# https://developers.notion.com/reference/get-block-children, .../patch-block-children
BLOCK_LIST = paginated("block", BLOCK)
# https://developers.notion.com/reference/post-database-query
PAGE_LIST = paginated("page_or_database", PAGE)
