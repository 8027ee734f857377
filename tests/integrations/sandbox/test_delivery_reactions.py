"""The delivery stage of the market: the project board's team and the client who watches it.

Each reaction's direction, on seeded tasks, projects and clients: plans with a buffer are on time
more often than tight ones, a share of planned work is dropped (never rework), clients add tasks of
their own now and then, reports lift the mood and silence lowers it, late or incomplete deliveries
cost, quick answers to what the client wrote lift it and no answer costs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from integrations.models import SandboxEvent, SandboxRecord
from integrations.roles import get_role
from integrations.sandbox import accounts, projects, work
from integrations.sandbox.world import search_people

pytestmark = pytest.mark.django_db


def client_person(index: int = 0, *, country: str = "") -> Any:
    people = [p for p in search_people(query="marketing agencies", location="", start=0, count=300)]
    person = [p for p in people if not country or p.company.country == country][index]
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    return person


def board(key: str, person: Any) -> str:
    description = f"Client: {person.company.name} ({person.company.domain})\nClient contact: {person.email}"
    return (
        get_role("project_tool")
        .create_project(idempotency_key=key, name=f"{key} build", description=description)
        .project_id
    )


def task(
    project_id: str,
    key: str,
    *,
    hours: float = 8,
    due: dt.date | None = None,
    milestone: str = "Build",
    title: str = "",
) -> Any:
    return get_role("project_tool").create_task(
        idempotency_key=key, project_id=project_id, title=title or f"Task {key}",
        description=f"Milestone: {milestone}\nEstimate: {hours}h", due=due,
    )  # fmt: skip


# --- the team on the board ------------------------------------------------------------------------
def test_tasks_progress_with_time_and_take_longer_than_estimated_on_average(frozen_clock: Any) -> None:
    person = client_person()
    project_id = board("p-time", person)
    made = task(project_id, "t1", hours=8)
    assert made.status in ("to do", "in progress") and not made.done
    frozen_clock.tick(dt.timedelta(days=30))
    assert get_role("project_tool").list_tasks(project_id=project_id)[0].done

    nominal = dt.timedelta(days=8 / work.FOCUS_HOURS_PER_DAY * work.CALENDAR_PER_WORKING_DAY)
    ratios = [work.duration({"task_id": f"sbx_tsk_{i}", "estimate_hours": 8}) / nominal for i in range(400)]
    mean = sum(ratios) / len(ratios)
    assert 1.1 < mean < 1.35  # Flyvbjerg and Budzier's 27% average overrun, roughly
    assert sum(1 for r in ratios if r < 1) > 80  # and some finish early


def test_the_team_does_not_take_up_a_task_before_its_start_date(frozen_clock: Any) -> None:
    project_id = board("p-starts", client_person())
    starts = (frozen_clock.now + dt.timedelta(days=20)).date()
    tool = get_role("project_tool")
    now = task(project_id, "t-now", hours=4)
    later = tool.create_task(
        idempotency_key="t-later", project_id=project_id, title="Monitor and tune (next month)",
        description=f"Milestone: Build\nEstimate: 4h\nStarts: {starts.isoformat()}", due=None,
    )  # fmt: skip
    frozen_clock.tick(dt.timedelta(days=10))
    shown = {t.task_id: t for t in tool.list_tasks(project_id=project_id)}
    # The task without a start date is done; the one that starts later has not been touched.
    assert shown[now.task_id].done and shown[later.task_id].status == work.TODO
    frozen_clock.tick(dt.timedelta(days=20))
    assert all(t.done for t in tool.list_tasks(project_id=project_id))


def test_next_months_work_does_not_hold_the_team_while_a_fix_waits(frozen_clock: Any) -> None:
    project_id = board("p-months", client_person())
    tool = get_role("project_tool")
    for month in range(1, 4):
        starts = (frozen_clock.now + dt.timedelta(days=30 * month)).date()
        for n in range(2):
            tool.create_task(
                idempotency_key=f"t-m{month}-{n}", project_id=project_id, title=f"Month {month} work {n}",
                description=f"Milestone: Operations {month}\nEstimate: 6h\nStarts: {starts.isoformat()}", due=None,
            )  # fmt: skip
    frozen_clock.tick(dt.timedelta(days=2))
    fix = task(project_id, "t-fix", hours=4, milestone="Build", title="Rework: fix the handover")
    frozen_clock.tick(dt.timedelta(days=5))
    # Taken up at once, not after the months planned ahead of it on the board.
    assert {t.task_id: t for t in tool.list_tasks(project_id=project_id)}[fix.task_id].done


def _on_time_share(frozen_clock: Any, *, buffer: float, projects_count: int = 40) -> float:
    start, person = frozen_clock.now, client_person()
    on_time = 0
    for n in range(projects_count):
        project_id = board(f"p-{buffer}-{n}", person)
        hours = [6.0, 10.0, 8.0, 12.0]
        # The team's nominal pace: two people, four focused hours a day each, on weekdays.
        needed = sum(hours) / (work.TEAM_SIZE * work.FOCUS_HOURS_PER_DAY) * work.CALENDAR_PER_WORKING_DAY
        due = (start + dt.timedelta(days=needed * buffer)).date()
        for i, h in enumerate(hours):
            task(project_id, f"p-{buffer}-{n}-t{i}", hours=h, due=due)
        finish = max(p.ends_at for p in work.schedule(project_id))
        on_time += finish.date() <= due
    return on_time / projects_count


def test_a_plan_with_a_buffer_is_on_time_more_often_than_a_tight_one(frozen_clock: Any) -> None:
    tight = _on_time_share(frozen_clock, buffer=1.0)
    buffered = _on_time_share(frozen_clock, buffer=1.5)
    assert buffered > tight + 0.25
    assert tight < 0.5


def test_a_share_of_planned_work_is_dropped_but_rework_never_is() -> None:
    planned = [work.dropped({"task_id": f"sbx_tsk_p{i}", "rework": False}) for i in range(2000)]
    assert 0.04 < sum(planned) / len(planned) < 0.08
    assert not any(work.dropped({"task_id": f"sbx_tsk_r{i}", "rework": True}) for i in range(500))


def dropping_title(project_id: str, prefix: str = "Gap") -> str:
    """A task title the seeded team of this board closes as "won't do"."""
    project = SandboxRecord.objects.get(kind="project", ref=project_id).data
    for i in range(1000):
        title = f"{prefix} {i}"
        seen = {"task_id": "", "identity": f"{project['domain']}\x1f{project['name']}\x1f{title}", "rework": False}
        if work.dropped(seen):
            return title
    raise AssertionError("no task of a thousand is dropped")


def quiet_clients() -> None:
    """Take back what the clients planned to write, for tests about something else."""
    SandboxRecord.objects.filter(kind="client_message").delete()
    SandboxEvent.objects.filter(kind__startswith="client_").delete()


def test_a_dropped_task_closes_as_wont_do(frozen_clock: Any) -> None:
    project_id = board("p-drop", client_person())
    task(project_id, "dropped", hours=1, title=dropping_title(project_id))
    task(project_id, "kept", hours=1)
    frozen_clock.tick(dt.timedelta(days=10))
    tasks = get_role("project_tool").list_tasks(project_id=project_id)
    assert sorted(t.status for t in tasks) == ["complete", "won't do"]
    assert all(t.done for t in tasks)


def test_now_and_then_the_client_adds_a_task_of_their_own(frozen_clock: Any) -> None:
    now = frozen_clock.now.isoformat()
    added = [work.client_task({"project_id": f"sbx_prj_{i}", "created_at": now}) for i in range(400)]
    share = sum(1 for a in added if a is not None) / len(added)
    assert 0.18 < share < 0.32
    when, extra = next(a for a in added if a is not None)
    assert dt.timedelta(days=3) <= when - frozen_clock.now <= dt.timedelta(days=20)
    assert extra.title.startswith("Client:") and not extra.done


# --- the client's mood ----------------------------------------------------------------------
def test_reports_lift_more_when_specific_and_when_the_client_is_less_content() -> None:
    assert projects.report_lift(mood=0.5, specific=True) > projects.report_lift(mood=0.5, specific=False) > 0
    assert projects.report_lift(mood=0.4, specific=True) > projects.report_lift(mood=0.7, specific=True)


def test_reports_bring_a_client_to_content_but_do_not_delight_one_who_is() -> None:
    assert projects.report_lift(mood=0.75, specific=True) > 0
    assert projects.report_lift(mood=projects.REPORTS_CONTENT, specific=True) == 0
    assert projects.report_lift(mood=0.95, specific=True) == 0


def discontent(person: Any, mood: float = 0.5) -> None:
    """Bring the client below content (a new client starts near it, reports lift only below it)."""
    accounts.move(person.email, mood - accounts.mood(person.email), key="test:discontent", reason="test")


def test_silence_costs_only_after_two_weeks() -> None:
    assert projects.silence_penalty(since_last_word=dt.timedelta(days=10)) == 0
    assert projects.silence_penalty(since_last_word=dt.timedelta(days=15)) < 0


def test_late_and_incomplete_deliveries_cost_and_on_time_complete_ones_earn() -> None:
    on_time = projects.delivery_effect(late_days=0, gap=False)
    assert on_time > 0
    assert projects.delivery_effect(late_days=3, gap=False) < on_time
    assert projects.delivery_effect(late_days=10, gap=False) < projects.delivery_effect(late_days=3, gap=False)
    assert projects.delivery_effect(late_days=30, gap=False) == projects.delivery_effect(late_days=60, gap=False)
    assert projects.delivery_effect(late_days=0, gap=True) < 0


def test_quick_answers_earn_and_slow_or_missing_ones_cost() -> None:
    quick = projects.answer_effect(waited=dt.timedelta(hours=2))
    day_two = projects.answer_effect(waited=dt.timedelta(hours=40))
    assert quick > day_two > projects.answer_effect(waited=dt.timedelta(days=4)) == projects.answer_effect(waited=None)


def _send(to: str, subject: str, body: str, key: str) -> None:
    get_role("outreach").send_email(
        idempotency_key=key, from_mailbox="alex@agency.example", to=to, subject=subject, body=body, headers={}
    )


def test_mail_to_a_client_is_read_as_a_client_and_a_weekly_report_lifts_the_mood_once_a_week(frozen_clock: Any) -> None:
    person = client_person()
    prospect = client_person(1)
    board("p-report", person)
    discontent(person)
    before = accounts.mood(person.email)

    _send(person.email, "Weekly status report: week of 2026-03-02", "Build: 3 of 8 tasks done.", "r1")
    _send(person.email, "Weekly status report: week of 2026-03-02", "Build: 3 of 8 tasks done.", "r2")
    _send(prospect.email, "Idea for you", "Hi, unsubscribe here.", "cold-1")

    after = accounts.mood(person.email)
    assert before < after == pytest.approx(before + projects.report_lift(mood=before, specific=False), abs=1e-3)
    # No bounce, reply or opt-out planned for the client as if they were a prospect.
    assert not SandboxEvent.objects.filter(subject=person.email).exclude(kind__startswith="client_").exists()
    assert projects.is_client(person.email) and not projects.is_client(prospect.email)


def test_silence_lowers_the_mood_weekly_and_reports_prevent_it(frozen_clock: Any) -> None:
    quiet, reported = client_person(0), client_person(1)
    for name, person in (("quiet", quiet), ("reported", reported)):
        project_id = board(f"p-{name}", person)
        task(project_id, f"{name}-long", hours=200)  # work goes on for weeks
    quiet_clients()
    for person in (quiet, reported):
        discontent(person)
    start = {p.email: accounts.mood(p.email) for p in (quiet, reported)}
    for week in range(4):
        _send(reported.email, "Weekly status report", "Build: on track.", f"weekly-{week}")
        for _ in range(7):
            frozen_clock.tick(dt.timedelta(days=1))
            projects.notice_time_passing()
    assert accounts.mood(quiet.email) < start[quiet.email] - 0.04  # two silent weeks past the first two
    assert accounts.mood(reported.email) > start[reported.email]
    assert not projects.notice_time_passing()  # once a day


def test_news_of_their_work_other_than_a_report_is_hearing_from_us_too(frozen_clock: Any) -> None:
    delivered, quiet = client_person(0), client_person(1)
    due = (frozen_clock.now + dt.timedelta(days=5)).date()
    for name, person in (("delivered", delivered), ("quiet", quiet)):
        project_id = board(f"p-news-{name}", person)
        task(project_id, f"{name}-long", hours=200, milestone="Build")  # work goes on for weeks
        task(project_id, f"{name}-short", hours=2, due=due, milestone="Reporting")
    quiet_clients()
    assert projects.last_heard(delivered.email, now=frozen_clock.now) is None
    frozen_clock.tick(dt.timedelta(days=10))
    _send(delivered.email, "Delivered: Reporting is ready for your review", "Reporting: done.", "news-del")
    assert projects.last_heard(delivered.email, now=frozen_clock.now) == frozen_clock.now
    for _ in range(10):  # twenty days since the work began, ten since the delivery
        frozen_clock.tick(dt.timedelta(days=1))
        projects.notice_time_passing()

    def silenced(person: Any) -> bool:
        moves = SandboxRecord.objects.get(kind=accounts.KIND, ref=person.email).data["moves"]
        return any(m["key"].startswith("silence:") for m in moves)

    assert silenced(quiet) and not silenced(delivered)


def test_a_meeting_they_came_to_is_hearing_from_us_and_one_they_missed_is_not(frozen_clock: Any) -> None:
    person = client_person(2)
    now = frozen_clock.now
    for ref, days_ago, no_show in (("bk-missed", 1, True), ("bk-held", 3, False), ("bk-later", -2, False)):
        start = (now - dt.timedelta(days=days_ago)).isoformat()
        SandboxRecord.objects.create(
            kind="booking",
            ref=ref,
            data={
                "booking_id": ref,
                "attendee_email": person.email,
                "start": start,
                "status": "accepted",
                "no_show": no_show,
            },
        )
    assert projects.last_heard(person.email, now=now) == now - dt.timedelta(days=3)


def test_a_milestone_delivered_on_time_and_complete_earns_and_one_with_a_gap_costs(frozen_clock: Any) -> None:
    due = (frozen_clock.now + dt.timedelta(days=30)).date()
    good, bad = client_person(0), client_person(1)
    for name, person in (("good", good), ("bad", bad)):
        project_id = board(f"p-{name}", person)
        for i in range(3):
            task(project_id, f"{name}-{i}", hours=2, due=due, milestone="Reporting")
    bad_board = board("p-bad", bad)
    task(bad_board, "gap", hours=2, due=due, milestone="Reporting", title=dropping_title(bad_board))  # dropped
    frozen_clock.tick(dt.timedelta(days=10))
    moods = {p.email: accounts.mood(p.email) for p in (good, bad)}

    for person in (good, bad):
        _send(person.email, "Delivered: Reporting is ready for your review", "Reporting: done.", f"del-{person.email}")

    assert accounts.mood(good.email) > moods[good.email]
    assert accounts.mood(bad.email) < moods[bad.email]


def test_a_milestone_named_in_the_clients_own_long_words_is_delivered_and_no_longer_overdue(frozen_clock: Any) -> None:
    person = client_person(3)
    project_id = board("p-long-name", person)
    name = "Workflow automation: onboarding a new client takes us almost three weeks of back and forth by email"
    due = (frozen_clock.now + dt.timedelta(days=3)).date()
    task(project_id, "long-1", hours=2, due=due, milestone=name)
    frozen_clock.tick(dt.timedelta(days=12))
    before = accounts.mood(person.email)

    _send(person.email, f"Delivered: {name} is ready for your review", f"{name}: done.", "del-long")

    assert accounts.mood(person.email) != before  # seen (a late delivery, here), and recorded once
    assert SandboxRecord.objects.filter(kind="milestone_delivered", data__name=name).count() == 1
    frozen_clock.tick(dt.timedelta(days=7))
    quiet_clients()
    projects.notice_time_passing()
    moves = SandboxRecord.objects.get(kind=accounts.KIND, ref=person.email).data["moves"]
    assert not any("not delivered" in m["reason"] for m in moves)


def test_a_reworked_gap_is_delivered_clean(frozen_clock: Any) -> None:
    person = client_person(2)
    project_id = board("p-rework", person)
    due = (frozen_clock.now + dt.timedelta(days=30)).date()
    task(project_id, "gap", hours=2, due=due, milestone="Reporting", title=dropping_title(project_id))
    task(project_id, "fix-it", hours=2, due=due, milestone="Reporting", title="M2. Rework 1.1: reports complete")
    frozen_clock.tick(dt.timedelta(days=10))
    before = accounts.mood(person.email)
    _send(person.email, "Delivered: Reporting is ready for your review", "Reporting: done.", "del-rework")
    assert accounts.mood(person.email) > before


def _move(email: str, key: str) -> float:
    moves = SandboxRecord.objects.get(kind="client_mood", ref=email).data["moves"]
    return float(next(m["delta"] for m in moves if m["key"] == key))


def test_clients_write_now_and_then_and_a_quick_answer_earns_where_none_costs(frozen_clock: Any) -> None:
    counts, people = [], [client_person(n) for n in range(3)]
    for n in range(60):
        project_id = board(f"p-msg-{n}", people[n % 3])
        counts.append(
            SandboxRecord.objects.filter(
                kind="client_message", ref__startswith=f"instantly:client:{project_id}:"
            ).count()
        )
    assert 0.5 < sum(1 for c in counts if c) / len(counts) < 0.8  # about half the projects see a change asked
    messages = [
        m for m in SandboxRecord.objects.filter(kind="client_message").order_by("pk") if m.data["kind"] != "thanks"
    ]
    answered = messages[0]
    ignored = next(m for m in messages[1:] if m.data["email"] != answered.data["email"])
    event = SandboxEvent.objects.get(key=answered.ref)
    assert event.payload["event_type"] == "reply_received" and event.payload["lead_email"] == answered.data["email"]
    assert event.payload["reply_subject"] == answered.data["subject"]

    frozen_clock.set(dt.datetime.fromisoformat(answered.data["asked_at"]) + dt.timedelta(hours=2))
    _send(answered.data["email"], f"Re: {answered.data['subject']}", "Thanks, we are on it.", "answer-1")
    assert _move(answered.data["email"], f"answer:{answered.ref}") == projects.ANSWERED_QUICKLY
    # An answer is news from us (silence is counted from it), as a report or a delivery is.
    assert projects.last_heard(answered.data["email"], now=frozen_clock.now) == frozen_clock.now

    frozen_clock.set(dt.datetime.fromisoformat(ignored.data["asked_at"]) + dt.timedelta(days=4))
    projects.notice_time_passing()
    assert _move(ignored.data["email"], f"answer:{ignored.ref}") == projects.ANSWERED_SLOWLY
    assert projects.last_heard(ignored.data["email"], now=frozen_clock.now) is None


def test_a_german_client_sometimes_writes_in_german() -> None:
    person = client_person(0, country="Germany")
    kinds = []
    for n in range(40):
        board(f"p-de-{n}", person)
    kinds = [m.data["german"] for m in SandboxRecord.objects.filter(kind="client_message")]
    assert any(kinds) and not all(kinds)


def test_a_client_with_an_upsell_out_still_reads_our_reports_and_deliveries(frozen_clock: Any) -> None:
    from integrations.sandbox.deals import SandboxDocuments
    from integrations.values import Recipient

    person = client_person(4)
    project_id = board("p-upsell-out", person)
    due = (frozen_clock.now + dt.timedelta(days=30)).date()
    task(project_id, "upsell-out-1", hours=2, due=due, milestone="Reporting")
    accounts.mood(person.email)  # a client the world knows (their mood is kept from the first mail on)
    documents = SandboxDocuments()
    offer = documents.create_document(
        idempotency_key="upsell:out", name="Voice agent for inbound calls",
        recipients=[Recipient(email=person.email, name="Client")], content="A voice agent.",
    )  # fmt: skip
    documents.send_document(document_id=offer.document_id)
    assert SandboxRecord.objects.get(kind="document", ref=offer.document_id).data["client_offer"]
    frozen_clock.tick(dt.timedelta(days=3))  # the offer is still open to the world's eyes ("sent")
    before = accounts.mood(person.email)

    _send(person.email, "Weekly status report: week of 2026-03-02", "Reporting: 1 of 1 tasks done.", "up-r1")
    _send(person.email, "Delivered: Reporting is ready for your review", "Reporting: done.", "up-d1")

    # Both read: the report lifted them, the delivery was recorded (no longer overdue).
    assert accounts.mood(person.email) > before
    assert SandboxRecord.objects.filter(kind="client_report_seen", party=person.email).exists()
    assert SandboxRecord.objects.filter(kind="milestone_delivered", data__name="Reporting").exists()


def test_a_client_who_left_is_not_weighed_down_by_the_work_they_left_but_one_who_stays_still_is(
    frozen_clock: Any,
) -> None:
    from integrations.sandbox import offboarding

    gone, staying = client_person(0), client_person(1)
    due = (frozen_clock.now + dt.timedelta(days=3)).date()
    for name, person in (("gone", gone), ("staying", staying)):
        project_id = board(f"p-left-{name}", person)
        task(project_id, f"left-{name}", hours=400, due=due)  # months of work, late from the first week
    quiet_clients()
    # The client who leaves gets their handover (as offboarding sends it): the world notes the exit.
    _send(gone.email, f"{gone.company.name}: handover of what we built", "What we built and how to run it.", "ho")
    assert offboarding.left_at(gone.email) is not None
    start = {p.email: accounts.mood(p.email) for p in (gone, staying)}
    for _ in range(35):
        frozen_clock.tick(dt.timedelta(days=1))
        projects.notice_time_passing()
    assert accounts.mood(gone.email) == start[gone.email]
    assert accounts.mood(staying.email) < start[staying.email] - 0.1  # neglect still costs those who stay
