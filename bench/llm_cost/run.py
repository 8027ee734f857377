"""LLM cost bench: 1,000 personalisations through the real Anthropic request builder and the Message
Batches path, against a fake Anthropic server (respx) that caches prompt prefixes as the API does.

Run by hand (prints figures; asserts nothing). It creates, migrates and empties the scratch database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_bench_llm .venv/bin/python bench/llm_cost/run.py [--leads 1000]

What is real: personalization's runs, its facts (sandbox people with findings shaped as research
stores them), ``build_request`` (tool schema, system prompt, cache_control breakpoints), the batch
submission and collection (agents/brains/batches.py), the usage and price arithmetic
(agents/brains/pricing.py, batch discount included) and the runs resuming on the collected answers.

What the fake server does (the API's documented behaviour, https://docs.claude.com/en/docs/build-with-claude/prompt-caching):
- a prefix is the request's tools, then system blocks, up to a block marked ``cache_control``; it is
  cached only when at least the model's minimum (1,024 tokens for Sonnet and Opus 4.x, 2,048 for the
  Haiku 3 family, 4,096 for Haiku 4.5 and Opus 4.5 and later; an unknown model: 1,024, a judgement)
  and is read back only when byte-identical, within the 5-minute lifetime that each read renews;
- a batch's requests are processed in ``LANES`` concurrent lanes (a judgement: Anthropic does not
  publish it), so the first request of each lane finds no cache yet and writes it; the docs call
  batch cache hits best-effort, which this models;
- tokens are counted as characters / 3.5 (Anthropic's rule of thumb for English), plus the 313
  tokens the API adds for a forced tool choice (the tool-use system prompt, Claude 4 models);
- the model answers with the first finding it is shown, cited word for word (a well-behaved model:
  what is measured is the price, not the wording).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.scratch import setup_django  # noqa: E402

setup_django()

import httpx  # noqa: E402
import httpx2  # noqa: E402
import respx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Sum  # noqa: E402

call_command("migrate", verbosity=0)
call_command("flush", interactive=False, verbosity=0)
for noisy in ("httpx2", "httpx", "agents"):
    logging.getLogger(noisy).setLevel(logging.WARNING)

from agents import runtime  # noqa: E402
from agents.brains import anthropic as anthropic_brain  # noqa: E402
from agents.brains.batches import poll_batches, submit_batch  # noqa: E402
from agents.brains.pricing import BATCH_DISCOUNT, cost_of, price_for  # noqa: E402
from agents.models import AgentRun  # noqa: E402
from agents.services.runs import start_run  # noqa: E402
from bench.anthropic_fake import Cache, min_cacheable, tokens, usage_for  # noqa: E402
from crm.models import Campaign, Company, Enrollment, Lead  # noqa: E402
from integrations.sandbox.world import Person, search_people  # noqa: E402
from smarter_team import clock  # noqa: E402

LANES = 8  # concurrent requests while a batch is processed (a judgement)
SECONDS_PER_REQUEST = 2.0  # one lane's time per request (a judgement; only the cache lifetime reads it)
BATCH_ID = "msgbatch_bench_llm_cost"
API = "https://api.anthropic.com"
QUERIES = ("dental clinics", "law firms", "logistics companies", "marketing agencies", "physiotherapy practices")


# --- the fake server ----------------------------------------------------------------------------------


FINDING_LINE = re.compile(r"^- \[(\w+)\] (.+)$", re.MULTILINE)


def answer(params: dict[str, Any]) -> dict[str, Any]:
    prompt = params["messages"][0]["content"]
    found = FINDING_LINE.findall(prompt)
    decision = (
        {"line": f"I read that {found[0][1].rstrip('.')}.", "cites": [found[0][1]]}
        if found
        else {"line": "", "cites": []}
    )
    return decision


class FakeAnthropic:
    def __init__(self) -> None:
        self.cache = Cache()
        self.results: list[dict[str, Any]] = []
        self.router = respx.Router(base_url=API, assert_all_called=False)
        self.router.post("/v1/messages/batches").mock(side_effect=self.create)
        self.router.get(f"/v1/messages/batches/{BATCH_ID}").mock(side_effect=self.retrieve)
        self.router.get(f"/v1/messages/batches/{BATCH_ID}/results").mock(side_effect=self.read_results)

    def batch(self, status: str) -> dict[str, Any]:
        return {
            "id": BATCH_ID,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0,
                "succeeded": len(self.results),
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": "2026-03-02T09:00:00Z",
            "expires_at": "2026-03-03T09:00:00Z",
            "ended_at": "2026-03-02T09:20:00Z" if status == "ended" else None,
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": f"{API}/v1/messages/batches/{BATCH_ID}/results" if status == "ended" else None,
        }

    def create(self, request: httpx.Request) -> httpx.Response:
        requests = json.loads(request.content)["requests"]
        for i, item in enumerate(requests):
            params = item["params"]
            # Lane k starts its j-th request at j * SECONDS_PER_REQUEST: the first of each lane misses.
            lane_start = (i // LANES) * SECONDS_PER_REQUEST
            usage = usage_for(params, self.cache, lane_start) if i % LANES == 0 or i >= LANES else self._cold(params)
            decision = answer(params)
            usage["output_tokens"] = tokens(json.dumps(decision)) + 12
            tool = params["tools"][0]["name"] if params.get("tools") else ""
            content = (
                [{"type": "tool_use", "id": f"toolu_{i}", "name": tool, "input": decision}]
                if tool
                else [{"type": "text", "text": json.dumps(decision)}]
            )
            message = {
                "id": f"msg_{i}",
                "type": "message",
                "role": "assistant",
                "model": params["model"],
                "content": content,
                "stop_reason": "tool_use" if tool else "end_turn",
                "stop_sequence": None,
                "usage": usage,
            }
            self.results.append({"custom_id": item["custom_id"], "result": {"type": "succeeded", "message": message}})
        return httpx.Response(200, json=self.batch("in_progress"))

    def _cold(self, params: dict[str, Any]) -> dict[str, int]:
        """A request of the first wave, in flight before any cache write landed: it writes too."""
        return usage_for(params, Cache(), 0.0)

    def retrieve(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=self.batch("ended"))

    def read_results(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content="\n".join(json.dumps(r) for r in self.results).encode())

    def transport(self) -> httpx2.MockTransport:
        def handle(request: httpx2.Request) -> httpx2.Response:
            mirrored = httpx.Request(
                request.method, str(request.url), headers=list(request.headers.raw), content=request.read()
            )
            response = self.router.handler(mirrored)
            return httpx2.Response(response.status_code, headers=list(response.headers.raw), content=response.read())

        return httpx2.MockTransport(handle)


# --- the agency's side ---------------------------------------------------------------------------------


def findings_of(person: Person) -> dict[str, Any]:
    """What research stores about a sandbox person and their company (kind, claim, source)."""
    c, at = person.company, clock.now().isoformat()
    site = c.website

    def finding(kind: str, claim: str, path: str = "") -> dict[str, Any]:
        return {"kind": kind, "claim": claim, "source_url": f"{site}{path}", "provider": "firecrawl", "fetched_at": at}

    found = [finding("offering", f"{c.name} is a {c.industry.rstrip('s')} business in {c.city}", "/about")]
    found += [finding("signal", f"{c.name} {signal}", "/careers") for signal in c.signals[:2]]
    found += [finding("tech", f"{c.name} uses {tool}", "/") for tool in c.tech[:2]]
    found.append(finding("role", f"{person.full_name} is {person.title} at {c.name}", "/team"))
    return {"findings": found}


def enroll(n: int) -> list[Enrollment]:
    people: list[Person] = []
    for query in QUERIES:
        people += search_people(query=query, location="", start=0, count=n)
    seen: set[str] = set()
    people = [p for p in people if not (p.email in seen or seen.add(p.email))][:n]  # type: ignore[func-returns-value]
    campaign = Campaign.objects.create(name="llm cost bench", status=Campaign.Status.ACTIVE)
    enrollments = []
    for person in people:
        company, _ = Company.objects.get_or_create(
            domain=person.company.domain, defaults={"name": person.company.name, "industry": person.company.industry}
        )
        lead = Lead.objects.create(
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            title=person.title,
            company=company,
            research=findings_of(person),
            status=Lead.Status.QUALIFIED,
        )
        enrollments.append(Enrollment.objects.create(lead=lead, campaign=campaign))
    return enrollments


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1000)
    args = parser.parse_args()
    started = time.monotonic()
    fake = FakeAnthropic()
    settings.BRAIN_DEFAULT = "anthropic"
    settings.ANTHROPIC_MAX_RETRIES = 0
    model = settings.ANTHROPIC_MODEL
    anthropic_brain.install_transport(fake.transport())
    try:
        enrollments = enroll(args.leads)
        runs = [
            start_run(agent_name="personalization", input={"enrollment_id": e.pk}, trigger="handoff", enqueue=False)
            for e in enrollments
        ]
        submitted = submit_batch(agent_name="personalization")
        assert submitted is not None and submitted.request_count == len(runs), "the batch did not take every run"
        collected = poll_batches()
        for run in runs:
            runtime.execute(run.pk)
    finally:
        anthropic_brain.install_transport(None)

    done = AgentRun.objects.filter(pk__in=[r.pk for r in runs])
    statuses = dict(Counter(done.values_list("status", flat=True)))
    totals = done.aggregate(
        input=Sum("tokens_in"),
        output=Sum("tokens_out"),
        write=Sum("cache_write_tokens"),
        read=Sum("cache_read_tokens"),
        cost=Sum("cost"),
    )
    fresh, write, read, output = totals["input"], totals["write"], totals["read"], totals["output"]
    prompt_tokens = fresh + write + read
    cost: Decimal = totals["cost"]
    n = len(runs)
    live = cost_of(model, input_tokens=fresh, output_tokens=output, cache_write_tokens=write, cache_read_tokens=read)
    uncached = cost_of(model, input_tokens=prompt_tokens, output_tokens=output)
    price = price_for(model)
    with_line = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).exclude(variables__first_line="").count()

    print(
        f"model {model}: ${price.input}/M input, ${price.cache_write}/M cache write, ${price.cache_read}/M cache read, "
        f"${price.output}/M output; batch x{BATCH_DISCOUNT}; cacheable from {min_cacheable(model)} tokens"
    )
    print(f"{n} personalisations in {collected} batch; runs {statuses}; first lines written {with_line}")
    print(
        f"prompt tokens {prompt_tokens:,}: {fresh:,} uncached input, {write:,} cache writes, {read:,} cache reads; "
        f"output {output:,}"
    )
    print(f"share of input tokens read from cache: {read / prompt_tokens:.1%}   (target >= 80%)")
    print(f"cost as charged (batch, cached): ${cost:.4f} total, ${cost / n:.6f} per lead")
    print(
        f"  same requests live (no batch discount): ${live / n:.6f} per lead; "
        f"batch without caching: ${uncached * BATCH_DISCOUNT / n:.6f}; live without caching: ${uncached / n:.6f}"
    )
    print(f"wall time {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
