"""Stripe against its OpenAPI as generated into the stripe SDK 16.1.0 (MIT; see stripe_sdk.py, README.md).

Requests: every call the client makes is one of the operations below, with only the form (or
query) parameters that operation's ``*Params`` type declares, its required ones, and values of
the declared kind and enum. Fixtures: each is a whole object as Stripe sends it for our API
version (every always-sent field, no field Stripe does not send, types and enums).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import stripe
from stripe import params as sp
from stripe._object_classes import get_object_class

from integrations.providers import stripe_payments
from integrations.providers.stripe_payments import StripeClient
from integrations.values import InvoiceLine
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import SPECS, schema_errors
from tests.integrations.specs.stripe_sdk import decode_form, list_schema, object_schema, params_errors

pytestmark = pytest.mark.django_db
API = "https://api.stripe.com/v1"
KEY = "sk_test_51Hsecretsecretsecret"
INVOICE = "in_1MtHbELkdIwHu7ixl4OzzPMv"
WEBHOOK_FIXTURES = Path(__file__).parents[1] / "webhooks" / "fixtures" / "stripe"

# The operations we call (https://docs.stripe.com/api), each with the SDK's type of its parameters.
OPERATIONS: dict[tuple[str, str], type] = {
    ("POST", "/v1/customers"): sp.CustomerCreateParams,
    ("POST", "/v1/invoices"): sp.InvoiceCreateParams,
    ("POST", "/v1/invoiceitems"): sp.InvoiceItemCreateParams,
    ("GET", "/v1/invoices/{invoice}"): sp.InvoiceRetrieveParams,
    ("POST", "/v1/invoices/{invoice}/finalize"): sp.InvoiceFinalizeInvoiceParams,
    ("POST", "/v1/invoices/{invoice}/void"): sp.InvoiceVoidInvoiceParams,
    ("GET", "/v1/invoice_payments"): sp.InvoicePaymentListParams,
    ("POST", "/v1/refunds"): sp.RefundCreateParams,
    ("GET", "/v1/balance"): sp.BalanceRetrieveParams,
}


def _resource(object_name: str) -> type[stripe.StripeObject]:
    """The SDK class for an ``object`` value ("invoice", "charge" ...)."""
    cls = get_object_class("V1", object_name)
    assert cls is not None, object_name
    return cls


def _operation(request: httpx.Request) -> tuple[str, str]:
    for method, template in OPERATIONS:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if method == request.method and re.match(pattern, request.url.path):
            return method, template
    raise AssertionError(f"{request.method} {request.url.path} is not an operation we expect to call")


@pytest.fixture
def client(keys: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeClient]:
    keys(STRIPE_API_KEY=KEY)
    stripe_payments._sdk_clients.clear()
    monkeypatch.setattr("stripe._http_client.HTTPClient._sleep_time_seconds", lambda self, n: 0.0)
    yield StripeClient()
    stripe_payments._sdk_clients.clear()


@pytest.fixture
def every_request(client: StripeClient, mock_http: respx.MockRouter) -> list[httpx.Request]:
    """Each client method once, against our fixtures."""
    mock_http.post(f"{API}/customers").respond(200, json=load_fixture("stripe", "customer"))
    mock_http.post(f"{API}/invoices").respond(200, json=load_fixture("stripe", "invoice_draft"))
    mock_http.post(f"{API}/invoiceitems").respond(200, json=load_fixture("stripe", "invoice_item"))
    mock_http.get(f"{API}/invoices/{INVOICE}").respond(200, json=load_fixture("stripe", "invoice_with_lines"))
    mock_http.post(f"{API}/invoices/{INVOICE}/finalize").respond(200, json=load_fixture("stripe", "invoice_open"))
    mock_http.post(f"{API}/invoices/{INVOICE}/void").respond(200, json=load_fixture("stripe", "invoice_void"))
    mock_http.get(f"{API}/invoice_payments").respond(200, json=load_fixture("stripe", "invoice_payments"))
    mock_http.post(f"{API}/refunds").respond(200, json=load_fixture("stripe", "refund"))
    mock_http.get(f"{API}/balance").respond(200, json=load_fixture("stripe", "balance"))

    client.create_customer(idempotency_key="c1", email="billing@acmedental.example", name="Acme", metadata={"k": "7"})
    client.create_invoice(
        idempotency_key="i1",
        customer_id="cus_NffrFeUfNV2Hib",
        currency="USD",
        lines=[InvoiceLine(description="Setup", amount=Decimal("2500.00"))],
        description="March",
        metadata={"invoice": "42"},
    )
    client.finalize_invoice(idempotency_key="f1", invoice_id=INVOICE)
    client.void_invoice(idempotency_key="v1", invoice_id=INVOICE)
    client.refund(idempotency_key="r1", invoice_id=INVOICE, amount=Decimal("10.50"))
    client.list_invoice_payments(payment_intent_id="pi_3MtwBwLkdIwHu7ix28a3tqPa")
    client.ping()
    return [call.request for call in mock_http.calls]


def test_the_client_calls_each_operation_we_pin(every_request: list[httpx.Request]) -> None:
    assert {_operation(r) for r in every_request} == set(OPERATIONS)


def test_every_form_body_and_query_has_only_declared_parameters_of_the_right_kind(
    every_request: list[httpx.Request],
) -> None:
    errors = []
    for request in every_request:
        params = OPERATIONS[_operation(request)]
        sent = decode_form(request.content.decode() if request.content else request.url.query.decode())
        errors += [f"{request.method} {request.url.path}: {e}" for e in params_errors(sent, params)]
    assert errors == []


def test_a_parameter_the_operation_does_not_take_is_caught() -> None:
    sent = decode_form("customer=cus_1&collection_method=send_invoice&due_in_days=14&auto_advance=maybe")
    assert params_errors(sent, sp.InvoiceCreateParams) == [
        "due_in_days: not a parameter of InvoiceCreateParams",
        "auto_advance: 'maybe' is no boolean",
    ]


def test_requests_carry_the_api_version_the_types_were_generated_for(every_request: list[httpx.Request]) -> None:
    assert {r.headers["Stripe-Version"] for r in every_request} == {stripe.api_version}
    assert {r.headers["Authorization"] for r in every_request} == {f"Bearer {KEY}"}
    posts = [r for r in every_request if r.method == "POST"]
    assert all(r.headers["Idempotency-Key"] for r in posts)


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("customer", object_schema(stripe.Customer)),
        ("invoice_draft", object_schema(stripe.Invoice)),
        ("invoice_with_lines", object_schema(stripe.Invoice)),
        ("invoice_open", object_schema(stripe.Invoice)),
        ("invoice_void", object_schema(stripe.Invoice)),
        ("invoice_item", object_schema(stripe.InvoiceItem)),
        ("invoice_payments", list_schema(stripe.InvoicePayment)),
        ("refund", object_schema(stripe.Refund)),
        ("balance", object_schema(stripe.Balance)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_fixture_is_a_whole_object_as_stripe_sends_it(fixture: str, schema: dict[str, Any]) -> None:
    assert schema_errors(load_fixture("stripe", fixture), schema) == []


@pytest.mark.parametrize("fixture", ["error_auth", "error_card"])
def test_error_fixture_is_stripes_error_object(fixture: str) -> None:
    assert schema_errors(load_fixture("stripe", fixture)["error"], object_schema(stripe.ErrorObject)) == []


@pytest.mark.parametrize("path", sorted(WEBHOOK_FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_webhook_fixture_is_a_whole_stripe_event_envelope(path: Path) -> None:
    assert schema_errors(json.loads(path.read_text()), object_schema(stripe.Event)) == []


def test_webhook_event_objects_are_shaped_as_our_api_version_sends_them() -> None:
    """The object inside each event, by the names and types of the fields it carries.

    From 2025-03-31.basil on (our SDK's version included) a charge and a PaymentIntent no longer
    name their ``invoice``; the link is the invoice's payments (``invoice_payment.paid`` and
    ``/v1/invoice_payments``), which integrations/webhooks/providers/stripe.py reads.
    """
    errors = {}
    for path in sorted(WEBHOOK_FIXTURES.glob("*.json")):
        inner = json.loads(path.read_text())["data"]["object"]
        schema = object_schema(_resource(inner["object"]))
        for definition in schema["$defs"].values():
            definition.pop("required", None)
        errors[path.stem] = schema_errors(inner, schema)
    assert errors == {path.stem: [] for path in WEBHOOK_FIXTURES.glob("*.json")}


def test_the_sdk_types_accept_stripes_own_fixtures() -> None:
    """A check of the reading itself: stripe/openapi's fixtures3.json objects (MIT, kept here).

    They were generated for a slightly older API version: ``invoice.subscription`` has since left
    the invoice (it is under ``parent.subscription_details``), the one difference.
    """
    resources = json.loads((SPECS / "stripe-fixtures3.json").read_text())["resources"]
    errors = {name: schema_errors(body, object_schema(_resource(name))) for name, body in resources.items()}
    assert errors == {name: [] for name in resources} | {
        "invoice": ["<root>: Additional properties are not allowed ('subscription' was unexpected)"]
    }
