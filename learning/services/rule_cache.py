"""A per-process cache of each agent's active rules, so a run costs no rule query.

Every run asks for its agent's active rules; they change rarely (an operator approves, edits or
retires one; extraction proposes one). Each process keeps the rules it loaded with the *version*
they had: a digest of the ids and ``updated_at`` of the agent's active rules (its own and the
global ones). Approving, retiring, deleting or editing a rule changes the version; an evidence
refresh does not (it writes the counters with ``update()``, leaving ``updated_at``).

The version is read in the same statement as the run's claim (``version_sql``, no round trip of its
own, and consistent with the database); a lookup without it reads it with one small query. A
changed version reloads the rules; rows loaded after the version was read can only be newer, and
are then reloaded once more. Saves in this process also drop its entries (``bump``), so a change
made in the same instant (a frozen test clock) is seen too. ``MAX_AGE`` bounds an entry's life
anyway, in case a write ever bypasses both (a queryset ``update()`` of the text alone).
"""

from __future__ import annotations

import functools
import threading
import time
from typing import TYPE_CHECKING, Any

from django.db import connection

from learning.models import KnowledgeRule

if TYPE_CHECKING:
    from agents.models import AgentRun

MAX_AGE = 60.0  # seconds
# The attribute of a claimed run holding the version read with its claim (see agents.services.claims).
RUN_ATTR = "_learning_rules_version"

_entries: dict[str, tuple[str, float, list[KnowledgeRule]]] = {}
_lock = threading.Lock()


def version_sql(agent_name_sql: str) -> str:
    """A scalar subquery giving the version of the active rules of the agent named by the SQL
    expression ``agent_name_sql`` (a column or a placeholder), for a statement of the caller's."""
    return _version_sql(agent_name_sql, connection.vendor)


@functools.cache
def _version_sql(agent_name_sql: str, vendor: str) -> str:
    # Every active rule's id and updated_at, not their max: an edit stamped by a process whose clock
    # is behind (or an accelerated/frozen project clock) still changes the version. Evidence saves
    # leave updated_at alone, so measuring a rule does not empty every worker's cache.
    table = KnowledgeRule._meta.db_table
    if vendor == "postgresql":
        return (
            f"(SELECT coalesce(md5(string_agg(id::text || '@' || updated_at::text, ',' ORDER BY id)), '') "  # noqa: S608
            f"FROM {table} WHERE status = 'active' AND agent_name IN ({agent_name_sql}, ''))"
        )
    # SQLite (3.35+, for the claim's RETURNING): the same pairs in id order, undigested (an agent
    # has a handful of active rules); the inner ORDER BY gives group_concat its order.
    return (
        f"(SELECT coalesce(group_concat(pair, ','), '') FROM (SELECT id || '@' || updated_at AS pair "  # noqa: S608
        f"FROM {table} WHERE status = 'active' AND agent_name IN ({agent_name_sql}, '') ORDER BY id))"
    )


def _read_version(agent_name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {version_sql('%s')}", [agent_name])
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def _load(agent_name: str) -> list[KnowledgeRule]:
    return list(
        KnowledgeRule.objects.filter(status=KnowledgeRule.Status.ACTIVE, agent_name__in=[agent_name, ""]).order_by("pk")
    )


def active_rules_of(agent_name: str, *, version: str | None = None) -> list[KnowledgeRule]:
    """The active rules of an agent (its own and the global ones), oldest first. Read-only objects.

    ``version``: as read with the run's claim; None reads it (one query).
    """
    if version is None:
        version = _read_version(agent_name)
    entry = _entries.get(agent_name)
    if entry is not None and entry[0] == version and time.monotonic() - entry[1] < MAX_AGE:
        return entry[2]
    rules = _load(agent_name)  # read after the version: never older than it
    with _lock:
        _entries[agent_name] = (version, time.monotonic(), rules)
    return rules


def rules_for_run(run: AgentRun) -> list[KnowledgeRule]:
    """``active_rules_of`` the run's agent, with the version its claim read when there is one."""
    version = getattr(run, RUN_ATTR, None)
    return active_rules_of(run.agent_name, version=version if isinstance(version, str) else None)


def bump() -> None:
    """Rules were saved in this process: drop its entries (other processes see the new version)."""
    with _lock:
        _entries.clear()


def on_rule_saved(sender: Any, instance: KnowledgeRule, **kwargs: Any) -> None:
    """post_save/post_delete receiver: a rule saved in this process drops this process's entries."""
    bump()


def clear() -> None:
    """Forget this process's entries (tests: the database was rolled back under them)."""
    bump()
