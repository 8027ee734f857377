"""verify_email and seed_demo commands; new leads from CSV or the admin enter the chain at once."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from agents.models import AgentRun
from crm.models import IdealCustomerProfile, Lead, Mailbox
from crm.services.imports import import_leads_csv
from integrations.sandbox import market

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandbox(settings: Any) -> None:
    settings.INTEGRATION_KEYS = {name: "" for name in settings.INTEGRATION_KEYS}
    settings.EMAIL_MX_RESOLVER = "sandbox"


def _verify(*args: str) -> list[list[str]]:
    out = StringIO()
    call_command("verify_email", *args, stdout=out)
    return [line.split("\t") for line in out.getvalue().splitlines()]


def test_verify_email_offline_checks_syntax_and_lists_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market.SandboxMxResolver, "mx_hosts", lambda self, d: pytest.fail("DNS asked"))
    monkeypatch.setattr(market.SandboxEmailVerifier, "verify", lambda self, e: pytest.fail("provider asked"))
    rows = _verify("Jane@Acme.com", "info@acme.com", "x@mailinator.com", "nope", "--offline")
    assert [r[:2] for r in rows] == [
        ["jane@acme.com", "unknown"],
        ["info@acme.com", "role"],
        ["x@mailinator.com", "disposable"],
        ["nope", "invalid"],
    ]
    assert all(r[2] for r in rows)  # every verdict has its reason


def test_verify_email_reads_a_file_and_asks_mx_and_the_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(market.SandboxMxResolver, "mx_hosts", lambda self, d: [] if d == "nomail.com" else ["mx"])
    listing = tmp_path / "list.txt"
    listing.write_text("# prospects\nada@brightsaas.com\nbob@nomail.com\n")
    rows = _verify("--file", str(listing))
    assert rows[0][0] == "ada@brightsaas.com" and rows[0][1] in {"valid", "invalid", "risky", "catch_all"}
    assert rows[1][:2] == ["bob@nomail.com", "invalid"] and "no MX" in rows[1][2]


def test_verify_email_needs_input() -> None:
    with pytest.raises(CommandError):
        call_command("verify_email")


def test_seed_demo_is_idempotent_and_keeps_edits() -> None:
    call_command("seed_demo", verbosity=0)
    IdealCustomerProfile.objects.filter(name="Law firms (UK)").update(active=False)
    call_command("seed_demo", verbosity=0)
    assert IdealCustomerProfile.objects.count() == 2 and Mailbox.objects.count() == 2
    assert not IdealCustomerProfile.objects.get(name="Law firms (UK)").active


def test_the_demo_agency_sends_unattended_but_an_operators_profile_is_kept() -> None:
    from crm.services.agency import profile

    call_command("seed_demo", autopilot=True, verbosity=0)
    policy = profile().policy()
    assert policy.first_batch_size == 0  # nobody is there to approve the demo's first batch
    assert "interested" in policy.auto_send_intents and "objection" not in policy.auto_send_intents

    agency = profile()
    agency.autopilot = {"first_batch_size": 20}
    agency.save()
    call_command("seed_demo", autopilot=True, verbosity=0)
    assert profile().policy().first_batch_size == 20


def test_an_existing_profile_is_not_put_on_autopilot() -> None:
    from crm.services.agency import profile

    profile()  # an agency that existed before the demo was seeded
    call_command("seed_demo", autopilot=True, verbosity=0)
    assert profile().policy().first_batch_size == 20


def test_a_seeded_agency_gets_leads_without_anyone_doing_anything() -> None:
    from agents.testing import drain, run_agent

    call_command("seed_demo", verbosity=0)
    tick = run_agent("lead_list_builder", {})
    assert len(tick.output["searches_started"]) == 2
    assert not Lead.objects.exists()  # the leads arrive with the lead source's webhook
    drain()


def test_csv_imported_leads_enter_the_chain_once() -> None:
    csv = "email,first name,last name,company\nada@brightsaas.com,Ada,King,Bright\n"
    import_leads_csv(file=csv)
    import_leads_csv(file=csv)
    lead = Lead.objects.get()
    runs = AgentRun.objects.filter(agent_name="data_validation", input__lead_id=lead.pk)
    assert runs.count() == 1


def test_a_lead_added_in_the_admin_enters_the_chain(rf: Any, admin_user: Any) -> None:
    from django.contrib import admin

    lead_admin = admin.site._registry[Lead]
    request = rf.post("/admin/crm/lead/add/")
    request.user = admin_user
    lead = Lead(first_name="Ada", last_name="King", email="ada@brightsaas.com")
    lead_admin.save_model(request, lead, form=None, change=False)
    assert AgentRun.objects.filter(agent_name="data_validation", input__lead_id=lead.pk).exists()
    lead_admin.save_model(request, lead, form=None, change=True)
    assert AgentRun.objects.filter(agent_name="data_validation").count() == 1
