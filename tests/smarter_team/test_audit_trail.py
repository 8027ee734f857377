"""One audit trail: staff edits and admin actions are AuditLog rows, and the console's "Recent actions"
and History pages read AuditLog, whoever acted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import AgentRun, AuditLog, Budget
from agents.services.audit import record_change
from crm.models import Lead, Mailbox
from learning.models import FAQ
from tests.factories.agents import AgentRunFactory, BudgetFactory
from tests.factories.crm import LeadFactory, MailboxFactory
from tests.factories.integrations import WebhookEventFactory
from tests.factories.learning import ErrorLogFactory, FAQFactory

pytestmark = pytest.mark.django_db


def _budget_form(budget: Budget, **changes: Any) -> dict[str, Any]:
    data = {
        "scope": budget.scope,
        "key": budget.key,
        "period": budget.period,
        "limit": str(budget.limit),
        "currency": budget.currency,
        "on_exceed": budget.on_exceed,
        "active": "on" if budget.active else "",
        "paused_until_0": "",
        "paused_until_1": "",
    }
    return {**data, **changes}


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_a_staff_edit_lands_in_the_audit_log_with_before_and_after(staff_client: Any) -> None:
    budget = BudgetFactory.create(limit=Decimal("10.00"))
    url = reverse("admin:agents_budget_change", args=[budget.pk])

    staff_client.post(url, _budget_form(budget, limit="12.50"))

    entry = AuditLog.objects.get(action="budget.change")
    assert entry.user is not None and entry.target_type is not None
    assert (entry.actor_type, entry.actor, entry.user.get_username()) == ("user", "root", "root")
    assert (entry.before, entry.after) == ({"limit": "10.00"}, {"limit": "12.50"})
    assert entry.target_id == str(budget.pk) and entry.target_type.model == "budget"
    assert not LogEntry.objects.exists()  # one trail: Django's own log stays empty


def test_adding_and_deleting_are_audited_deletions_with_what_the_row_held(staff_client: Any) -> None:
    template = Budget(scope="agent", key="copywriting", period="day", limit=Decimal("3"), currency="USD")
    staff_client.post(reverse("admin:agents_budget_add"), _budget_form(template, active="on"))
    budget = Budget.objects.get(key="copywriting")
    added = AuditLog.objects.get(action="budget.add")
    assert added.before is None and added.after == {**(added.after or {}), "key": "copywriting", "limit": "3"}

    others = BudgetFactory.create_batch(2)
    staff_client.post(reverse("admin:agents_budget_delete", args=[budget.pk]), {"post": "yes"})
    staff_client.post(
        reverse("admin:agents_budget_changelist"),
        {"action": "delete_selected", "_selected_action": [b.pk for b in others], "post": "yes"},
    )
    deleted = AuditLog.objects.filter(action="budget.delete").order_by("pk")
    assert [e.target_id for e in deleted] == [str(budget.pk), *(str(b.pk) for b in others)]
    assert (deleted[0].before or {}).get("key") == "copywriting" and not Budget.objects.exists()


def test_other_apps_admins_are_audited_and_passwords_never_reach_the_trail(staff_client: Any) -> None:
    user = get_user_model().objects.create_user("mara", password="first-pass-123")
    staff_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "second-pass-456", "password2": "second-pass-456", "usable_password": "true"},
    )
    entry = AuditLog.objects.get(action="user.change", target_id=str(user.pk))
    assert entry.actor == "root" and "second-pass" not in str(entry.after) and "md5" not in str(entry.after)
    user.refresh_from_db()
    assert user.check_password("second-pass-456")


def test_a_records_history_is_its_audit_trail(staff_client: Any) -> None:
    run = AgentRunFactory.create(status=AgentRun.Status.FAILED)
    record_change(action="run.note", target=run, after={"status": "failed"}, run=run)  # an agent's write
    staff_client.post(
        reverse("admin:agents_agentrun_changelist"), {"action": "retry_selected", "_selected_action": [run.pk]}
    )
    page = staff_client.get(reverse("admin:agents_agentrun_history", args=[run.pk]))
    entries = page.context["entries"]
    assert [(e.action, e.actor) for e in entries] == [("run.retry", "root"), ("run.note", run.agent_name)]
    assert [(c.field, c.after) for c in entries[0].changes] == [("status", "queued")]
    assert "run.retry" in page.content.decode()


def test_recent_actions_show_an_import_a_suppression_and_a_replay(staff_client: Any) -> None:
    upload = SimpleUploadedFile("leads.csv", b"email,name\njane@acme.example,Jane Doe\n", "text/csv")
    staff_client.post(reverse("admin:crm_lead_import_csv"), {"file": upload, "source": "fair"})
    lead = LeadFactory.create(email="bob@acme.example")
    staff_client.post(reverse("admin:crm_lead_changelist"), {"action": "suppress_leads", "_selected_action": [lead.pk]})
    event = WebhookEventFactory.create(status="failed")
    staff_client.post(
        reverse("admin:integrations_webhookevent_changelist"),
        {"action": "replay_selected", "_selected_action": [event.pk]},
    )

    recent = staff_client.get(reverse("admin:index")).context["recent_actions"]
    assert [e.action for e in recent] == [
        "webhookevent.replay",
        "lead.suppress_leads",
        "lead.import_csv",
        "lead.import",
    ]
    suppression = recent[1]
    assert suppression.target_url == reverse("admin:crm_lead_change", args=[lead.pk])
    assert {c.field: c.after for c in suppression.changes}["status"] == "unsubscribed"
    imported = Lead.objects.get(email="jane@acme.example")
    history = staff_client.get(reverse("admin:crm_lead_history", args=[imported.pk])).context["entries"]
    assert [e.action for e in history] == ["lead.import"]


def test_an_action_that_changes_nothing_warns_instead_of_reporting_success(staff_client: Any) -> None:
    paused = MailboxFactory.create(paused=True, paused_reason="warming up")
    response = staff_client.post(
        reverse("admin:crm_mailbox_changelist"),
        {"action": "pause_mailboxes", "_selected_action": [paused.pk]},
        follow=True,
    )
    assert _messages(response) == [("warning", f"Nothing changed: {paused}.")]
    assert not AuditLog.objects.filter(action__startswith="mailbox.").exists()

    faq = FAQFactory.create(approved=True)
    response = staff_client.post(
        reverse("admin:learning_faq_changelist"), {"action": "approve", "_selected_action": [faq.pk]}, follow=True
    )
    assert _messages(response) == [("warning", f"Nothing changed: already approved; {faq}.")]

    error = ErrorLogFactory.create()
    for expected in ("success", "warning"):  # resolved, then already resolved
        response = staff_client.post(
            reverse("admin:learning_errorlog_changelist"),
            {"action": "mark_resolved", "_selected_action": [error.pk]},
            follow=True,
        )
        assert [level for level, _ in _messages(response)] == [expected]


def test_a_service_action_that_changes_rows_audits_each_with_its_diff(staff_client: Any) -> None:
    live, paused = MailboxFactory.create(), MailboxFactory.create(paused=True)
    response = staff_client.post(
        reverse("admin:crm_mailbox_changelist"),
        {"action": "pause_mailboxes", "_selected_action": [live.pk, paused.pk]},
        follow=True,
    )
    assert [level for level, _ in _messages(response)] == ["success", "warning"]
    entry = AuditLog.objects.get(action="mailbox.pause_mailboxes")
    assert entry.target_id == str(live.pk) and (entry.before, entry.after) == (
        {"paused": False, "paused_reason": ""},
        {"paused": True, "paused_reason": "paused by root"},
    )
    assert Mailbox.objects.filter(paused=True).count() == 2
    assert FAQ.objects.count() == 0


def test_recent_actions_fold_a_run_of_one_action_into_one_line(staff_client: Any) -> None:
    rows = "".join(f"lead{i}@acme.example,Lead {i}\n" for i in range(14))
    upload = SimpleUploadedFile("leads.csv", f"email,name\n{rows}".encode(), "text/csv")
    staff_client.post(reverse("admin:crm_lead_import_csv"), {"file": upload, "source": "fair"})
    page = staff_client.get(reverse("admin:index"))
    recent = page.context["recent_actions"]
    assert [(e.action, e.repeat) for e in recent] == [("lead.import_csv", 1), ("lead.import", 14)]
    assert "fair: 14 created, 0 updated, 0 unchanged, 0 rejected" in page.content.decode()
    assert "and 13 more" in page.content.decode()
