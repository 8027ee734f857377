"""Documents the delivery team keeps about a client (the onboarding's shared folder, the offboarding's
archive): stored through the Documents role by an outbox act, after commit, shared with nobody."""

from __future__ import annotations

from typing import Any


def keep_document(key: str, *, name: str, content: str) -> dict[str, Any]:
    """Store a document under the act's key (a retried act stores nothing twice); its id and link."""
    from integrations.roles import get_role

    document = get_role("documents").create_document(idempotency_key=key, name=name, recipients=[], content=content)
    return {"document_id": document.document_id, "url": document.url}
