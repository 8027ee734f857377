"""QuickBooks Online: invoices and payments in the books (the Accounting role).

API reference: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
OAuth 2 with a rotating refresh token (see integrations/http/oauth.py). Creates carry
``requestid`` (Intuit's idempotency: the same id returns the first result instead of a duplicate);
invoices are also looked up by DocNumber = our external reference before being created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

import httpx
import pydantic

from integrations.http import InvalidResponseError, Rate
from integrations.http.oauth import OAuthClient
from integrations.registry import register_provider
from integrations.values import AccountingInvoice, AccountingPayment, InvoiceLine

QUERY = (
    "query"  # https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
)
CUSTOMER = "customer"  # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer#create-a-customer
INVOICE = "invoice"  # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#create-an-invoice
INVOICE_BY_ID = "invoice/{id}"  # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#read-an-invoice
PAYMENT = "payment"  # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/payment#create-a-payment
COMPANY_INFO = (
    "companyinfo/{realm}"  # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo
)
MINOR_VERSION = "75"
DOC_NUMBER_MAX = 21  # QuickBooks' limit on DocNumber
SERVICES_ITEM_ID = "1"  # the "Services" item every QuickBooks company has


class _Ref(pydantic.BaseModel):
    value: str


class QbCustomer(pydantic.BaseModel):
    Id: str
    DisplayName: str = ""


class QbInvoice(pydantic.BaseModel):
    Id: str
    DocNumber: str = ""
    TotalAmt: Decimal
    Balance: Decimal
    CustomerRef: _Ref


class QbPayment(pydantic.BaseModel):
    Id: str
    TotalAmt: Decimal


class _QueryResponse(pydantic.BaseModel):
    Invoice: list[QbInvoice] = []
    Customer: list[QbCustomer] = []


class QueryResult(pydantic.BaseModel):
    QueryResponse: _QueryResponse


class CustomerEnvelope(pydantic.BaseModel):
    Customer: QbCustomer


class InvoiceEnvelope(pydantic.BaseModel):
    Invoice: QbInvoice


class PaymentEnvelope(pydantic.BaseModel):
    Payment: QbPayment


class _CompanyInfo(pydantic.BaseModel):
    CompanyName: str


class CompanyInfoEnvelope(pydantic.BaseModel):
    CompanyInfo: _CompanyInfo


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _accounting_invoice(invoice: QbInvoice) -> AccountingInvoice:
    return AccountingInvoice(
        invoice_id=invoice.Id,
        doc_number=invoice.DocNumber,
        customer_id=invoice.CustomerRef.value,
        total=invoice.TotalAmt,
        balance=invoice.Balance,
    )


@register_provider("accounting", "quickbooks")
class QuickBooksClient(OAuthClient):
    name = "quickbooks"
    base_url = "https://quickbooks.api.intuit.com/v3/company"
    # https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
    refresh_url = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    credential_names = ("QUICKBOOKS_CLIENT_ID", "QUICKBOOKS_CLIENT_SECRET", "QUICKBOOKS_REFRESH_TOKEN")
    client_auth_basic = True
    required_keys = (*credential_names, "QUICKBOOKS_REALM_ID")
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=8.0)  # 500 requests/minute per company

    def url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}/{self.setting('QUICKBOOKS_REALM_ID')}/{path}"

    @staticmethod
    def error_message(response: httpx.Response) -> str:
        # {"Fault": {"Error": [{"Message": ..., "Detail": ..., "code": ...}], "type": ...}}
        try:
            errors = response.json()["Fault"]["Error"]
            return "; ".join(f"{e.get('Message', '')}: {e.get('Detail', '')}" for e in errors)[:300]
        except (ValueError, KeyError, TypeError):
            return response.reason_phrase or "error"

    def query_where(self, entity: str, field: str, value: str, *, operation: str) -> _QueryResponse:
        # Intuit's query language, not SQL; the value is a quoted, escaped literal.
        statement = f"select * from {entity} where {field} = {_quote(value)}"  # noqa: S608
        return self.query(statement, operation=operation)

    def query(self, statement: str, *, operation: str) -> _QueryResponse:
        return self.get(
            QUERY, operation=operation, model=QueryResult, params={"query": statement, "minorversion": MINOR_VERSION}
        ).QueryResponse

    def _create(self, path: str, body: dict[str, Any], *, request_id: str, operation: str, model: type[Any]) -> Any:
        return self.post(
            path,
            operation=operation,
            model=model,
            json=body,
            params={"requestid": request_id[:50], "minorversion": MINOR_VERSION},
            idempotent=True,
        )  # requestid: Intuit returns the first result for a repeated id

    def customer_id(self, *, idempotency_key: str, name: str, email: str) -> str:
        found = self.query_where("Customer", "DisplayName", name, operation="find_customer")
        if found.Customer:
            return found.Customer[0].Id
        created = self._create(
            CUSTOMER,
            {"DisplayName": name, "PrimaryEmailAddr": {"Address": email}},
            request_id=f"{idempotency_key}:customer",
            operation="create_customer",
            model=CustomerEnvelope,
        )
        return str(created.Customer.Id)

    def upsert_invoice(
        self,
        *,
        idempotency_key: str,
        external_ref: str,
        customer_name: str,
        customer_email: str,
        lines: Sequence[InvoiceLine],
        currency: str,
        due_date: dt.date,
    ) -> AccountingInvoice:
        doc_number = external_ref[:DOC_NUMBER_MAX]
        existing = self.query_where("Invoice", "DocNumber", doc_number, operation="find_invoice")
        if existing.Invoice:
            return _accounting_invoice(existing.Invoice[0])
        customer_id = self.customer_id(idempotency_key=idempotency_key, name=customer_name, email=customer_email)
        body = {
            "CustomerRef": {"value": customer_id},
            "DocNumber": doc_number,
            "DueDate": due_date.isoformat(),
            "CurrencyRef": {"value": currency.upper()},
            "BillEmail": {"Address": customer_email},
            "Line": [
                {
                    "Amount": str(line.total),
                    "Description": line.description,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": SERVICES_ITEM_ID},
                        "Qty": line.quantity,
                        "UnitPrice": str(line.amount),
                    },
                }
                for line in lines
            ],
        }
        created = self._create(
            INVOICE, body, request_id=idempotency_key, operation="upsert_invoice", model=InvoiceEnvelope
        )
        return _accounting_invoice(created.Invoice)

    def record_payment(
        self, *, idempotency_key: str, invoice_id: str, amount: Decimal, paid_on: dt.date, reference: str = ""
    ) -> AccountingPayment:
        invoice = self.get(
            INVOICE_BY_ID.format(id=invoice_id),
            operation="record_payment",
            model=InvoiceEnvelope,
            params={"minorversion": MINOR_VERSION},
        ).Invoice
        if amount > invoice.Balance:
            raise InvalidResponseError(
                f"payment {amount} exceeds the open balance {invoice.Balance}",
                provider=self.name,
                operation="record_payment",
                field="Balance",
            )
        body = {
            "CustomerRef": {"value": invoice.CustomerRef.value},
            "TotalAmt": str(amount),
            "TxnDate": paid_on.isoformat(),
            "PaymentRefNum": reference[:21],
            "Line": [{"Amount": str(amount), "LinkedTxn": [{"TxnId": invoice.Id, "TxnType": "Invoice"}]}],
        }
        created = self._create(
            PAYMENT, body, request_id=idempotency_key, operation="record_payment", model=PaymentEnvelope
        )
        return AccountingPayment(payment_id=created.Payment.Id, amount=created.Payment.TotalAmt)

    def ping(self) -> str:
        realm = self.setting("QUICKBOOKS_REALM_ID")
        info = self.get(
            COMPANY_INFO.format(realm=realm),
            operation="health_check",
            model=CompanyInfoEnvelope,
            params={"minorversion": MINOR_VERSION},
            attempts=1,
        )
        return f"company {info.CompanyInfo.CompanyName}"
