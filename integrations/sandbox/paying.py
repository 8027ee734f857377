"""How a client pays an invoice: on time, late, after a declined card, never; and what reminders change.

One pure function of the invoice (its provider id seeds the draws: a market identity, never our
database ids), the payer's hidden fit, the payment terms and the reminders received while unpaid.
The sandbox's Payments provider (deals.py) plans the Stripe events from it when an invoice is
finalised, and plans again when a reminder arrives: the same invoice with the same reminders meets
the same fate, and a reminder only ever brings a payment forward.

Constants, from what is known of real B2B payment behaviour (a judgement where no figure fits):

- About half of B2B invoices are paid after their due date: Atradius Payment Practices Barometer
  (Western Europe 2025: 47% of B2B invoices paid late; 2018: 41.8% of receivables past due). We use
  50% for a payer who fits us badly and 35% for one who fits well (a client who needs the work pays
  more readily: judgement).
- Written off as uncollectable: 1.3% of B2B receivables (Atradius, Western Europe 2018) to about 8%
  of sales value (Atradius UK 2020). A small agency's clients have signed a contract: 6% for a
  poor fit, 2% for a good one (judgement, inside that range).
- How late the late ones are, with nobody chasing: exponential, mean 18 days past due, capped at
  75 days (judgement: a typical days-beyond-terms of two to three weeks).
- A reminder received while unpaid: a late payer pays within 0.5-3 days with odds 45%, 40%, 35%
  for the first, second and third reminder; one who meant never to pay, 25% per reminder.
  Judgement, in the direction every dunning tool reports (reminders shorten the delay and recover
  part of what would be written off); the effect is tested, not the figure.
- A declined card on the first attempt: 8% of payers (judgement: card decline rates of 5-15% are
  commonly quoted for B2B card payments); the retry succeeds 1-5 days later, as Stripe's retries do.
  Half of those who never pay tried a card that was declined, twice.
- Refunds: 2% of paid invoices, 3-21 days after payment (a client who asked for money back and got
  it from the operator in Stripe's dashboard), half of them in full, half partly (20-50%): judgement.

"Late" here means paid more than ``LATE_GRACE_DAYS`` after the due date: a payment a day or two
after the date is, for the client and for us, on time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from integrations.sandbox.rng import rng_for

LATE_SHARE = (0.50, 0.35)  # paid after the due date, for fit 0 and fit 1 (Atradius: ~47%)
UNCOLLECTIBLE_SHARE = (0.06, 0.02)  # never paid, for fit 0 and fit 1 (Atradius: 1.3%-8%)
LATE_MEAN_DAYS = 18.0
LATE_MAX_DAYS = 75.0
REMINDER_ODDS = (0.45, 0.40, 0.35)  # a late payer pays soon after the 1st, 2nd, 3rd reminder
REMINDER_ODDS_UNCOLLECTIBLE = 0.25
CARD_DECLINE_SHARE = 0.08
REFUND_SHARE = 0.02
PARTIAL_REFUND_SHARES = (Decimal("0.20"), Decimal("0.30"), Decimal("0.50"))
LATE_GRACE_DAYS = 7

Outcome = Literal["paid", "late", "failed_then_paid", "refunded", "uncollectible"]


def _between(pair: tuple[float, float], fit: float) -> float:
    poor, good = pair
    return poor + (good - poor) * min(max(fit, 0.0), 1.0)


@dataclass(frozen=True)
class InvoiceFate:
    """Times are from the invoice's finalisation. ``pays_after`` None: never paid."""

    due_after: dt.timedelta
    pays_after: dt.timedelta | None
    failed_after: tuple[dt.timedelta, ...] = ()
    refund_after: dt.timedelta | None = None
    refund_share: Decimal = Decimal("0")
    answered_reminder: int | None = None  # which reminder (0-based) brought the payment forward
    reminders: tuple[float, ...] = field(default=())

    @property
    def days_late(self) -> float | None:
        if self.pays_after is None:
            return None
        return (self.pays_after - self.due_after) / dt.timedelta(days=1)

    @property
    def late(self) -> bool:
        return self.days_late is not None and self.days_late > LATE_GRACE_DAYS

    @property
    def kind(self) -> Outcome:
        if self.pays_after is None:
            return "uncollectible"
        if self.refund_share > 0:
            return "refunded"
        if self.failed_after:
            return "failed_then_paid"
        return "late" if self.late else "paid"


def invoice_fate(*, invoice_id: str, fit: float, due_days: int = 14, reminders: Sequence[float] = ()) -> InvoiceFate:
    """The fate of one invoice; ``reminders``: days past due at which each reminder was received."""
    rng = rng_for("invoice-fate", invoice_id)
    # Every draw is taken, in the same order, whatever the branch: the stream never depends on it.
    roll = rng.random()
    late_days = 1.0 + min(rng.expovariate(1.0 / LATE_MEAN_DAYS), LATE_MAX_DAYS - 1.0)
    on_time_days = rng.triangular(0.5, float(due_days), due_days * 0.85)
    card_declined = rng.random() < CARD_DECLINE_SHARE
    never_payer_tried_card = rng.random() < 0.5
    retry_days = rng.uniform(1.0, 5.0)
    refunded = rng.random() < REFUND_SHARE
    refund_days = rng.uniform(3.0, 21.0)
    refund_share = Decimal("1") if rng.random() < 0.5 else rng.choice(PARTIAL_REFUND_SHARES)

    uncollectible = _between(UNCOLLECTIBLE_SHARE, fit)
    pays: float | None
    if roll < uncollectible:
        pays = None
    elif roll < uncollectible + _between(LATE_SHARE, fit):
        pays = due_days + late_days
    else:
        pays = on_time_days

    answered: int | None = None
    seen = tuple(sorted(reminders))
    for index, past_due in enumerate(seen):
        received = due_days + past_due
        if pays is not None and pays <= received:
            break  # paid before it arrived: later reminders find nothing to chase either
        answer = rng_for("invoice-reminder", invoice_id, index)
        odds = REMINDER_ODDS_UNCOLLECTIBLE if pays is None else REMINDER_ODDS[min(index, len(REMINDER_ODDS) - 1)]
        heeded, soon = answer.random() < odds, answer.uniform(0.5, 3.0)
        if heeded and (pays is None or received + soon < pays):
            pays = received + soon
            answered = index
            break

    days = dt.timedelta(days=1)
    if pays is None:
        tried = (on_time_days * days, (on_time_days + retry_days) * days) if never_payer_tried_card else ()
        return InvoiceFate(due_after=due_days * days, pays_after=None, failed_after=tried, reminders=seen)
    failed: tuple[dt.timedelta, ...] = ()
    if card_declined:
        failed, pays = (pays * days,), pays + retry_days
    return InvoiceFate(
        due_after=due_days * days,
        pays_after=pays * days,
        failed_after=failed,
        refund_after=(pays + refund_days) * days if refunded else None,
        refund_share=refund_share if refunded else Decimal("0"),
        answered_reminder=answered,
        reminders=seen,
    )
