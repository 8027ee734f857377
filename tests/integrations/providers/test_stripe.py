from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import respx

from integrations.http import AuthError, NotFoundError, TransientError
from integrations.models import ApiUsage
from integrations.providers import stripe_payments
from integrations.providers.stripe_payments import StripeClient
from integrations.roles import get_role
from integrations.values import InvoiceLine
from tests.integrations.conftest import load_fixture

pytestmark = pytest.mark.django_db
API = "https://api.stripe.com/v1"
KEY = "sk_test_51Hsecretsecretsecret"
INVOICE = "in_1MtHbELkdIwHu7ixl4OzzPMv"


@pytest.fixture
def client(keys: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeClient]:
    keys(STRIPE_API_KEY=KEY)
    stripe_payments._sdk_clients.clear()
    # The SDK's own retry pause, made instant (it sleeps with time.sleep, not through our client).
    monkeypatch.setattr("stripe._http_client.HTTPClient._sleep_time_seconds", lambda self, n: 0.0)
    chosen = get_role("payments")
    assert isinstance(chosen, StripeClient)
    yield chosen
    stripe_payments._sdk_clients.clear()


def form(route: respx.Route, index: int = -1) -> dict[str, list[str]]:
    call = route.calls[index] if index != -1 else route.calls.last
    return parse_qs(call.request.content.decode())


def test_create_customer_passes_the_idempotency_key(client: StripeClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{API}/customers").respond(200, json=load_fixture("stripe", "customer"))
    customer = client.create_customer(
        idempotency_key="cust-1", email="billing@acmedental.example", name="Acme Dental", metadata={"company_id": "7"}
    )
    assert customer.customer_id == "cus_NffrFeUfNV2Hib"
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "cust-1"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert form(route)["metadata[company_id]"] == ["7"]
    row = ApiUsage.objects.get()
    assert (row.provider, row.operation, row.url, row.success) == (
        "stripe",
        "create_customer",
        f"{API}/customers",
        True,
    )


def test_create_invoice_adds_lines_in_cents_each_with_its_own_key(
    client: StripeClient, mock_http: respx.MockRouter
) -> None:
    invoices = mock_http.post(f"{API}/invoices").respond(200, json=load_fixture("stripe", "invoice_draft"))
    items = mock_http.post(f"{API}/invoiceitems").respond(200, json=load_fixture("stripe", "invoice_item"))
    mock_http.get(f"{API}/invoices/{INVOICE}").respond(200, json=load_fixture("stripe", "invoice_with_lines"))
    invoice = client.create_invoice(
        idempotency_key="inv-1",
        customer_id="cus_NffrFeUfNV2Hib",
        currency="USD",
        due_days=14,
        lines=[
            InvoiceLine(description="Website chatbot setup", amount=Decimal("2500.00")),
            InvoiceLine(description="Monthly care", amount=Decimal("250.00"), quantity=2),
        ],
    )
    assert (invoice.invoice_id, invoice.status, invoice.amount_due) == (INVOICE, "draft", Decimal("3000.00"))
    assert invoices.calls.last.request.headers["Idempotency-Key"] == "inv-1:invoice"
    assert form(invoices)["collection_method"] == ["send_invoice"]
    assert [c.request.headers["Idempotency-Key"] for c in items.calls] == ["inv-1:line:0", "inv-1:line:1"]
    assert [form(items, i)["amount"] for i in range(2)] == [["250000"], ["50000"]]
    assert form(items, 1)["description"] == ["Monthly care x 2"]


def test_finalize_void_and_refund(client: StripeClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{API}/invoices/{INVOICE}/finalize").respond(200, json=load_fixture("stripe", "invoice_open"))
    opened = client.finalize_invoice(idempotency_key="fin-1", invoice_id=INVOICE)
    assert (opened.status, opened.number) == ("open", "ST-0001") and opened.hosted_url.startswith("https://invoice")
    mock_http.post(f"{API}/invoices/{INVOICE}/void").respond(200, json=load_fixture("stripe", "invoice_void"))
    assert client.void_invoice(idempotency_key="void-1", invoice_id=INVOICE).status == "void"
    mock_http.get(f"{API}/invoice_payments").respond(200, json=load_fixture("stripe", "invoice_payments"))
    refunds = mock_http.post(f"{API}/refunds").respond(200, json=load_fixture("stripe", "refund"))
    refund = client.refund(idempotency_key="ref-1", invoice_id=INVOICE, amount=Decimal("1000"))
    assert (refund.status, refund.amount) == ("succeeded", Decimal("1000.00"))
    assert form(refunds) == {"payment_intent": ["pi_3MtwBwLkdIwHu7ix28a3tqPa"], "amount": ["100000"]}
    assert refunds.calls.last.request.headers["Idempotency-Key"] == "ref-1"


def test_the_invoice_a_payment_intent_paid_is_found_through_its_invoice_payments(
    client: StripeClient, mock_http: respx.MockRouter
) -> None:
    # Since API 2025-03-31.basil a charge names its PaymentIntent, not its invoice.
    listing = mock_http.get(f"{API}/invoice_payments").respond(200, json=load_fixture("stripe", "invoice_payments"))
    [found] = client.list_invoice_payments(payment_intent_id="pi_3MtwBwLkdIwHu7ix28a3tqPa")
    assert parse_qs(listing.calls.last.request.url.query.decode()) == {
        "payment[type]": ["payment_intent"],
        "payment[payment_intent]": ["pi_3MtwBwLkdIwHu7ix28a3tqPa"],
    }
    assert (found.invoice_id, found.status, found.amount_paid, found.currency) == (
        INVOICE,
        "paid",
        Decimal("3000.00"),
        "USD",
    )
    assert found.payment_intent_id == "pi_3MtwBwLkdIwHu7ix28a3tqPa" and found.paid_at is not None
    client.list_invoice_payments(invoice_id=INVOICE)
    assert parse_qs(listing.calls.last.request.url.query.decode()) == {"invoice": [INVOICE]}
    with pytest.raises(ValueError, match="an invoice_id or a payment_intent_id"):
        client.list_invoice_payments()


def test_stripe_errors_become_ours_without_the_key(client: StripeClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{API}/customers").respond(401, json=load_fixture("stripe", "error_auth"))
    with pytest.raises(AuthError) as caught:
        client.create_customer(idempotency_key="c", email="e@x.example", name="n")
    assert caught.value.operation == "create_customer" and KEY not in str(caught.value)
    mock_http.get(f"{API}/invoices/in_missing").respond(404, json=load_fixture("stripe", "error_card"))
    with pytest.raises(NotFoundError):
        client.get_invoice("in_missing")
    assert ApiUsage.objects.filter(success=False).count() == 2


def test_5xx_is_retried_by_the_sdk_with_the_same_key_then_transient(
    client: StripeClient, mock_http: respx.MockRouter
) -> None:
    route = mock_http.post(f"{API}/customers").respond(500, json={"error": {"type": "api_error", "message": "boom"}})
    with pytest.raises(TransientError):
        client.create_customer(idempotency_key="cust-9", email="e@x.example", name="n")
    assert route.call_count == 1 + StripeClient.sdk_retries
    assert {c.request.headers["Idempotency-Key"] for c in route.calls} == {"cust-9"}


def test_health_reads_the_balance(client: StripeClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{API}/balance").respond(200, json=load_fixture("stripe", "balance"))
    assert client.health_check().ok
