"""The book's dates: calls in both markets' working hours, history on weekdays."""

from __future__ import annotations

import datetime as dt

from crm.demo_book import CALL_HOURS_UTC, business_days_ago, call_slot


def test_a_call_is_booked_on_the_next_weekday_half_hour_within_call_hours() -> None:
    friday_evening = dt.datetime(2026, 3, 6, 17, 10, tzinfo=dt.UTC)
    assert call_slot(friday_evening) == dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)  # Monday
    monday_noon = dt.datetime(2026, 3, 2, 14, 40, tzinfo=dt.UTC)
    assert call_slot(monday_noon) == dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    for hours in range(0, 24 * 7, 5):
        slot = call_slot(monday_noon + dt.timedelta(hours=hours))
        assert slot.weekday() < 5 and CALL_HOURS_UTC[0] <= slot.time() <= CALL_HOURS_UTC[1]


def test_history_happened_on_weekdays() -> None:
    monday = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert business_days_ago(monday, 1) == dt.datetime(2026, 2, 27, 14, 0, tzinfo=dt.UTC)  # the Friday
    assert business_days_ago(monday, 5) == dt.datetime(2026, 2, 23, 14, 0, tzinfo=dt.UTC)
