"""invoice_generation with real concurrent workers on PostgreSQL (committed transactions, one
connection per worker): numbers stay gapless and unique, and an event delivered twice at once
still bills once."""

from __future__ import annotations

import queue

import pytest

from agents import runtime
from agents.models import AgentRun
from agents.services.runs import start_run
from sales.models import Invoice, InvoiceSequence
from tests.concurrency import at_once
from tests.sales.agents.payment.conftest import project_client, signed_proposal

WORKERS = 6
CLIENTS = 12


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("frozen_clock")
def test_concurrent_runs_number_gaplessly_and_bill_each_signature_once() -> None:
    # Given a dozen signatures, each delivered twice (a replayed handoff), queued at once
    requests = []
    for _ in range(CLIENTS):
        client = project_client()
        requests.append({"client_id": client.pk, "proposal_id": signed_proposal(client).pk})
    runs: queue.Queue[int] = queue.Queue()
    for request in requests * 2:
        runs.put(start_run(agent_name="invoice_generation", input=request, trigger="manual", enqueue=False).pk)

    def worker() -> None:
        while True:
            try:
                run_id = runs.get_nowait()
            except queue.Empty:
                return
            runtime.execute(run_id)

    # When several workers take them at the same time
    errors = at_once(worker, threads=WORKERS, timeout=120)

    # Then every run ended well, each signature has one invoice, and the numbers are 1..12
    assert errors == []
    outcomes = set(
        AgentRun.objects.filter(agent_name="invoice_generation", trigger="manual").values_list("status", flat=True)
    )
    assert outcomes == {"succeeded"}
    invoices = list(Invoice.objects.order_by("sequence"))
    assert [i.sequence for i in invoices] == list(range(1, CLIENTS + 1))
    assert len({i.key for i in invoices}) == CLIENTS
    assert InvoiceSequence.objects.get(year=2026).last_number == CLIENTS
    assert {i.status for i in invoices} == {Invoice.Status.OPEN}  # each issued in Stripe once
