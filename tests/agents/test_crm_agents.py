"""The two proof agents: data_validation -> deduplication, run in-process through the runtime."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents import runtime
from agents.models import AgentRun, AuditLog
from agents.services.runs import start_run
from crm.models import Company, Lead
from tests.agents.helpers import output_of
from tests.factories.crm import CampaignFactory, CompanyFactory, EnrollmentFactory, LeadFactory
from tests.plans import rows_thrown_away

pytestmark = pytest.mark.django_db


def _run(agent: str, data: dict) -> AgentRun:
    run = start_run(agent_name=agent, input=data, trigger="handoff", enqueue=False)
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED, run.error
    return run


def _child(run: AgentRun) -> AgentRun:
    return AgentRun.objects.get(parent=run)


def test_validation_normalises_a_lead_and_hands_it_to_deduplication() -> None:
    lead = LeadFactory.create(
        first_name="  JANE   DOE ", last_name="", title=" Head   of  Sales ", time_zone="europe/berlin"
    )
    run = _run("data_validation", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert (lead.first_name, lead.last_name, lead.title) == ("Jane", "Doe", "Head of Sales")
    assert lead.time_zone == "Europe/Berlin"
    assert set(output_of(run)["changed"]) == {"first_name", "last_name", "title", "time_zone"}
    assert output_of(run)["rejected"] is False
    entry = AuditLog.objects.get(action="lead.normalise", target_id=str(lead.pk))
    assert entry.before == {"first_name": "  JANE   DOE ", "last_name": "", "title": " Head   of  Sales ",
                            "time_zone": "europe/berlin"}  # fmt: skip
    assert entry.after == {
        "first_name": "Jane",
        "last_name": "Doe",
        "title": "Head of Sales",
        "time_zone": "Europe/Berlin",
    }
    child = _child(run)
    assert child.agent_name == "deduplication" and child.input["lead_id"] == lead.pk


def test_validation_guesses_the_time_zone_and_drops_an_invalid_phone() -> None:
    lead = LeadFactory.create(country="FR", time_zone="", phone="+33000000000")
    run = _run("data_validation", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert lead.time_zone == "Europe/Paris"
    assert lead.phone == "" and "phone" in output_of(run)["dropped"]


@pytest.mark.parametrize(
    ("first", "last"),
    [('=HYPERLINK("http://x.test")', "+cmd"), ("<b>Jane</b>", "Doe"), ("Jane", "https://x.test"), ("J4ne", "D0e")],
)
def test_validation_drops_a_name_that_is_no_name(first: str, last: str) -> None:
    # It would be written into a cold email's greeting; the copy greets without a name instead.
    lead = LeadFactory.create(first_name=first, last_name=last)
    run = _run("data_validation", {"lead_id": lead.pk})
    lead.refresh_from_db()
    dropped = output_of(run)["dropped"]
    assert dropped and all("not a person's name" in why for why in dropped.values())
    assert (lead.first_name or first) == first and (lead.last_name or last) == last
    assert lead.first_name != first or lead.last_name != last


@pytest.mark.parametrize(
    "name",
    ["Zoë Ólafsdóttir", "Nguyễn Văn An", "王 小明", "Seán O'Neil-Smith", "Jean\u2011Luc D\u2019Angelo",
     "Åsa St. John Jr.", "Müller, Hans", "Анна Петрова"],
)  # fmt: skip
def test_validation_keeps_names_of_every_script_and_their_punctuation(name: str) -> None:
    first, _, last = name.partition(" ")
    lead = LeadFactory.create(first_name=first, last_name=last)
    run = _run("data_validation", {"lead_id": lead.pk})
    assert "first_name" not in output_of(run)["dropped"] and "last_name" not in output_of(run)["dropped"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"first_name": "test", "last_name": "test"}, "placeholder name"),
        ({"email": "jane@example.com"}, "placeholder address"),
        ({"email": "jane@mailinator.com"}, "disposable address"),
        ({"email": "jane@@acme.com"}, "invalid email"),
        ({"first_name": "", "last_name": "", "email": None, "linkedin_url": ""}, "nobody to contact"),
    ],
)
def test_validation_rejects_junk_with_reasons(fields: dict, reason: str) -> None:
    lead = LeadFactory.create(**fields)
    run = _run("data_validation", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert output_of(run)["rejected"] is True
    assert any(reason in r for r in output_of(run)["reasons"]), output_of(run)["reasons"]
    assert lead.status == Lead.Status.DISQUALIFIED
    assert any(reason in r for r in lead.score_reasons)
    assert not AgentRun.objects.filter(parent=run).exists()  # junk goes no further


def test_a_company_without_domain_gets_its_leads_domain_and_merges_into_the_owner() -> None:
    owner = CompanyFactory.create(domain="acme.com", name="Acme", industry="")
    twin = CompanyFactory.create(domain=None, name="ACME  Inc", industry="Logistics")
    LeadFactory.create(company=twin, email="bob@acme.com")
    run = _run("data_validation", {"company_id": twin.pk})
    assert output_of(run)["duplicate_of"] == owner.pk
    dedup = _child(run)
    assert dedup.input == {"company_id": twin.pk, "domain": "acme.com", "lead_id": None, "email": None}
    runtime.execute(dedup.pk)
    dedup.refresh_from_db()
    assert output_of(dedup)["merged_companies"] == [[twin.pk, owner.pk]]
    twin.refresh_from_db()
    owner.refresh_from_db()
    assert twin.merged_into == owner and owner.industry == "Logistics"  # blanks filled, nothing overwritten
    assert owner.leads.filter(email="bob@acme.com").exists()  # the lead moved with it
    assert AuditLog.objects.filter(action="company.merged", target_id=str(twin.pk), run=dedup).exists()


def test_deduplication_merges_same_name_at_the_same_domain_keeping_history() -> None:
    acme = CompanyFactory.create(domain="acme.com")
    older = LeadFactory.create(first_name="Ann", last_name="Lee", email="ann@acme.com", company=acme, phone="")
    newer = LeadFactory.create(first_name="ann", last_name="LEE", email="a.lee@acme.com", company=None, title="CFO")
    campaign = CampaignFactory.create()
    EnrollmentFactory.create(lead=newer, campaign=campaign)
    run = _run("deduplication", {"lead_id": newer.pk})
    assert output_of(run)["merged_leads"] == [[newer.pk, older.pk]]
    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.merged_into == older and newer.do_not_contact  # kept, never contacted again
    assert older.phone == newer.phone and older.email == "ann@acme.com"
    assert older.enrollments.filter(campaign=campaign).exists()
    survivor_entry = AuditLog.objects.get(action="lead.merge_survivor", target_id=str(older.pk))
    assert survivor_entry.after == {"phone": newer.phone, "absorbed": newer.pk}  # only blanks are filled


def test_a_survivor_without_an_address_takes_the_duplicates_which_is_released_first() -> None:
    acme = CompanyFactory.create(domain="acme.com")
    keep = LeadFactory.create(first_name="Ann", last_name="Lee", email=None, company=acme, status=Lead.Status.QUALIFIED)
    drop = LeadFactory.create(first_name="Ann", last_name="Lee", email="ann@acme.com", company=acme)

    run = _run("deduplication", {"lead_id": drop.pk})

    assert output_of(run)["merged_leads"] == [[drop.pk, keep.pk]]
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert keep.email == "ann@acme.com" and drop.email is None  # the address is unique: one holder
    assert drop.merged_into == keep
    merged = AuditLog.objects.get(action="lead.merged", target_id=str(drop.pk))
    assert merged.after is not None and merged.after["was"]["email"] == "ann@acme.com"  # its history keeps it


def test_an_unsubscribed_duplicate_makes_the_survivor_unsubscribed_too() -> None:
    acme = CompanyFactory.create(domain="acme.com")
    keep = LeadFactory.create(
        first_name="Max", last_name="Roe", email="max@acme.com", company=acme, status=Lead.Status.CONTACTED
    )
    gone = LeadFactory.create(
        first_name="Max", last_name="Roe", email="m.roe@acme.com", company=acme,
        status=Lead.Status.UNSUBSCRIBED, do_not_contact=True,
    )  # fmt: skip
    _run("deduplication", {"lead_id": gone.pk})
    keep.refresh_from_db()
    assert keep.do_not_contact and keep.status == Lead.Status.UNSUBSCRIBED


def test_the_nightly_sweep_finds_duplicates_by_itself() -> None:
    acme = CompanyFactory.create(domain="acme.com")
    LeadFactory.create(first_name="Kim", last_name="Park", email="kim@acme.com", company=acme)
    LeadFactory.create(first_name="KIM", last_name="park", email="k.park@acme.com", company=acme)
    LeadFactory.create(first_name="Kim", last_name="Other", email="other@acme.com", company=acme)
    run = _run("deduplication", {})
    assert len(output_of(run)["merged_leads"]) == 1
    assert Lead.objects.filter(merged_into__isnull=True, company=acme).count() == 2
    assert Company.objects.count() == 1


@pytest.mark.postgresql
def test_a_new_lead_is_compared_with_its_namesakes_not_with_every_lead() -> None:
    acme = CompanyFactory.create(domain="acme.com")
    # Leads already in the database, none of them this lead's namesake. Thousands, as a real book
    # has: on a few hundred rows (a dozen pages) a sequential scan is the planner's right choice,
    # and the test failed whenever the statistics were fresh.
    Lead.objects.bulk_create(
        Lead(first_name="Ann", last_name=f"Other{n}", email=f"ann{n}@example{n}.com", source="factory")
        for n in range(5_000)
    )
    LeadFactory.create(first_name="Ann", last_name="Lee", email="ann@acme.com", company=acme)
    newer = LeadFactory.create(first_name="ann", last_name="LEE", email="a.lee@acme.com", company=None)
    with CaptureQueriesContext(connection) as seen:
        run = _run("deduplication", {"lead_id": newer.pk})
    assert len(output_of(run)["merged_leads"]) == 1
    read = rows_thrown_away(seen.captured_queries, table="crm_lead")
    assert read and not [(n, sql) for n, sql in read if n > 30], read
