"""data_validation: normalise a lead's or a company's fields and reject junk, with reasons.

Normalisation is crm.services.normalize (email lower case, bare domain, E.164 phone, ISO-2 country,
IANA zone). A value that normalises onto another record's unique email or domain is not written:
the record is a duplicate and goes to deduplication with the clash, which merges it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, Field, model_validator

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Company, Lead
from crm.services import normalize
from crm.services.leads import lead_disqualify
from crm.services.reference_data import FREE_MAIL_DOMAINS

# Values people type when a form insists on an answer.
PLACEHOLDERS = frozenset({"test", "testing", "asdf", "qwerty", "xxx", "n/a", "na", "none", "null", "unknown", "-", "."})
JUNK_EMAIL_DOMAINS = frozenset({"example.com", "example.org", "example.net", "test.com", "domain.com", "email.com"})
_WS = re.compile(r"\s+")
# Only leads not yet worked on are rejected; later stages belong to the people talking to them.
REJECTABLE = frozenset({Lead.Status.NEW, Lead.Status.ENRICHED, Lead.Status.VERIFIED})


class ValidationInput(BaseModel):
    lead_id: int | None = None
    company_id: int | None = None

    @model_validator(mode="after")
    def one_record(self) -> ValidationInput:
        if (self.lead_id is None) == (self.company_id is None):
            raise ValueError("give exactly one of lead_id or company_id")
        return self


class Record(Facts):
    """The one record to validate: a lead with its company, or a company."""

    lead: Lead | None = None
    company: Company | None = None


class ValidationOutput(BaseModel):
    lead_id: int | None = None
    company_id: int | None = None
    changed: list[str] = Field(default_factory=list)
    dropped: dict[str, str] = Field(default_factory=dict, description="invalid optional values removed, with why")
    rejected: bool = False
    reasons: list[str] = Field(default_factory=list)
    duplicate_of: int | None = None


def _clean_text(value: str) -> str:
    text = _WS.sub(" ", value or "").strip()
    # All capitals or all lower case is how scrapers mangle names; mixed case (McDonald) is kept.
    return text.title() if text and (text.isupper() or text.islower()) else text


# What a person's name is written with, in any script: letters and their marks, spaces, and the
# hyphens, apostrophes, periods and brackets of "O'Neil-Smith Jr. (Bob)".
_NAME_PUNCTUATION = frozenset(" -',.()\u2019\u2010\u2011")


def person_name(value: str) -> str:
    """The name as given; ValueError when it holds what no name does (``=``, ``@``, ``<``, digits, a URL)."""
    odd = sorted({c for c in value if not (unicodedata.category(c)[0] in "LM" or c in _NAME_PUNCTUATION)})
    if odd:
        shown = value if len(value) <= 40 else value[:39] + "\u2026"
        raise ValueError(f"not a person's name: {shown!r} holds {' '.join(repr(c) for c in odd[:5])}")
    return value


def _is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


@register
class DataValidation(Agent[ValidationInput, ValidationOutput]):
    """Normalises names, titles, domains, phones, countries and time zones; rejects junk."""

    name = "data_validation"
    category = "lead_generation"
    trigger = "handoff"
    queue = "crm"
    Input = ValidationInput
    Facts = Record
    Output = ValidationOutput
    next = ("deduplication",)

    def load(self, ctx: RunContext, data: ValidationInput) -> Record:
        if data.lead_id is not None:
            return Record(lead=Lead.objects.select_related("company").get(pk=data.lead_id))
        assert data.company_id is not None  # the input's validator demands one of the two
        return Record(company=Company.objects.get(pk=data.company_id))

    def act(self, ctx: RunContext, facts: Record) -> ValidationOutput:
        if facts.lead is not None:
            return self._lead(ctx, ctx.lock(facts.lead))
        assert facts.company is not None
        return self._company(ctx, ctx.lock(facts.company))

    # --- leads -----------------------------------------------------------------------------------

    def _lead(self, ctx: RunContext, lead: Lead) -> ValidationOutput:
        out = ValidationOutput(lead_id=lead.pk)
        if lead.merged_into_id is not None:
            out.reasons.append(f"merged into lead {lead.merged_into_id}: nothing to validate")
            return out
        before = {
            f: getattr(lead, f) for f in ("first_name", "last_name", "title", "email", "phone", "country", "time_zone")
        }
        values: dict[str, Any] = dict(before)
        values["first_name"], values["last_name"] = self._names(lead.first_name, lead.last_name)
        # A name that is no name (a spreadsheet formula, a link, markup) would be written into the
        # greeting of a cold email: it is dropped, and the copy greets without a name.
        self._normalise(values, "first_name", person_name, out)
        self._normalise(values, "last_name", person_name, out)
        values["title"] = _WS.sub(" ", lead.title or "").strip()
        self._normalise(values, "country", normalize.normalize_country, out)
        self._normalise(values, "phone", lambda v: normalize.normalize_phone(v, values["country"] or None), out)
        self._normalise(values, "time_zone", normalize.normalize_time_zone, out)
        if not values["time_zone"]:
            values["time_zone"] = normalize.guess_time_zone(values["country"] or None, values["phone"] or None) or ""
        email_error = ""
        if values["email"]:
            try:
                values["email"] = normalize.normalize_email(values["email"])
            except ValueError as exc:
                email_error = str(exc)
        out.reasons.extend(self._junk(lead, values, email_error))
        if values["email"] != before["email"] and not email_error:
            clash = Lead.objects.filter(email=values["email"]).exclude(pk=lead.pk).values_list("pk", flat=True).first()
            if clash is not None:
                # Same person under another row: keep our value, let deduplication merge the two.
                out.duplicate_of, values["email"] = clash, before["email"]
        if email_error:
            values["email"] = before["email"]
        out.changed = ctx.update(lead, action="lead.normalise", **values)
        if out.reasons and lead.status in REJECTABLE:
            out.rejected = True
            lead_disqualify(lead=lead, reasons=[f"data_validation: {r}" for r in out.reasons], locked=True)
            return out
        clash_email = normalize.normalize_email(lead.email) if out.duplicate_of and lead.email else None
        ctx.handoff("deduplication", {"lead_id": lead.pk, "email": clash_email})
        return out

    @staticmethod
    def _names(first: str, last: str) -> tuple[str, str]:
        first, last = _clean_text(first), _clean_text(last)
        if first and not last and " " in first:
            return normalize.split_name(first)
        return first, last

    @staticmethod
    def _normalise(values: dict[str, Any], name: str, func: Any, out: ValidationOutput) -> None:
        """Normalise an optional value; an invalid one is dropped (kept out of the record) with the reason."""
        if not values[name]:
            return
        try:
            values[name] = func(values[name])
        except ValueError as exc:
            out.dropped[name] = str(exc)
            values[name] = ""

    @staticmethod
    def _junk(lead: Lead, values: dict[str, Any], email_error: str) -> list[str]:
        reasons = []
        if email_error:
            reasons.append(f"invalid email: {email_error}")
        name = f"{values['first_name']} {values['last_name']}".strip()
        if name and all(_is_placeholder(part) for part in name.split()):
            reasons.append(f"placeholder name {name!r}")
        email = values["email"] or ""
        if email and not email_error:
            local, _, domain = email.rpartition("@")
            if domain in JUNK_EMAIL_DOMAINS or _is_placeholder(local):
                reasons.append(f"placeholder address {email!r}")
            elif normalize.is_disposable_domain(domain):
                reasons.append(f"disposable address {email!r}")
        if not name and not email and not lead.linkedin_url:
            reasons.append("no name, email or LinkedIn profile: nobody to contact")
        return reasons

    # --- companies -------------------------------------------------------------------------------

    def _company(self, ctx: RunContext, company: Company) -> ValidationOutput:
        out = ValidationOutput(company_id=company.pk)
        if company.merged_into_id is not None:
            out.reasons.append(f"merged into company {company.merged_into_id}: nothing to validate")
            return out
        before = {"name": company.name, "domain": company.domain, "country": company.country}
        values: dict[str, Any] = dict(before)
        values["name"] = _WS.sub(" ", company.name or "").strip()
        self._normalise(values, "country", normalize.normalize_country, out)
        if not values["domain"]:
            values["domain"] = self._domain_from_leads(company)
        elif values["domain"]:
            try:
                values["domain"] = normalize.normalize_domain(values["domain"])
            except ValueError as exc:
                out.dropped["domain"] = str(exc)
                values["domain"] = None
        if not values["name"] or _is_placeholder(values["name"]):
            if values["domain"]:
                values["name"] = values["domain"]
            else:
                out.reasons.append("no usable name and no domain: not a company we can work with")
        domain = values["domain"]
        if domain and domain != before["domain"]:
            clash = Company.objects.filter(domain=domain).exclude(pk=company.pk).values_list("pk", flat=True)
            other = clash.first()
            if other is not None:
                # The domain is another company's: that one is us; deduplication merges the two.
                out.duplicate_of, values["domain"] = other, before["domain"]
        out.changed = ctx.update(company, action="company.normalise", **values)
        out.rejected = bool(out.reasons)
        if not out.rejected:
            ctx.handoff("deduplication", {"company_id": company.pk, "domain": domain or None})
        return out

    @staticmethod
    def _domain_from_leads(company: Company) -> str | None:
        """The work-email domain all of the company's leads agree on, if any."""
        emails = company.leads.filter(email__isnull=False).values_list("email", flat=True)[:50]
        domains = {e.rpartition("@")[2] for e in emails if e}
        domains = {d for d in domains if d not in FREE_MAIL_DOMAINS and not normalize.is_disposable_domain(d)}
        return domains.pop() if len(domains) == 1 else None
