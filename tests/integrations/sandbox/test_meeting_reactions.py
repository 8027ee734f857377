"""The sandbox's meetings answer to what the agency does: reminders lower no-shows, a follow-up with
new times after a no-show brings a booking back. Each reaction's direction, on seeded prospects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from integrations.models import SandboxEvent, SandboxRecord
from integrations.roles import get_role
from integrations.sandbox import attendance, moments
from integrations.sandbox.attendance import Reminders, counts_as_reminder, no_show_chance, rebook_chance, shows_up
from integrations.sandbox.delivery import deliver
from integrations.sandbox.market import find_person
from integrations.sandbox.store import remember

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.UTC)  # Thursday 10:00 UTC (strangers live in UTC)


def emails(n: int, prefix: str = "p") -> list[str]:
    return [f"{prefix}{i}@clinic{i}.example.org" for i in range(n)]


# --- the reaction functions -------------------------------------------------------------------


def test_each_reminder_lowers_the_no_show_odds_and_fit_lowers_them_too() -> None:
    none, day, hour, both = (
        no_show_chance(fit=0.5, reminders=Reminders(d, h))
        for d, h in ((False, False), (True, False), (False, True), (True, True))
    )
    assert none == pytest.approx(0.30)
    assert both == pytest.approx(0.15, abs=0.01)
    assert none > day > both and none > hour > both
    assert no_show_chance(fit=0.9, reminders=Reminders()) < no_show_chance(fit=0.1, reminders=Reminders())


def test_with_both_reminders_no_shows_fall_from_about_30_to_about_15_percent() -> None:
    people = [find_person(e) for e in emails(400)]  # strangers: fit between 0.3 and 0.7

    def missed(reminders: Reminders) -> list[bool]:
        return [
            not shows_up(attendee_email=p.email, start=START, fit=p.company.fit, reminders=reminders) for p in people
        ]

    without, reminded = missed(Reminders()), missed(Reminders(day_before=True, hour_before=True))
    assert 0.25 <= sum(without) / len(people) <= 0.35
    assert 0.11 <= sum(reminded) / len(people) <= 0.19
    # The same prospects draw the same numbers: reminders only ever turn a no-show into a show.
    assert all(w or not r for w, r in zip(without, reminded, strict=True))


@pytest.mark.parametrize(
    ("subject", "sent_at", "counts"),
    [
        ("Reminder: our call tomorrow, Thursday at 11:00 (CET)", START - dt.timedelta(hours=24), "day_before"),
        ("Reminder: our call tomorrow at 11am", START - dt.timedelta(hours=24), "day_before"),
        ("Starting soon: our call today at 11:00 (CET)", START - dt.timedelta(minutes=55), "hour_before"),
        ("Reminder: our call tomorrow at 10:00 (UTC)", START - dt.timedelta(hours=24), ""),  # not their time
        ("Reminder: our call tomorrow", START - dt.timedelta(hours=24), ""),  # says no time
        ("Reminder: our call on Thursday at 11:00", START - dt.timedelta(hours=40), ""),  # too early
        ("Reminder: our call tomorrow at 11:00", START - dt.timedelta(hours=30), ""),  # arrives at 05:00 there
        ("Starting soon: our call at 11:00", START - dt.timedelta(minutes=5), ""),  # too late to act on
        ("Starting soon: our call at 11:00", START + dt.timedelta(minutes=5), ""),  # after the start
    ],
)
def test_a_reminder_counts_in_its_window_at_a_readable_hour_naming_the_local_time(
    subject: str, sent_at: dt.datetime, counts: str
) -> None:
    # 10:00 UTC is 11:00 in Berlin (CET) on 5 March.
    assert counts_as_reminder(subject=subject, sent_at=sent_at, start=START, timezone="Europe/Berlin") == counts


def test_a_call_booked_less_than_a_day_ahead_needs_no_day_before_reminder() -> None:
    fresh = attendance.reminders_received(
        attendee_email="a@b.example.org", start=START, booked_at=START - dt.timedelta(hours=5), timezone="UTC"
    )
    planned = attendance.reminders_received(
        attendee_email="a@b.example.org", start=START, booked_at=START - dt.timedelta(days=3), timezone="UTC"
    )
    assert fresh == Reminders(day_before=True) and planned == Reminders()


def test_offering_new_times_after_a_no_show_brings_more_rebookings() -> None:
    assert rebook_chance(fit=0.5, slot=True, misses=1) > rebook_chance(fit=0.5, slot=False, misses=1)
    assert rebook_chance(fit=0.9, slot=True, misses=1) > rebook_chance(fit=0.1, slot=True, misses=1)
    assert rebook_chance(fit=0.5, slot=True, misses=2) < rebook_chance(fit=0.5, slot=True, misses=1)


# --- through the roles, on the project clock ---------------------------------------------------


def happen_until(when: dt.datetime, frozen_clock: Any) -> None:
    """Let the world's moments due by ``when`` happen, in order (its reports stay unposted)."""
    frozen_clock.set(when)
    for event in SandboxEvent.objects.filter(provider=moments.WORLD, status="pending", due_at__lte=when).order_by(
        "due_at", "id"
    ):
        deliver(event)


def remind(address: str, subject: str, at: dt.datetime, frozen_clock: Any) -> None:
    frozen_clock.set(at)
    get_role("outreach").send_email(
        idempotency_key=f"remind:{address}:{at.isoformat()}", from_mailbox="alex@agency.example", to=address,
        subject=subject, body="A quick reminder of our call.", headers={},
    )  # fmt: skip


