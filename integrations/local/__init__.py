"""The database-backed ``local`` providers: the no-service default for vector_store and memory."""

from integrations.local.memory import LocalMemory
from integrations.local.vector_store import LocalVectorStore

__all__ = ["LocalMemory", "LocalVectorStore"]
