"""The console as a person sees it: a real browser logs in, reads the dashboard, a changelist and a
failed run's page, and every figure it reads must equal what the database holds.

The same walk takes the README's screenshots (UPDATE_SCREENSHOTS=1 writes them to docs/screenshots).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from agents.models import AgentRun, Escalation
from crm.models import Lead, Message
from learning.models import ErrorLog
from sales.models import Meeting, Proposal
from smarter_team import clock
from tests.browser.conftest import WINDOW
from tests.factories.agents import AgentRunFactory, BudgetFactory, EscalationFactory, HealthCheckFactory
from tests.factories.crm import EnrollmentFactory, LeadFactory, MessageFactory
from tests.factories.learning import ErrorLogFactory
from tests.factories.sales import ClientFactory, InvoiceFactory, MeetingFactory, PaymentFactory, ProposalFactory

# live_server answers from another thread: the rows must be committed, not held in a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-for-the-browser-only"

# A working morning's worth of runs: (agent, status, how many).
RUNS = (
    ("lead_research", "succeeded", 4),
    ("email_verification", "succeeded", 3),
    ("lead_scoring", "succeeded", 3),
    ("cold_email", "succeeded", 2),
    ("reply_handler", "succeeded", 1),
    ("meeting_scheduler", "queued", 1),
)


def _agency(handle: clock.FrozenClock) -> AgentRun:
    """A small agency a few hours into its day; returns the run that failed."""
    day_start = handle.now.replace(hour=6)
    for status in ("new", "new", "qualified", "contacted", "replied", "meeting_booked", "bounced"):
        LeadFactory.create(status=status)
    # A funnel that narrows as a real one does (the README's picture): 5 emails, 3 replies, 3 calls
    # booked (one still to come), 2 held, 2 proposals sent, 1 signed.
    for n in range(5):
        enrollment = EnrollmentFactory.create(lead__status="replied" if n < 3 else "contacted")
        MessageFactory.create(enrollment=enrollment)
        if n < 3:
            MessageFactory.create(enrollment=enrollment, direction="in", status="delivered")
    MeetingFactory.create()
    for days in (1, 2):
        MeetingFactory.create(status="held", starts_at=handle.now - dt.timedelta(days=days))
    ProposalFactory.create(sent=True)
    ProposalFactory.create(signed=True)
    PaymentFactory.create(invoice=InvoiceFactory.create(client=ClientFactory.create(), paid=True))
    for i, (agent, status, count) in enumerate(RUNS):
        for n in range(count):
            at = day_start + dt.timedelta(hours=(i + n) % 3, minutes=7 * n)
            done = at + dt.timedelta(seconds=40) if status == "succeeded" else None
            AgentRunFactory.create(
                agent_name=agent, status=status, created_at=at, due_at=at, started_at=done and at, finished_at=done
            )
    failed = AgentRunFactory.create(
        agent_name="data_validation",
        status="failed",
        input={"lead_id": 4},
        error="ValueError: lead 4 has no company domain",
        attempts=3,
        created_at=handle.now - dt.timedelta(minutes=40),
        due_at=handle.now - dt.timedelta(minutes=40),
        started_at=handle.now - dt.timedelta(minutes=39),
        finished_at=handle.now - dt.timedelta(minutes=38),
    )
    ErrorLogFactory.create(run=failed, agent_name="data_validation", message="lead 4 has no company domain")
    EscalationFactory.create(reason="Send the proposal with a 25% discount?")
    EscalationFactory.create(kind="policy", reason="A reply asks for a phone call; who takes it?")
    EscalationFactory.create(assigned_group="manager", reason="Client asks to pause the retainer for a month")
    BudgetFactory.create(key="cold_email", limit="5.00")
    HealthCheckFactory.create(component="database")
    HealthCheckFactory.create(component="redis", latency_ms=1)
    return failed


def _count(driver: WebDriver, css: str) -> int:
    """The figure an element shows, read from its text (what the person sees), checked against its data-count."""
    element = driver.find_element(By.CSS_SELECTOR, css)
    shown = element.text.split()[0]
    assert shown == element.get_attribute("data-count"), css
    return int(shown)


def _screenshot(driver: WebDriver, to: Path, name: str, *, full_page: bool = False) -> None:
    # A page taller than the window is shot whole by growing the window to it for the shot.
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(WINDOW[0], max(WINDOW[1], int(height)))
    try:
        assert driver.save_screenshot(str(to / f"{name}.png")), name
    finally:
        driver.set_window_size(*WINDOW)


def _log_in(driver: WebDriver, base: str, username: str) -> None:
    driver.get(base + reverse("admin:login"))
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    assert driver.find_element(By.ID, "dashboard"), driver.title


def test_console_shows_what_the_database_holds(
    browser: WebDriver, live_server: Any, frozen_clock: clock.FrozenClock, django_user_model: Any, screenshot_dir: Path
) -> None:
    failed = _agency(frozen_clock)
    django_user_model.objects.create_superuser("ada", "ada@example.com", PASSWORD)
    browser.delete_all_cookies()
    _log_in(browser, live_server.url, "ada")

    # The dashboard: the funnel (all of it is inside the default 30-day window) and today's activity.
    funnel = {
        "leads": Lead.objects.count(),
        "emailed": Message.objects.filter(direction="out", enrollment__isnull=False).count(),
        "replied": Message.objects.filter(direction="in", status="delivered").count(),
        "booked": Meeting.objects.count(),
        "held": Meeting.objects.filter(status="held").count(),
        "proposed": Proposal.objects.filter(sent_at__isnull=False).count(),
        "signed": Proposal.objects.filter(status="signed").count(),
    }
    # The world is what _agency made (factories add the leads behind meetings, proposals, clients).
    assert funnel["leads"] > 7
    assert list(funnel.values())[1:] == [5, 3, 3, 2, 2, 1]
    shown = {key: _count(browser, f"#stage-{key} .dash-count") for key in funnel}
    assert shown == funnel
    today = {
        "runs-today": AgentRun.objects.count(),
        "runs-failed-today": AgentRun.objects.filter(status="failed").count(),
        "runs-queued": AgentRun.objects.filter(status="queued").count(),
        "emails-sent-today": Message.objects.filter(direction="out").count(),
        "replies-today": Message.objects.filter(direction="in").count(),
    }
    assert list(today.values()) == [15, 1, 1, 5, 3]
    assert {
        "runs-today": _count(browser, "#runs-today .dash-big"),
        "runs-failed-today": _count(browser, "#runs-failed-today"),
        "runs-queued": _count(browser, "#runs-queued"),
        "emails-sent-today": _count(browser, "#emails-sent-today .dash-big"),
        "replies-today": _count(browser, "#replies-today .dash-big"),
    } == today
    hours = browser.find_elements(By.CSS_SELECTOR, "#dash-hours rect.dash-hour")
    assert sum(int(h.get_attribute("data-count") or 0) for h in hours) == today["runs-today"]
    for group in ("operator", "manager"):
        waiting = Escalation.objects.filter(status="open", assigned_group=group).count()
        assert _count(browser, f"#escalations-{group}") == waiting
    assert _count(browser, "#escalations-operator") == 2
    assert browser.find_element(By.ID, "failing-data_validation")
    _screenshot(browser, screenshot_dir, "dashboard", full_page=True)

    # A changelist, reached the way a person would: the failed figure links to the failed runs.
    browser.find_element(By.ID, "runs-failed-today").click()
    assert [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody th a")] == [str(failed.pk)]
    browser.get(live_server.url + reverse("admin:agents_agentrun_changelist"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == AgentRun.objects.count()
    assert browser.find_element(By.CSS_SELECTOR, ".paginator").text.startswith(f"{AgentRun.objects.count()} ")
    _screenshot(browser, screenshot_dir, "agent-runs")

    # The failed run's page: its Retry button and the ErrorLog row that says why.
    browser.get(live_server.url + reverse("admin:agents_agentrun_change", args=[failed.pk]))
    assert browser.find_element(By.ID, "run-outcome").text.startswith("Outcome: failed")
    assert browser.find_element(By.ID, "run-retry").is_displayed()
    error = ErrorLog.objects.get(run=failed)
    link = browser.find_element(By.CSS_SELECTOR, f"#run-errors a[href$='/learning/errorlog/{error.pk}/change/']")
    assert link.text == f"#{error.pk}"
    _screenshot(browser, screenshot_dir, "failed-run")
    for name in ("dashboard", "agent-runs", "failed-run"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000, name
