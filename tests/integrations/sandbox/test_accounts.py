import pytest

from integrations.sandbox import accounts

pytestmark = pytest.mark.django_db


def test_a_move_counts_once_per_key_and_stays_in_range():
    email = "pat.lee@brightdental.com"
    start = accounts.mood(email)
    assert 0.0 < start < 1.0
    after = accounts.move(email, 0.1, key="report:2026-W49", reason="weekly report")
    assert after == pytest.approx(min(1.0, start + 0.1))
    assert accounts.move(email, 0.1, key="report:2026-W49", reason="weekly report") == after
    assert accounts.moved(email, "report:2026-W49")
    assert accounts.move(email, -5.0, key="neglect", reason="nothing for months") == 0.0


def test_the_same_address_is_one_client_whatever_its_case():
    accounts.move("Sam.Kim@Harborlaw.com", -0.2, key="late:m1", reason="milestone late")
    assert accounts.moved("sam.kim@harborlaw.com", "late:m1")
