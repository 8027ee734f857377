"""Return dates in the forms out-of-office replies use, read from the day the reply came in."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.services.replies.dates import return_date

MONDAY_3_MARCH = dt.date(2025, 3, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm out and back on 12 March.", "2025-03-12"),
        ("Travelling until 3/14 with limited email.", "2025-03-14"),
        ("On parental leave, returning Monday 2 June.", "2025-06-02"),
        ("Out of office until 2025-03-10.", "2025-03-10"),
        ("Back April 1st, call the desk.", "2025-04-01"),
        ("I'm away until Friday.", "2025-03-07"),
        ("On annual leave until 21/03/2025.", "2025-03-21"),
        ("out until 2 and limited access", "2025-04-02"),  # the sandbox's day-only form: next 2nd
        ("Back in January 5th", "2026-01-05"),  # no year: the next one after the reply
        ("Ich bin bis zum 17.03.2025 nicht im Büro.", "2025-03-17"),
        ("Ich bin ab dem 24. März wieder im Büro.", "2025-03-24"),
        ("Absent jusqu'au 11 mars inclus.", "2025-03-12"),  # inclusive: back the day after
        ("Estoy fuera hasta el 18 de marzo.", "2025-03-18"),
        ("I'm back tomorrow.", "2025-03-04"),
    ],
)
def test_common_return_date_forms(text, expected):
    assert str(return_date(text, received=MONDAY_3_MARCH)) == expected


def test_the_return_word_wins_over_other_dates():
    text = "Ich bin bis einschließlich Freitag, 7. März, nicht im Haus. Ab Montag, 10. März bin ich wieder da."

    assert return_date(text, received=MONDAY_3_MARCH) == dt.date(2025, 3, 10)


@pytest.mark.parametrize("text", ["I'm on leave and will reply when I'm back.", "Out of office, 31/02/2025"])
def test_no_date_or_an_impossible_one_gives_none(text):
    assert return_date(text, received=MONDAY_3_MARCH) is None
