import pytest

from integrations.models import SandboxRecord
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


def test_a_key_moves_once_even_after_it_fell_off_the_readable_history(monkeypatch):
    monkeypatch.setattr(accounts, "MAX_MOVES_KEPT", 3)
    email = "jo.park@brightdental.com"
    accounts.move(email, -0.1, key="answer:msg-1", reason="no answer in 3 days")
    for week in range(5):
        accounts.move(email, 0.01, key=f"report:W{week}", reason="weekly report")
    history = SandboxRecord.objects.get(kind=accounts.KIND, ref=email).data["moves"]
    assert [m["key"] for m in history] == ["report:W2", "report:W3", "report:W4"]  # msg-1 fell off it
    before = accounts.mood(email)
    assert accounts.move(email, -0.1, key="answer:msg-1", reason="no answer in 3 days") == before
    assert accounts.moved(email, "answer:msg-1")
    assert not accounts.moved(email, "answer:msg-2")


def test_the_keys_applied_are_not_kept_in_the_clients_record():
    # Every move used to read and rewrite the client's record: a list of all keys ever applied in
    # it made a year of moves quadratic. The record holds the mood and the recent history only.
    email = "lee.cho@harborlaw.com"
    for day in range(250):
        accounts.move(email, 0.0, key=f"day:{day}", reason="a day")
    data = SandboxRecord.objects.get(kind=accounts.KIND, ref=email).data
    assert set(data) == {"email", "mood", "moves"} and len(data["moves"]) == accounts.MAX_MOVES_KEPT
    assert SandboxRecord.objects.filter(kind=accounts.KEY_KIND, party=email).count() == 250


def test_a_history_written_before_keys_had_rows_still_counts():
    email = "ari.ng@brightdental.com"
    accounts.mood(email)
    record = SandboxRecord.objects.get(kind=accounts.KIND, ref=email)
    record.data = {**record.data, "moves": [{"key": "old", "delta": 0.1, "reason": "before", "at": ""}]}
    record.save(update_fields=["data"])
    before = accounts.mood(email)
    assert accounts.moved(email, "old")
    assert accounts.move(email, 0.1, key="old", reason="again") == before
