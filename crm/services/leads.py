"""Write paths for leads and their companies: upsert from any source, status changes, qualification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from crm.models import Company, Lead
from crm.services import normalize
from crm.services.reference_data import FREE_MAIL_DOMAINS
from crm.services.suppression import is_suppressed, suppress

__all__ = [
    "LeadDataError",
    "LeadUpsertResult",
    "clean_lead_data",
    "create_or_update_lead",
    "get_or_create_company",
    "lead_disqualify",
    "lead_qualify",
    "lead_set_status",
]

# Plain text fields copied as given (trimmed, cut to the column's length).
_TEXT_FIELDS = ("first_name", "last_name", "title", "seniority", "source", "source_ref")
_COMPANY_FIELDS = ("industry", "employee_range", "revenue_band")


class LeadDataError(ValueError):
    """Lead data that cannot be stored; ``errors`` maps each field to the reason."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in self.errors.items()))


@dataclass(frozen=True)
class LeadUpsertResult:
    lead: Lead
    created: bool
    updated_fields: tuple[str, ...] = field(default=())


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def clean_lead_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise raw lead data; returns only the non-blank values. Raises LeadDataError.

    Accepts the Lead's own field names plus ``full_name``/``name`` (split into first/last) and
    ``company``/``company_name``, ``domain``/``website``/``company_domain`` for the company.
    """
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = _text(data.get(name))
        if value:
            out[name] = value[: Lead._meta.get_field(name).max_length]  # type: ignore[union-attr]
    full = _text(data.get("full_name") or data.get("name"))
    if full and not (out.get("first_name") or out.get("last_name")):
        first, last = normalize.split_name(full)
        out.update({k: v[:128] for k, v in (("first_name", first), ("last_name", last)) if v})

    email = _text(data.get("email"))
    if email:
        try:
            out["email"] = normalize.normalize_email(email)
        except ValueError as exc:
            errors["email"] = str(exc)
    country = _text(data.get("country"))
    if country:
        try:
            out["country"] = normalize.normalize_country(country)
        except ValueError as exc:
            errors["country"] = str(exc)
    phone = _text(data.get("phone"))
    if phone:
        try:
            out["phone"] = normalize.normalize_phone(phone, out.get("country"))
        except ValueError as exc:
            errors["phone"] = str(exc)
    time_zone = _text(data.get("time_zone"))
    if time_zone:
        try:
            out["time_zone"] = normalize.normalize_time_zone(time_zone)
        except ValueError as exc:
            errors["time_zone"] = str(exc)
    linkedin = _text(data.get("linkedin_url"))
    if linkedin:
        if "linkedin.com/" not in linkedin.lower():
            errors["linkedin_url"] = f"{linkedin!r} is not a LinkedIn profile URL"
        else:
            out["linkedin_url"] = linkedin if "://" in linkedin else f"https://{linkedin}"

    domain_raw = _text(data.get("domain") or data.get("company_domain") or data.get("website"))
    if domain_raw:
        try:
            out["company_domain"] = normalize.normalize_domain(domain_raw)
        except ValueError as exc:
            errors["domain"] = str(exc)
    company_name = _text(data.get("company_name") or data.get("company"))
    if company_name:
        out["company_name"] = company_name[:255]
    for name in _COMPANY_FIELDS:
        value = _text(data.get(name))
        if value:
            out[f"company_{name}"] = value
    if errors:
        raise LeadDataError(errors)
    return out


def _company_domain(values: Mapping[str, Any]) -> str | None:
    if values.get("company_domain"):
        return str(values["company_domain"])
    email = values.get("email")
    if email:
        domain = str(email).rpartition("@")[2]
        if domain not in FREE_MAIL_DOMAINS and not normalize.is_disposable_domain(domain):
            return domain
    return None


def get_or_create_company(*, domain: str | None, name: str = "", **details: str) -> Company | None:
    """The company for a normalised domain (following merges), created when new; blanks filled, nothing overwritten.

    Without a domain a company cannot be matched safely, so none is created (returns None).
    """
    if not domain:
        return None
    defaults = {"name": name or domain, **{k: v for k, v in details.items() if v}}
    try:
        with transaction.atomic():
            company, created = Company.objects.get_or_create(domain=domain, defaults=defaults)
    except IntegrityError:  # a concurrent insert of the same domain won
        company, created = Company.objects.get(domain=domain), False
    while company.merged_into_id is not None:
        company = Company.objects.get(pk=company.merged_into_id)
    if not created:
        changed = [k for k, v in details.items() if v and not getattr(company, k)]
        for key in changed:
            setattr(company, key, details[key])
        if changed:
            company.save(update_fields=changed)
    return company


def _find_lead(values: Mapping[str, Any]) -> Lead | None:
    """The stored lead these values describe: by email, else LinkedIn URL, else the source's record id.

    With an address in hand, the weaker keys only match a lead that has no address yet, so two people
    sharing a scraped LinkedIn URL by mistake are never merged into one row.
    """
    email = values.get("email")
    if not (email or values.get("linkedin_url") or (values.get("source") and values.get("source_ref"))):
        raise LeadDataError({"email": "a lead needs an email, a LinkedIn URL or a source and source_ref"})
    leads = Lead.objects.select_for_update().order_by("pk")
    found = leads.filter(email=email).first() if email else None
    if found is None:
        no_other_address = leads.filter(email__isnull=True) if email else leads
        if values.get("linkedin_url"):
            found = no_other_address.filter(linkedin_url=values["linkedin_url"]).first()
        if found is None and values.get("source") and values.get("source_ref"):
            found = no_other_address.filter(source=values["source"], source_ref=values["source_ref"]).first()
    return found


def _survivor(lead: Lead) -> Lead:
    while lead.merged_into_id is not None:
        lead = Lead.objects.select_for_update().get(pk=lead.merged_into_id)
    return lead


# Where a lead came from is history, and the address is its identity: filled in once, never rewritten here.
_FILL_ONLY = frozenset({"source", "source_ref", "email"})
_LEAD_FIELDS = ("email", "linkedin_url", "phone", "country", "time_zone", *_TEXT_FIELDS)


@transaction.atomic
def create_or_update_lead(*, data: Mapping[str, Any], overwrite: bool = True) -> LeadUpsertResult:
    """Store a lead from any source, matched by normalised email (then LinkedIn URL, then source id).

    Blank incoming values never replace stored ones; with ``overwrite=False`` stored values are kept
    and only blanks are filled. Status, score, research and do-not-contact are not touched here.
    A suppressed address is stored as do-not-contact/unsubscribed so no later path can mail it.
    Raises LeadDataError naming each bad field.
    """
    values = clean_lead_data(data)
    company = get_or_create_company(
        domain=_company_domain(values),
        name=str(values.get("company_name", "")),
        **{name: str(values.get(f"company_{name}", "")) for name in _COMPANY_FIELDS},
    )
    found = _find_lead(values)
    incoming = {k: values[k] for k in _LEAD_FIELDS if k in values}
    if found is None:
        return _create_lead(incoming, company)
    lead = _survivor(found)
    if lead.pk != found.pk:
        incoming.pop("email", None)  # the address stays on the merged row it is unique to

    changed = [
        k
        for k, v in incoming.items()
        if getattr(lead, k) != v and (not getattr(lead, k) or (overwrite and k not in _FILL_ONLY))
    ]
    if company is not None and lead.company_id != company.pk and (overwrite or lead.company_id is None):
        lead.company = company
        changed.append("company")
    if not lead.time_zone and "time_zone" not in changed:
        guess = normalize.guess_time_zone(values.get("country") or lead.country, values.get("phone") or lead.phone)
        if guess:
            lead.time_zone = guess
            changed.append("time_zone")
    for key in changed:
        if key != "company":
            setattr(lead, key, incoming[key])
    if changed:
        lead.save(update_fields=changed)
    return LeadUpsertResult(lead=lead, created=False, updated_fields=tuple(changed))


def _create_lead(incoming: dict[str, Any], company: Company | None) -> LeadUpsertResult:
    lead = Lead(company=company, **incoming)
    if not lead.time_zone:
        lead.time_zone = normalize.guess_time_zone(lead.country or None, lead.phone or None) or ""
    if lead.email:
        local, _, domain = lead.email.rpartition("@")
        if normalize.is_disposable_domain(domain):
            lead.email_status = Lead.EmailStatus.DISPOSABLE
        elif normalize.is_role_account(local):
            lead.email_status = Lead.EmailStatus.ROLE
        if is_suppressed(lead.email):
            lead.do_not_contact = True
            lead.status = Lead.Status.UNSUBSCRIBED
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        # The same address was inserted concurrently: update that row instead of failing the caller.
        if not lead.email or not Lead.objects.filter(email=lead.email).exists():
            raise
        return create_or_update_lead(data={**incoming, "company_domain": company.domain if company else None})
    return LeadUpsertResult(lead=lead, created=True, updated_fields=())


def _locked(lead: Lead, *, locked: bool) -> Lead:
    # ``locked``: the caller read ``lead`` under its row lock in the current transaction (an agent's
    # act, RunContext.lock), so it is current and held: reading it again would only cost a query.
    return lead if locked else Lead.objects.select_for_update().get(pk=lead.pk)


def lead_set_status(*, lead: Lead, status: str, reason: str = "", locked: bool = False) -> bool:
    """Move a lead along its status machine (InvalidTransition when not allowed); returns whether it changed.

    Unsubscribing goes through the suppression list, so the address stays blocked and enrollments stop.
    ``locked``: ``lead`` was read under its row lock in this transaction (RunContext.lock), and
    a failure here ends that transaction (nothing catches it to go on).
    """
    # Holding the lock, the caller is inside its transaction and lets a failure end all of it (an
    # agent's act): no savepoint of our own, two round trips fewer.
    with transaction.atomic(savepoint=not locked):
        locked_lead = _locked(lead, locked=locked)
        before = (locked_lead.status, locked_lead.do_not_contact)
        if status == Lead.Status.UNSUBSCRIBED:
            locked_lead.STATUS_MACHINE.check(locked_lead, status)
            if locked_lead.email:
                suppress(email_or_domain=locked_lead.email, reason="manual", source="lead_set_status", note=reason)
                locked_lead.refresh_from_db()
            if locked_lead.status != status or not locked_lead.do_not_contact:
                locked_lead.do_not_contact = True
                locked_lead.save(update_fields=["do_not_contact"])
                locked_lead.transition_to(status)
        else:
            locked_lead.transition_to(status)
    lead.status, lead.do_not_contact = locked_lead.status, locked_lead.do_not_contact
    return (locked_lead.status, locked_lead.do_not_contact) != before


def _score(score: int) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValueError(f"a lead score is a whole number from 0 to 100, got {score!r}")
    return score


def lead_qualify(*, lead: Lead, score: int, reasons: Sequence[str | Mapping[str, Any]], locked: bool = False) -> Lead:
    """Record the fit score and its reasons and mark the lead qualified (InvalidTransition if it cannot be).
    ``locked``: ``lead`` was read under its row lock in this transaction (RunContext.lock)."""
    return _score_and_move(lead=lead, score=_score(score), reasons=reasons, status=Lead.Status.QUALIFIED, locked=locked)


def lead_disqualify(
    *, lead: Lead, reasons: Sequence[str | Mapping[str, Any]], score: int | None = None, locked: bool = False
) -> Lead:
    """Record why the lead does not fit and mark it disqualified.
    ``locked``: ``lead`` was read under its row lock in this transaction (RunContext.lock)."""
    checked = None if score is None else _score(score)
    return _score_and_move(lead=lead, score=checked, reasons=reasons, status=Lead.Status.DISQUALIFIED, locked=locked)


def _score_and_move(
    *, lead: Lead, score: int | None, reasons: Sequence[str | Mapping[str, Any]], status: str, locked: bool = False
) -> Lead:
    with transaction.atomic(savepoint=not locked):  # as in lead_set_status
        row = _locked(lead, locked=locked)
        row.STATUS_MACHINE.check(row, status)
        fields = ["score_reasons"]
        row.score_reasons = [r if isinstance(r, str) else dict(r) for r in reasons]
        if score is not None:
            row.score = score
            fields.append("score")
        row.save(update_fields=fields)
        row.transition_to(status)
    for name in ("score", "score_reasons", "status", "updated_at"):
        setattr(lead, name, getattr(row, name))
    return lead
