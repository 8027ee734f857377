"""The market the lead benches import (bench/funnel, bench/lifecycle): the sandbox people the ICPs'
searches find, as one CSV lead list, and the sizing of the mailboxes that send to them.

No side effects on import (no database, no django.setup()): a test may import it, and so may a
bench after its own setup."""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Callable
from typing import Any

from crm.agents.lead_list_builder import lead_data
from integrations.sandbox.market import _lead_item
from integrations.sandbox.world import Person, search_people

# On their own beats these would bring leads the import did not (or study the market, not leads).
NOT_HERE = frozenset({"lead_list_builder", "niche_research", "competitive_intelligence", "icp_refinement"})
MARKETS = (("dental clinics", "United States"), ("law firms", "United Kingdom"))
MAILBOX_CAP = 40
LEADS_PER_MAILBOX = 40
# Lead data key -> the column heading a directory export uses (crm.services.imports). No phone: the
# market's London and Sydney numbers are a digit short, and the import rejects such a row whole.
CSV_FIELDS = {
    "email": "Email", "first_name": "First Name", "last_name": "Last Name", "title": "Title",
    "seniority": "Seniority", "country": "Country", "time_zone": "Time Zone",
    "linkedin_url": "LinkedIn URL", "company_name": "Company", "domain": "Website", "industry": "Industry",
    "employee_range": "Employees", "revenue_band": "Revenue", "source_ref": "Source ID",
}  # fmt: skip


class QueryCounter:
    """Every statement this process sends (a connection execute_wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


class CpuMeter:
    """CPU seconds the bench's work took: this process's and its PostgreSQL backend's (read from
    /proc: the server runs on this machine). On a shared 2-core machine the wall time also measures
    whatever else runs; CPU time is what the code costs, so a size ratio on it holds under load.

    The backend is the one connection the in-process agency uses (the test client that posts the
    sandbox's webhooks keeps it open). Should it change, or /proc not be readable, the server's
    share is unknown and ``seconds`` is None, never a guess. A database in this process (SQLite) has
    no share of its own: its work is in this process's time, and ``there`` is 0."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.pid: int | None = None
        self.began_here = 0.0
        self.began_there: float | None = None
        self.here = 0.0
        self.there: float | None = None

    def _backend(self) -> tuple[int, float | None]:
        if self.connection.vendor != "postgresql":
            return os.getpid(), 0.0
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = int(cursor.fetchone()[0])
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return pid, None
        # utime and stime: fields 14 and 15 of proc(5), the 12th and 13th after the command name.
        return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> CpuMeter:
        self.pid, self.began_there = self._backend()
        self.began_here = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.here = time.process_time() - self.began_here
        pid, there = self._backend()
        if pid == self.pid and there is not None and self.began_there is not None:
            self.there = there - self.began_there

    def so_far(self) -> float:
        """This process's CPU seconds since the block began (the in-process database's included)."""
        return time.process_time() - self.began_here

    @property
    def seconds(self) -> float | None:
        return self.here + self.there if self.there is not None else None

    def describe(self) -> str:
        if self.there is None:
            return f"CPU {self.here:.0f}s here (server's share unknown)"
        return f"CPU {self.here + self.there:.0f}s ({self.here:.0f}s Python, {self.there:.0f}s PostgreSQL)"


class AgentTimer:
    """Wall seconds and statements per agent: ``agents.runtime.perform`` wrapped while it is open
    (a run's load, guards, decide, act and the acts it recorded, the sandbox's answers to them
    included). What is left of the bench's time is the clock's: ticks, deliveries, the market's days.
    ``counter`` is the bench's QueryCounter, read before and after each run."""

    def __init__(self, counter: QueryCounter) -> None:
        self.counter = counter
        self.seconds: dict[str, float] = {}
        self.queries: dict[str, int] = {}
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> AgentTimer:
        from agents import runtime

        original = self._original = runtime.perform

        def timed(run: Any) -> None:
            began, asked = time.perf_counter(), self.counter.count
            try:
                original(run)
            finally:
                name = run.agent_name
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began
                self.queries[name] = self.queries.get(name, 0) + self.counter.count - asked

        runtime.perform = timed
        return self

    def __exit__(self, *exc: object) -> None:
        from agents import runtime

        runtime.perform = self._original  # type: ignore[assignment]

    def top(self, count: int = 12) -> list[tuple[str, float, int]]:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:count]
        return [(name, seconds, self.queries[name]) for name, seconds in ranked]


def market_people(count: int) -> list[Person]:
    """``count`` distinct people (by address) the ICPs' searches find, the markets alternating (the
    same for every size: a larger size is a longer list).

    Deep in a search the directory lists the same company again under another entry (1 in 4 of
    the first 10,000 people repeat one already listed); the import merges repeats into one lead,
    so the bench skips them here and a size of 10,000 is 10,000 leads, not 7,500."""
    half = math.ceil(count / len(MARKETS))
    taken: set[str] = set()  # a company may come up in both markets' searches
    lists = [_distinct(query, location, half, taken) for query, location in MARKETS]
    mixed = [p for pair in zip(*lists, strict=True) for p in pair]
    return mixed[:count]


def _distinct(query: str, location: str, count: int, taken: set[str]) -> list[Person]:
    asked = count
    while True:
        found: dict[str, Person] = {}
        for person in search_people(query=query, location=location, start=0, count=asked):
            if person.email not in taken:
                found.setdefault(person.email, person)
            if len(found) == count:
                taken.update(found)
                return list(found.values())
        asked *= 2


def lead_list(people: list[Person]) -> str:
    """The CSV an operator imports: the directory's fields for each person, as a lead search lists them."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_FIELDS.values()))
    writer.writeheader()
    for person in people:
        data = lead_data(_lead_item(person), "sandbox")
        writer.writerow({heading: data.get(key, "") for key, heading in CSV_FIELDS.items()})
    return out.getvalue()
