"""Zep: long-term conversational memory (the Memory role).

API reference: https://help.getzep.com/v2/sdk-reference
Sessions belong to a user; all agency sessions live under one Zep user, created on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.registry import register_provider
from integrations.values import MemoryHit, MemoryMessage

USERS = "users"  # https://help.getzep.com/v2/sdk-reference/user/add
SESSIONS = "sessions"  # https://help.getzep.com/v2/sdk-reference/memory/add-session
SESSION_MEMORY = "sessions/{session_id}/memory"  # https://help.getzep.com/v2/sdk-reference/memory/add
SESSIONS_SEARCH = "sessions/search"  # https://help.getzep.com/v2/sdk-reference/deprecated/memory/search-sessions
SESSIONS_ORDERED = "sessions-ordered"  # https://help.getzep.com/v2/sdk-reference/memory/list-sessions
AGENCY_USER = "smarter-team"
# Zep answers 400 or 409 when a user or session already exists; both mean "ready to use".
ALREADY_EXISTS = (400, 409)

_ready_sessions: set[str] = set()
_ready_lock = threading.Lock()


class AddMemoryResult(pydantic.BaseModel):
    context: str | None = None


class _Message(pydantic.BaseModel):
    content: str
    role: str | None = None
    role_type: str | None = None


class _SearchResult(pydantic.BaseModel):
    message: _Message | None = None
    score: float = 0.0
    session_id: str | None = None


class SearchResponse(pydantic.BaseModel):
    results: list[_SearchResult] = []


class SessionsPage(pydantic.BaseModel):
    sessions: list[dict[str, object]] = []
    total_count: int = 0


@register_provider("memory", "zep")
class ZepClient(BaseClient):
    name = "zep"
    base_url = "https://api.getzep.com/api/v2"
    api_key_name = "ZEP_API_KEY"
    required_keys = ("ZEP_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=5.0)

    def auth_headers(self, operation: str) -> dict[str, str]:
        return {"Authorization": f"Api-Key {self._require_key(operation)}"}

    def ensure_session(self, session_id: str) -> None:
        with _ready_lock:
            if session_id in _ready_sessions:
                return
        if not _ready_sessions:
            self.request(
                "POST",
                USERS,
                operation="ensure_user",
                json={"user_id": AGENCY_USER},
                accept=ALREADY_EXISTS,
                idempotent=True,
            )
        self.request(
            "POST",
            SESSIONS,
            operation="ensure_session",
            json={"session_id": session_id, "user_id": AGENCY_USER},
            accept=ALREADY_EXISTS,
            idempotent=True,
        )
        with _ready_lock:
            _ready_sessions.add(session_id)

    def add(self, *, session_id: str, messages: Sequence[MemoryMessage]) -> None:
        self.ensure_session(session_id)
        self.post(
            SESSION_MEMORY.format(session_id=session_id),
            operation="add",
            model=AddMemoryResult,
            json={
                "messages": [
                    {"role_type": m.role, "role": m.name or m.role, "content": m.content, "metadata": dict(m.metadata)}
                    for m in messages
                ]
            },
        )

    def search(self, *, query: str, session_id: str | None = None, limit: int = 5) -> list[MemoryHit]:
        body: dict[str, object] = {"text": query, "search_scope": "messages"}
        if session_id is not None:
            body["session_ids"] = [session_id]
        else:
            body["user_id"] = AGENCY_USER
        result = self.post(
            SESSIONS_SEARCH,
            operation="search",
            model=SearchResponse,
            json=body,
            params={"limit": limit},
            idempotent=True,
        )
        return [
            MemoryHit(
                session_id=r.session_id or session_id or "",
                content=r.message.content,
                score=r.score,
                role=r.message.role_type or r.message.role or "",
            )
            for r in result.results
            if r.message is not None
        ]

    def ping(self) -> str:
        page = self.get(
            SESSIONS_ORDERED,
            operation="health_check",
            model=SessionsPage,
            params={"page_number": 1, "page_size": 1},
            attempts=1,
        )
        return f"{page.total_count} sessions"
