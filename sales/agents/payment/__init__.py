"""The payment agents (AGENTS.md "Payment"): invoices issued, payments reconciled, reminders, the books."""

from sales.agents.payment import accounting_sync, dunning, invoice_generation, stripe_payment_processing

__all__ = ["accounting_sync", "dunning", "invoice_generation", "stripe_payment_processing"]
