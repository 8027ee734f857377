"""The sandbox world: the default provider of every role, a seeded, deterministic market.

Importing this package registers a ``sandbox`` provider for every role (the registry imports it
on first use). The world reports back through the real, signed webhook endpoints: see
``delivery.py``. Vector store and memory default to the database-backed ``local`` providers.
"""

from integrations.sandbox import deals, market, meetings, work

__all__ = ["deals", "market", "meetings", "work"]
