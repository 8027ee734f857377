"""The sandbox finds its records by who they concern through indexed columns the database computes
from each record's data, whoever wrote it (one by one or in bulk): a send or a research call costs
the same with ten thousand people in the world as with a hundred (bench/funnel)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import SandboxRecord
from integrations.roles import get_role
from integrations.sandbox import inbox
from integrations.sandbox.market import SandboxMxResolver, SandboxOutreach, SandboxWebResearch, find_company
from integrations.sandbox.rng import rng_for
from integrations.sandbox.store import records, remember
from integrations.sandbox.world import Person, search_people
from smarter_team import clock
from tests.plans import rows_thrown_away

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _people(count: int) -> list[Person]:
    people = search_people(query="dental clinics", location="", start=0, count=count)
    SandboxRecord.objects.bulk_create(
        [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people], ignore_conflicts=True
    )
    return people


def _send(person: Person, n: int, mailbox: str = "ada@mail.agency.test") -> None:
    SandboxOutreach().send_email(
        idempotency_key=f"email:enrollment:{n}:step:0",
        from_mailbox=mailbox,
        to=person.email,
        subject="A quick idea",
        body="Hello",
        headers={},
    )


def test_each_kind_is_found_by_the_address_it_concerns_and_a_person_by_domain_and_profile() -> None:
    person = _people(1)[0]
    remember(kind="document", ref="doc_1", data={"buyer": "buyer@acme.com", "recipients": [], "status": "sent"})
    remember(kind="booking", ref="bk_1", data={"attendee_email": "guest@acme.com", "start": "x"})
    remember(kind="customer", ref="cus_1", data={"email": "payer@acme.com", "customer_id": "cus_1"})
    remember(kind="project", ref="prj_1", data={"contact": "owner@acme.com", "domain": "acme.com"})
    remember(kind="search", ref="run_1", data={"query": "dental clinics"})
    with clock.frozen(MONDAY):
        _send(person, 1)

    row = SandboxRecord.objects.get(kind="person", ref=person.email)  # written in bulk
    assert (row.party, row.domain, row.profile) == (person.email, person.company.domain, person.linkedin_url)
    email = SandboxRecord.objects.get(kind="email")
    assert (email.party, email.sender) == (person.email, "ada@mail.agency.test")
    assert SandboxRecord.objects.get(kind="document").party == "buyer@acme.com"
    assert SandboxRecord.objects.get(kind="booking").party == "guest@acme.com"
    assert [r["customer_id"] for r in records(kind="customer", party="payer@acme.com")] == ["cus_1"]
    assert len(records(kind="project", party="owner@acme.com")) == len(records(kind="project", domain="acme.com")) == 1
    assert SandboxRecord.objects.get(kind="search").party is None
    assert find_company(person.company.domain.upper()) == person.company
    found = SandboxWebResearch().search(query=f"{person.full_name} {person.linkedin_url}")
    assert found.citations[0].url == person.linkedin_url


def test_a_profile_is_matched_whole_not_as_the_start_of_a_longer_one() -> None:
    person = _people(1)[0]
    shorter = person.linkedin_url[:-1]  # .../in/ada-smith-12 is not .../in/ada-smith-123
    answer = SandboxWebResearch().search(query=f"{person.full_name} {shorter}")
    assert not answer.citations or answer.citations[0].url != person.linkedin_url


def test_the_market_counts_what_each_person_and_mailbox_received() -> None:
    ada, bob = _people(2)
    with clock.frozen(MONDAY):
        for n in range(3):
            _send(ada, n)
        _send(bob, 9, mailbox="sam@mail.agency.test")
        assert inbox.cold_step(ada.email) == 4 and inbox.cold_step(bob.email) == 2
        assert inbox.mailbox_history("ada@mail.agency.test", clock.now()) == (0, 3)
        assert inbox.mailbox_history("sam@mail.agency.test", clock.now()) == (0, 1)


BACKGROUND = 300  # records of the same kinds about other people: what a scan would have to read


@pytest.mark.postgresql
def test_a_send_and_a_lead_s_research_read_only_the_records_they_concern() -> None:
    people = _people(BACKGROUND + 4)
    others = people[4:]
    SandboxRecord.objects.bulk_create(
        [
            SandboxRecord(kind="email", ref=f"msg_{n}", data={"to": p.email, "from_mailbox": f"m{n}@x.test"})
            for n, p in enumerate(others)
        ]
    )
    with clock.frozen(MONDAY), CaptureQueriesContext(connection) as seen:
        _send(people[0], 1)
        _send(people[0], 2)
        SandboxWebResearch().scrape(url=people[1].company.website + "/about")
        SandboxWebResearch().search(query=f"{people[2].full_name} {people[2].linkedin_url}")
        SandboxMxResolver().mx_hosts(people[3].company.domain)
    read = rows_thrown_away(seen.captured_queries, table="integrations_sandboxrecord")
    assert len(read) >= 8
    scans = [(n, sql) for n, sql in read if n >= BACKGROUND // 10]
    assert not scans, scans


def _booking(n: int, start: dt.datetime, status: str = "accepted") -> SandboxRecord:
    data = {"attendee_email": f"guest{n}@acme.com", "start": start.astimezone(dt.UTC).isoformat(), "status": status}
    return SandboxRecord(kind="booking", ref=f"bk_{n}", data=data)


def test_the_host_s_booked_slots_are_not_offered_and_a_cancelled_one_is_again() -> None:
    taken, freed = MONDAY.replace(hour=14), MONDAY.replace(hour=15)
    SandboxRecord.objects.bulk_create([_booking(1, taken), _booking(2, freed, status="cancelled")])
    with clock.frozen(MONDAY - dt.timedelta(days=3)):
        slots = get_role("calendar").available_slots(start=MONDAY, end=MONDAY + dt.timedelta(hours=8))
    offered = {s.start for s in slots}
    open_hours = {MONDAY + dt.timedelta(minutes=30 * k) for k in range(16)}
    assert taken not in offered
    # The rest is the host's seeded busy time alone: the cancelled booking frees its slot.
    assert offered == {s for s in open_hours - {taken} if rng_for("busy", s.isoformat()).random() >= 0.3}
    assert freed in offered or rng_for("busy", freed.isoformat()).random() < 0.3


@pytest.mark.postgresql
def test_the_free_slots_read_only_the_bookings_in_their_window() -> None:
    later = MONDAY + dt.timedelta(days=30)
    SandboxRecord.objects.bulk_create(
        # Later calls, some of them cancelled (a read of every booking throws those away).
        [_booking(n, later + dt.timedelta(minutes=30 * n), ("accepted", "cancelled")[n % 2]) for n in range(BACKGROUND)]
        + [_booking(-1, MONDAY)]
    )
    with clock.frozen(MONDAY - dt.timedelta(days=1)), CaptureQueriesContext(connection) as seen:
        slots = get_role("calendar").available_slots(start=MONDAY, end=MONDAY + dt.timedelta(days=2))
    assert MONDAY not in {s.start for s in slots}
    read = rows_thrown_away(seen.captured_queries, table="integrations_sandboxrecord")
    assert read and not [(n, sql) for n, sql in read if n >= BACKGROUND // 10], read