def test_reminders_received_before_the_start_lower_the_no_shows_the_world_reports(frozen_clock: Any) -> None:
    calendar, people = get_role("calendar"), emails(300, prefix="m")
    for address in people:
        calendar.book(idempotency_key=f"book:{address}", start=START, duration_minutes=30, attendee_email=address,
                      attendee_name="Pat", title="Discovery call")  # fmt: skip
    reminded = people[::2]
    for address in reminded:
        remind(address, "Reminder: our call tomorrow at 10:00 (UTC)", START - dt.timedelta(hours=24), frozen_clock)
    for address in reminded:
        remind(address, "Starting soon: our call today at 10:00 (UTC)", START - dt.timedelta(hours=1), frozen_clock)
    assert not SandboxEvent.objects.filter(provider="instantly").exists(), "a reminder is not a cold email"
    happen_until(START + dt.timedelta(minutes=1), frozen_clock)

    outcome = {
        r.data["attendee_email"]: r.data["no_show"]
        for r in SandboxRecord.objects.filter(kind="booking", data__has_key="no_show")
    }
    rate = {
        group: sum(outcome[a] for a in members if a in outcome) / sum(a in outcome for a in members)
        for group, members in (("reminded", reminded), ("not", people[1::2]))
    }
    assert rate["not"] - rate["reminded"] >= 0.08, rate
    reported = SandboxEvent.objects.filter(provider="calcom", kind="booking_no_show_updated").count()
    assert reported == sum(outcome.values())


def test_the_recording_is_planned_when_the_call_starts_not_at_booking(frozen_clock: Any) -> None:
    calendar = get_role("calendar")
    for address in emails(12, prefix="r"):
        calendar.book(idempotency_key=f"book:{address}", start=START, duration_minutes=30, attendee_email=address,
                      attendee_name="Pat", title="Discovery call")  # fmt: skip
    assert not SandboxEvent.objects.filter(kind="recording_ready").exists()
    assert not SandboxRecord.objects.filter(kind="recording").exists()
    happen_until(START, frozen_clock)
    held = SandboxRecord.objects.filter(kind="booking", data__no_show=False).count()
    assert held and SandboxEvent.objects.filter(kind="recording_ready").count() == held
    assert SandboxEvent.objects.filter(kind="meeting_ended").count() == held


def test_an_agency_cancellation_cancels_the_start_too(frozen_clock: Any) -> None:
    booking = get_role("calendar").book(
        idempotency_key="book:c", start=START, duration_minutes=30, attendee_email="c@clinic.example.org",
        attendee_name="C", title="Call",
    )  # fmt: skip
    get_role("calendar").cancel(booking_id=booking.booking_id)
    assert not SandboxEvent.objects.filter(subject=booking.booking_id, provider="world", status="pending").exists()


def missed(address: str, start: dt.datetime) -> None:
    remember(
        kind="booking",
        ref=f"bk_{address}",
        data={"booking_id": f"bk_{address}", "attendee_email": address, "start": start.isoformat(),
              "booked_at": (start - dt.timedelta(days=2)).isoformat(), "status": "accepted", "no_show": True},
    )  # fmt: skip


OFFER = "Here are a few times (your time):\n- Tuesday 10 March, 10:00\n- Wednesday 11 March, 14:30\n"


def test_a_follow_up_offering_times_after_a_no_show_brings_bookings_back(frozen_clock: Any) -> None:
    now = START + dt.timedelta(hours=3)
    answers: dict[str, list[Any]] = {"times": [], "vague": []}
    for group, body in (("times", OFFER), ("vague", "Let me know when suits you.")):
        for address in emails(300, prefix=f"{group}-"):
            missed(address, START)
            answer = attendance.answer_about_meeting(person=find_person(address), body=body, replying=False, now=now)
            assert answer is not None
            answers[group].append(answer)
    booked = {group: [a for a in found if a.outcome == "booking"] for group, found in answers.items()}
    assert len(booked["times"]) > 1.8 * len(booked["vague"]) > 0
    for answer in booked["times"]:
        assert answer.intent == "interested"
        assert "Tuesday 10 March at 10:00" in answer.text or "Wednesday 11 March at 14:30" in answer.text


def test_a_failing_moment_is_recorded_and_leaves_nothing_behind(frozen_clock: Any) -> None:
    @moments.on("test_broken")
    def broken(event: SandboxEvent) -> None:
        remember(kind="note", ref="half", data={})
        raise RuntimeError("the world tripped")

    event = moments.plan(key="world:test", kind="test_broken", subject="s", at=frozen_clock.now)
    deliver(event)
    event.refresh_from_db()
    assert (event.status, event.error) == ("failed", "RuntimeError: the world tripped")
    assert not SandboxRecord.objects.filter(kind="note").exists()


def test_a_booking_is_the_same_on_every_database_whatever_ids_our_key_names() -> None:
    # The call's course and transcript are drawn from the booking id: an id made of our outbox key
    # (lead and meeting pks) gave the same prospect another call on CI's database.
    def book(key: str) -> Any:
        return get_role("calendar").book(
            idempotency_key=key, start=START, duration_minutes=30, attendee_email="Ann@Clinic.example.org",
            attendee_name="Ann", title="Discovery call",
        )  # fmt: skip

    here = book("lead:12:meeting:40:booking")
    assert book("lead:12:meeting:40:booking").booking_id == here.booking_id  # a retry finds its booking
    SandboxRecord.objects.all().delete()  # another database, other ids
    assert book("lead:7:meeting:3:booking").booking_id == here.booking_id
    get_role("calendar").cancel(booking_id=here.booking_id)
    again = book("lead:7:meeting:4:booking")  # booked again at the same time: a booking of its own
    assert again.booking_id != here.booking_id
    assert SandboxEvent.objects.filter(subject=again.booking_id, kind="booking_created").exists()
