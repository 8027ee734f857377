"""The pricing math (sales/services/pricing.py) and the requirements reader it prices from."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.models import RateCardItem
from sales.services.pricing import PricingError, Terms, estimate_change, match_service, quote_scope
from sales.services.requirements import Budget, Said, read_requirements

CARD = (
    RateCardItem(service="AI discovery workshop", unit="workshop", unit_price=Decimal("2500.00"),
                 unit_cost=Decimal("900.00")),
    RateCardItem(service="AI chatbot build", unit="project", unit_price=Decimal("18000.00"),
                 unit_cost=Decimal("9500.00")),
    RateCardItem(service="Workflow automation", unit="workflow", unit_price=Decimal("6500.00"),
                 unit_cost=Decimal("3200.00")),
    RateCardItem(service="AI operations retainer", unit="month", unit_price=Decimal("4000.00"),
                 unit_cost=Decimal("2100.00")),
    RateCardItem(service="Change request work", unit="hour", unit_price=Decimal("150.00"), unit_cost=Decimal("70.00")),
)  # fmt: skip
TERMS = Terms(items=CARD, margin_floor=Decimal("35"), max_discount=Decimal("15"), currency="USD")
LEADS = Said(text="our team spends hours every week chasing leads by hand")
REPORTS = Said(text="reporting for our clients is a manual spreadsheet job every Friday")
CHAT = Said(text="customers ask the same questions on our website all day")


def budget(high: str, low: str | None = None) -> Budget:
    return Budget(high=Decimal(high), low=Decimal(low) if low else None)


def test_needs_are_matched_to_the_services_on_the_card() -> None:
    assert match_service(LEADS.text, CARD).service == "Workflow automation"  # type: ignore[union-attr]
    assert match_service(CHAT.text, CARD).service == "AI chatbot build"  # type: ignore[union-attr]
    ongoing = match_service("someone to run it and keep improving it monthly", CARD)
    assert ongoing is not None and ongoing.service == "AI operations retainer"


def test_the_full_scope_within_budget_is_priced_at_the_card_with_its_margin() -> None:
    quote = quote_scope(deliverables=[LEADS, REPORTS, CHAT], terms=TERMS, budget=budget("40000", "25000"))
    # Two automations are two units of one line; the chatbot a line of its own; no discount.
    assert [(li.service, li.quantity, li.unit_price) for li in quote.lines] == [
        ("Workflow automation", 2, Decimal("6500.00")),
        ("AI chatbot build", 1, Decimal("18000.00")),
    ]
    assert quote.total == Decimal("31000.00") == quote.list_total
    assert quote.cost == Decimal("15900.00")
    assert quote.margin == Decimal("48.71")  # (31000 - 15900) / 31000, half up to the cent
    assert quote.discount == 0 and quote.fits_budget and not quote.below_floor and not quote.left_out


def test_a_little_over_budget_is_met_with_a_whole_percent_discount_within_the_limit() -> None:
    # Aim: 80% into the stated range, 10,000 + 0.8 * 2,500 = 12,000; 13,000 needs 8% off.
    quote = quote_scope(deliverables=[LEADS, REPORTS], terms=TERMS, budget=budget("12500", "10000"))
    assert quote.discount == Decimal("8")
    assert quote.lines[0].unit_price == Decimal("5980.00")  # 6500 * 0.92
    assert quote.total == Decimal("11960.00") <= Decimal("12500")
    assert not quote.left_out and not quote.pilot


def test_far_over_budget_the_scope_shrinks_to_the_core_then_to_a_pilot() -> None:
    fewer = quote_scope(deliverables=[LEADS, CHAT], terms=TERMS, budget=budget("8000", "6000"))
    assert [li.service for li in fewer.lines] == ["Workflow automation"]
    assert fewer.total == Decimal("6500.00") and fewer.left_out == [CHAT.text]
    pilot = quote_scope(deliverables=[LEADS, CHAT], terms=TERMS, budget=budget("3500", "2500"))
    assert pilot.pilot and pilot.lines[0].description.startswith("Pilot: Workflow automation")
    assert pilot.lines[0].list_price == Decimal("3250.00")  # half the build, half its cost: same margin
    assert pilot.total <= Decimal("3500") and pilot.margin >= TERMS.margin_floor
    assert pilot.left_out[0] == "the full workflow automation after the pilot"


def test_a_budget_under_the_lowest_price_gets_the_pilot_at_the_limit_and_says_so() -> None:
    quote = quote_scope(deliverables=[LEADS], terms=TERMS, budget=budget("1500"))
    assert quote.pilot and quote.discount == TERMS.max_discount
    assert quote.total == Decimal("2762.50") and quote.fits_budget is False
    assert any("under the lowest price" in note for note in quote.notes)


def test_a_discount_over_the_limit_is_refused_and_capped() -> None:
    quote = quote_scope(deliverables=[LEADS], terms=TERMS, discount_requested=Decimal("25"))
    assert quote.discount == Decimal("15") and quote.discount_refused == Decimal("25")
    assert quote.total == Decimal("5525.00")
    within = quote_scope(deliverables=[LEADS], terms=TERMS, discount_requested=Decimal("10"))
    assert within.discount == Decimal("10") and within.discount_refused is None


def test_a_price_under_the_margin_floor_is_flagged_and_avoided_when_the_operator_said_no() -> None:
    thin = Terms(
        items=(RateCardItem(service="Workflow automation", unit_price=Decimal("6500"), unit_cost=Decimal("4000")),),
        margin_floor=Decimal("35"),
        max_discount=Decimal("15"),
        currency="USD",
    )
    # 38.46% at the card; the 10% the buyer asked for brings it to 31.62%: under the floor.
    quote = quote_scope(deliverables=[LEADS], terms=thin, discount_requested=Decimal("10"))
    assert quote.below_floor and quote.margin == Decimal("31.62")
    floor = quote_scope(deliverables=[LEADS], terms=thin, discount_requested=Decimal("10"), allow_under_floor=False)
    assert not floor.below_floor and floor.discount == Decimal("5")  # 6175: 35.22%, 6% would be 34.5%


def test_a_budget_only_met_under_the_floor_is_priced_so_for_approval() -> None:
    thin = Terms(
        items=(RateCardItem(service="Workflow automation", unit_price=Decimal("6500"), unit_cost=Decimal("4000")),),
        margin_floor=Decimal("35"),
        max_discount=Decimal("15"),
        currency="USD",
    )
    # The pilot (3,250, cost 2,000) keeps the floor only down to 5% off (3,087.50); the aim, 95% of
    # 3,000, takes 13%: under the floor. Smaller shapes are tried first, so this is the last resort.
    quote = quote_scope(deliverables=[LEADS], terms=thin, budget=budget("3000"))
    assert quote.pilot and quote.discount == Decimal("13") and quote.total == Decimal("2827.50")
    assert quote.below_floor and quote.fits_budget and quote.margin == Decimal("29.27")
    assert any("operator" in note for note in quote.notes)
    refused = quote_scope(deliverables=[LEADS], terms=thin, budget=budget("3000"), allow_under_floor=False)
    assert refused.total == Decimal("3087.50") and not refused.below_floor and refused.fits_budget is False


def test_a_budget_in_another_currency_is_not_compared() -> None:
    quote = quote_scope(deliverables=[LEADS, REPORTS], terms=TERMS, budget=Budget(high=Decimal("500"), currency="EUR"))
    assert quote.total == Decimal("13000.00") and quote.budget_high is None
    assert any("EUR" in note for note in quote.notes)


def test_nothing_to_price_is_an_error_that_says_so() -> None:
    with pytest.raises(PricingError, match="nothing to price"):
        quote_scope(deliverables=[], terms=TERMS)
    with pytest.raises(PricingError, match="no services"):
        quote_scope(deliverables=[LEADS], terms=Terms(items=(), margin_floor=Decimal(35), max_discount=Decimal(15),
                                                      currency="USD"))  # fmt: skip


def test_the_lines_are_what_the_proposal_stores() -> None:
    quote = quote_scope(deliverables=[LEADS, REPORTS], terms=TERMS, discount_requested=Decimal("5"))
    assert quote.line_items() == [
        {"description": "Workflow automation x2: " + "; ".join([LEADS.text, REPORTS.text]), "quantity": "2",
         "unit_price": "6175.00"},
    ]  # fmt: skip
    breakdown = quote.breakdown()
    assert breakdown["total"] == "12350.00" and breakdown["discount_percent"] == "5"
    assert breakdown["margin_percent"] == "48.18" and breakdown["below_floor"] is False


def test_a_change_is_hours_at_the_hourly_rate_sized_by_what_it_touches() -> None:
    small = estimate_change("Please fix the typo in the welcome message", TERMS)
    large = estimate_change("Add a WhatsApp channel to the assistant", TERMS)
    medium = estimate_change("Show the order status in the chat answers", TERMS)
    assert (small.size, small.price) == ("small", Decimal("900.00"))
    assert (medium.size, medium.price) == ("medium", Decimal("2400.00"))
    assert (large.size, large.price) == ("large", Decimal("6000.00"))
    assert large.cost == Decimal("2800.00") and not large.below_floor


def test_one_more_of_something_on_the_card_is_priced_as_that_service() -> None:
    estimate = estimate_change("Could you build another workflow for our invoice reminders?", TERMS)
    assert estimate.size == "deliverable" and estimate.price == Decimal("6500.00")


def test_a_change_without_an_hourly_rate_on_the_card_cannot_be_priced() -> None:
    terms = Terms(items=CARD[:2], margin_floor=Decimal(35), max_discount=Decimal(15), currency="USD")
    with pytest.raises(PricingError, match="hourly rate"):
        estimate_change("Fix the typo in the welcome message", terms)


def test_requirements_are_read_whatever_the_writers_keys() -> None:
    plain = read_requirements({"needs": ["faster replies"], "budget": "between $5k and $8k", "timeline": "2 months"})
    assert [s.text for s in plain.needs] == ["faster replies"]
    assert plain.budget is not None and (plain.budget.low, plain.budget.high) == (Decimal("5000"), Decimal("8000"))
    assert plain.timeline_weeks == 8
    rich = read_requirements(
        {
            "scope_items": [
                {"item": "lead follow-up workflow", "source": {"quote": "we chase leads", "line_index": 4}}
            ],
            "budget_range": {"min": 10000, "max": 12000.5, "currency": "eur", "quote": "10 to 12k", "line": 6},
            "decision_makers": [{"name": "Sam Lee", "role": "COO"}],
            "discount": {"percent": "10"},
        }
    )
    assert rich.scope[0].text == "lead follow-up workflow"
    assert (rich.scope[0].quote, rich.scope[0].line) == ("we chase leads", 4)
    assert rich.budget is not None and rich.budget.currency == "EUR" and rich.budget.high == Decimal("12000.5")
    assert rich.decision_makers[0].text == "Sam Lee (COO)" and rich.discount_requested == Decimal("10")
    assert rich.deliverables == rich.scope  # the scope items, when stated, are what is priced


def test_odd_requirements_read_as_nothing_rather_than_failing() -> None:
    assert read_requirements(None).deliverables == []
    odd = read_requirements({"needs": [None, {}, 3], "budget": {"high": "a lot"}, "discount": 150})
    assert [s.text for s in odd.needs] == ["3"] and odd.budget is None and odd.discount_requested is None


def test_a_need_already_labelled_with_its_service_is_labelled_once() -> None:
    # Discovery writes scope items as "<service>: <need>", and a renewal prices last term's lines again:
    # labelling them again named milestones "Workflow automation: Workflow automation: ...".
    labelled = Said(text=f"Workflow automation: workflow automation: {REPORTS.text}")
    one = quote_scope(deliverables=[labelled], terms=TERMS)
    assert [li["description"] for li in one.line_items()] == [f"Workflow automation: {REPORTS.text}"]
    two = quote_scope(deliverables=[labelled, Said(text=f"Workflow automation: {LEADS.text}")], terms=TERMS)
    assert two.line_items()[0]["description"] == f"Workflow automation x2: {REPORTS.text}; {LEADS.text}"
    pilot = quote_scope(deliverables=[labelled], terms=TERMS, budget=budget("2000"))
    assert pilot.line_items()[0]["description"].endswith(f"one use case end to end ({REPORTS.text})")
