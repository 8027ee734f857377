from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import respx

from integrations.http import InvalidResponseError, PermanentError
from integrations.providers.quickbooks import QuickBooksClient
from integrations.roles import get_role
from integrations.values import InvoiceLine
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
BASE = "https://quickbooks.api.intuit.com/v3/company/9130"


@pytest.fixture
def client(keys: Callable[..., None], mock_http: respx.MockRouter) -> QuickBooksClient:
    keys(
        QUICKBOOKS_CLIENT_ID="ABqbclient",
        QUICKBOOKS_CLIENT_SECRET="qb-test-secret-0001",
        QUICKBOOKS_REFRESH_TOKEN="AB11configuredrefresh",
        QUICKBOOKS_REALM_ID="9130",
    )
    mock_http.post(TOKEN_URL).respond(200, json=load_fixture("quickbooks", "token"))
    chosen = get_role("accounting")
    assert isinstance(chosen, QuickBooksClient)
    return chosen


def upsert(client: QuickBooksClient) -> object:
    return client.upsert_invoice(
        idempotency_key="acct-inv-1",
        external_ref="INV-2026-0001",
        customer_name="Acme Dental",
        customer_email="billing@acmedental.example",
        currency="USD",
        due_date=dt.date(2026, 3, 16),
        lines=[InvoiceLine(description="Chatbot setup", amount=Decimal("2500.00"))],
    )


def test_upsert_creates_customer_and_invoice_with_request_ids(
    client: QuickBooksClient, mock_http: respx.MockRouter
) -> None:
    query = mock_http.get(f"{BASE}/query").mock(
        side_effect=[
            respx.MockResponse(200, json=load_fixture("quickbooks", "query_empty")),
            respx.MockResponse(200, json=load_fixture("quickbooks", "query_empty")),
        ]
    )
    customer = mock_http.post(f"{BASE}/customer").respond(
        200, json={"Customer": {"Id": "58", "DisplayName": "Acme Dental"}}
    )
    invoice_route = mock_http.post(f"{BASE}/invoice").respond(200, json=load_fixture("quickbooks", "invoice"))
    invoice = upsert(client)
    assert (invoice.invoice_id, invoice.customer_id, invoice.total) == ("130", "58", Decimal("2500.0"))  # type: ignore[attr-defined]
    assert query.calls[0].request.url.params["query"] == "select * from Invoice where DocNumber = 'INV-2026-0001'"
    assert customer.calls.last.request.url.params["requestid"] == "acct-inv-1:customer"
    assert invoice_route.calls.last.request.url.params["requestid"] == "acct-inv-1"
    sent = body(invoice_route)
    assert sent["DocNumber"] == "INV-2026-0001" and sent["Line"][0]["Amount"] == "2500.00"
    assert invoice_route.calls.last.request.headers["Authorization"] == "Bearer eyJlbmMiOiJBMTI4Q0JDLUhTMjU2In0.test"


def test_upsert_returns_the_invoice_already_in_the_books(client: QuickBooksClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/query").respond(200, json=load_fixture("quickbooks", "query_invoice"))
    created = mock_http.post(f"{BASE}/invoice")
    assert upsert(client).invoice_id == "130"  # type: ignore[attr-defined]
    assert not created.called


def test_record_payment_links_the_invoice(client: QuickBooksClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/invoice/130").respond(200, json=load_fixture("quickbooks", "invoice"))
    route = mock_http.post(f"{BASE}/payment").respond(200, json=load_fixture("quickbooks", "payment"))
    payment = client.record_payment(
        idempotency_key="pay-1",
        invoice_id="130",
        amount=Decimal("2500.00"),
        paid_on=dt.date(2026, 3, 5),
        reference="pi_123",
    )
    assert payment.payment_id == "140"
    assert body(route)["Line"][0]["LinkedTxn"] == [{"TxnId": "130", "TxnType": "Invoice"}]
    with pytest.raises(InvalidResponseError):
        client.record_payment(
            idempotency_key="pay-2", invoice_id="130", amount=Decimal("9999"), paid_on=dt.date(2026, 3, 5)
        )


def test_a_fault_body_becomes_a_readable_permanent_error(client: QuickBooksClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/query").respond(200, json=load_fixture("quickbooks", "query_customer"))
    mock_http.post(f"{BASE}/invoice").respond(400, json=load_fixture("quickbooks", "fault"))
    mock_http.get(f"{BASE}/query", params={"query": "select * from Invoice where DocNumber = 'INV-2026-0001'"}).respond(
        200, json=load_fixture("quickbooks", "query_empty")
    )
    with pytest.raises(PermanentError, match="Duplicate Document Number"):
        upsert(client)


def test_the_rotated_refresh_token_is_kept_for_the_next_refresh(
    client: QuickBooksClient, mock_http: respx.MockRouter
) -> None:
    from integrations.http.oauth import _cache_get

    mock_http.get(f"{BASE}/companyinfo/9130").respond(200, json=load_fixture("quickbooks", "company_info"))
    assert client.health_check().detail == "company Smarter Team LLC"
    assert _cache_get(client._cache_key + ":refresh") == "AB11rotatedrefreshtoken"
    token_request = mock_http.routes[0].calls.last.request
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert b"refresh_token=AB11configuredrefresh" in token_request.content


def test_a_malformed_customer_response_stops_before_the_invoice_is_created(
    client: QuickBooksClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{BASE}/query").respond(200, json=load_fixture("quickbooks", "query_empty"))
    mock_http.post(f"{BASE}/customer").respond(200, json={"Customer": {"DisplayName": "Acme Dental"}})  # no Id
    invoice = mock_http.post(f"{BASE}/invoice")
    with pytest.raises(InvalidResponseError) as caught:
        upsert(client)
    assert (caught.value.provider, caught.value.operation, caught.value.field) == (
        "quickbooks",
        "create_customer",
        "Customer.Id",
    )
    assert not invoice.called  # nothing half-written in the books
