"""Sandbox providers for finding and reaching prospects: lead source, email finder, verifier,
outreach and web research. Each returns what the real vendor would, computed from the seed, and
schedules what the market will answer (search done, bounce, reply, unsubscribe, complaint).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from django.conf import settings
from django.db.models import Q

from integrations.http.errors import PermanentError
from integrations.models import SandboxEvent, SandboxRecord
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox import attendance, inbox, payloads, proposals, research
from integrations.sandbox.behaviour import EmailOutcome, email_outcome, personalisation, reply_text
from integrations.sandbox.rng import rng_for, sandbox_id
from integrations.sandbox.store import recall, records, remember, remember_new, schedule, update_record
from integrations.sandbox.world import (
    INDUSTRIES,
    WEBMAIL_DOMAINS,
    Company,
    Person,
    email_for,
    listed_domain,
    normalise,
    people_at,
    person_from_record,
    search_people,
    stranger,
)
from integrations.values import (
    Citation,
    EmailFindResult,
    HealthResult,
    LeadItem,
    LeadSearch,
    MessageStatus,
    ResearchAnswer,
    ScrapedPage,
    SentEmail,
    Verdict,
)
from smarter_team import clock

ACTOR_ID = "sandbox~leads-finder"
ROLE_ACCOUNTS = frozenset({"info", "sales", "admin", "support", "contact", "hello", "office", "team", "billing"})
DISPOSABLE_DOMAINS = frozenset({"mailinator.com", "10minutemail.com", "guerrillamail.com", "tempmail.com"})
OPTED_OUT_KINDS = ("unsubscribe_click", "complaint", "reply_unsubscribe")


def find_person(email: str) -> Person:
    """Who is behind an address: someone a search found, else a plausible stranger."""
    record = recall(kind="person", ref=email.strip().lower())
    return person_from_record(record) if record is not None else stranger(email)


def find_company(domain: str) -> Company | None:
    record = SandboxRecord.objects.filter(kind="person", domain=domain.lower()).first()
    return person_from_record(record.data).company if record is not None else None


class SandboxProvider:
    name = SANDBOX

    def health_check(self) -> HealthResult:
        return HealthResult(ok=True, detail=f"sandbox world, seed {settings.SANDBOX_SEED}")


@register_provider("lead_source", SANDBOX, keys=())
class SandboxLeadSource(SandboxProvider):
    """An Apify-like actor: a search runs for a few minutes, then a webhook says it is done."""

    def run_search(self, *, query: str, location: str = "", max_items: int = 100) -> LeadSearch:
        key = (normalise(query), normalise(location))
        earlier = records(kind="search", query=key[0], location=key[1])
        # A repeated search goes on where the last one stopped, like paging a real directory.
        start = sum(int(s["max_items"]) for s in earlier)
        search_id = sandbox_id("run", *key, len(earlier))
        now = clock.now()
        search = remember(
            kind="search",
            ref=search_id,
            data={
                "search_id": search_id,
                "dataset_id": sandbox_id("ds", search_id),
                "actor_id": ACTOR_ID,
                "query": key[0],
                "location": key[1],
                "start": start,
                "max_items": max_items,
            },
        )
        done_at = now + dt.timedelta(minutes=rng_for("search-duration", search_id).randint(2, 15))
        schedule(
            key=f"apify:{search_id}:succeeded",
            provider="apify",
            kind="search_succeeded",
            subject=search_id,
            payload=payloads.apify_run(event_type="ACTOR.RUN.SUCCEEDED", search=search, at=done_at),
            due_at=done_at,
        )
        return LeadSearch(search_id=search_id, status="running", dataset_id=search["dataset_id"])

    def get_search(self, search_id: str) -> LeadSearch:
        search = recall(kind="search", ref=search_id) or {}
        done = SandboxEvent.objects.filter(subject=search_id, kind="search_succeeded", due_at__lte=clock.now()).exists()
        return LeadSearch(
            search_id=search_id,
            status="succeeded" if done else ("running" if search else "unknown"),
            dataset_id=str(search.get("dataset_id", "")),
        )

    def fetch_items(self, *, search: LeadSearch, offset: int = 0, limit: int = 100) -> list[LeadItem]:
        data = recall(kind="search", ref=search.search_id)
        if data is None:
            return []
        people = search_people(
            query=data["query"], location=data["location"], start=int(data["start"]), count=int(data["max_items"])
        )[offset : offset + limit]
        SandboxRecord.objects.bulk_create(
            [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people], ignore_conflicts=True
        )
        return [_lead_item(p) for p in people]


def _lead_item(person: Person) -> LeadItem:
    company = person.company
    # Directories rarely list work emails: most leads need the email finder.
    listed = rng_for("listed-email", person.email).random() < 0.3
    domain = listed_domain(company)
    if domain != company.domain:
        # A listing that gives the webmail provider as the website has no work address to list
        # either: the finder is asked to search the provider's domain, and refuses.
        listed = False
    return LeadItem(
        company_name=company.name,
        website=f"https://www.{domain}",
        domain=domain,
        first_name=person.first_name,
        last_name=person.last_name,
        title=person.title,
        email=person.email if listed else "",
        phone=person.phone,
        linkedin_url=person.linkedin_url,
        location=f"{company.city}, {company.country}",
        industry=company.industry,
        raw={
            "employees": company.employees,
            "annual_revenue": company.annual_revenue,
            "technologies": list(company.tech),
            "timezone": company.timezone,
            "seniority": person.seniority,
        },
    )


@register_provider("email_finder", SANDBOX, keys=())
class SandboxEmailFinder(SandboxProvider):
    def find_email(self, *, first_name: str, last_name: str, domain: str) -> EmailFindResult | None:
        if domain.lower() in WEBMAIL_DOMAINS:
            # As Findymail answers (422): a webmail domain holds private addresses, not a company's
            # people, so there is nothing to search. The same search fails the same way again.
            raise PermanentError(
                "The domain is a webmail provider: no professional email can be found there.",
                provider=SANDBOX,
                operation="find_email",
                status_code=422,
            )
        guess = email_for(first_name=first_name, last_name=last_name, domain=domain.lower())
        if recall(kind="person", ref=guess) is not None:
            return EmailFindResult(email=guess, confidence=0.95, provider=SANDBOX)
        if rng_for("find-email", first_name.lower(), last_name.lower(), domain.lower()).random() < 0.75:
            return EmailFindResult(email=guess, confidence=0.6, provider=SANDBOX)
        return None


@register_provider("email_verifier", SANDBOX, keys=())
class SandboxEmailVerifier(SandboxProvider):
    _STATUS = {"deliverable": "valid", "invalid": "invalid", "risky": "risky", "catch_all": "catch_all"}

    def verify(self, email: str) -> Verdict:
        address = email.strip().lower()
        local, _, domain = address.partition("@")
        if not local or "." not in domain:
            return Verdict(email=address, status="invalid", reason="syntax", provider=SANDBOX)
        if domain in DISPOSABLE_DOMAINS:
            return Verdict(email=address, status="disposable", reason="disposable domain", provider=SANDBOX)
        if local in ROLE_ACCOUNTS:
            return Verdict(email=address, status="role", reason="role account", provider=SANDBOX)
        status = self._STATUS[find_person(address).email_status]
        return Verdict(email=address, status=status, reason="mailbox check", provider=SANDBOX)


# What the readers of a campaign email other than the prospect's look up about the address: a
# payer (deals.payment_reminder), a proposal's buyer (proposals), a former client (offboarding's
# "client_exit"), a client's project by contact or company domain (projects.client_reads).
NOT_COLD_KINDS = ("customer", "document", "client_exit", "project")


def known_beyond_cold_mail(address: str) -> bool:
    """Whether the world knows ``address`` as more than a cold email's recipient (any record of
    ``NOT_COLD_KINDS`` about them, or a project of their company): then every reader is asked."""
    domain = address.partition("@")[2]
    about = Q(kind__in=NOT_COLD_KINDS, party=address)
    if domain:
        about |= Q(kind="project", domain=domain)
    return SandboxRecord.objects.filter(about).exists()


@register_provider("outreach", SANDBOX, keys=())
class SandboxOutreach(SandboxProvider):
    """Sends nothing; decides, from the seed, how the recipient will react, and schedules it."""

    def send_email(
        self,
        *,
        idempotency_key: str,
        from_mailbox: str,
        to: str,
        subject: str,
        body: str,
        headers: Mapping[str, str],
        thread_id: str | None = None,
    ) -> SentEmail:
        message_id = sandbox_id("msg", idempotency_key)
        address = to.strip().lower()
        sent = {
            "message_id": message_id,
            "thread_id": thread_id or sandbox_id("thr", idempotency_key),
            "to": address,
            "from_mailbox": from_mailbox,
            "subject": subject,
            "campaign_id": str(headers.get("X-Campaign-Id", "")),
        }
        if recall(kind="email", ref=message_id) is None:  # a retried send reacts once
            # An email in a thread is an answer only once they wrote to us; else it is a cold follow-up.
            replying = bool(thread_id) and inbox.has_written(address)
            step = 0 if replying else inbox.cold_step(address)
            # Mail that is not a pitch is read by the stage it concerns, not answered as cold email:
            # an invoice notice or payment reminder by who owes, a note about a proposal they have
            # open by the buyer, an exit survey or a win-back by a former client, a survey or save play
            # by a client, and any other mail to a client (a report, a delivery, an answer to a change
            # request) by the client as a client.
            from integrations.sandbox import offboarding, retention  # they build on this module
            from integrations.sandbox.deals import payment_reminder  # deals imports this module
            from integrations.sandbox.projects import client_reads  # the client's side imports this module

            # A campaign's cold email to someone the world holds nothing else about (the prospect of
            # almost every send) is a prospect's: one look says so, instead of each reader below
            # asking in turn (seven statements a send, most of the market's cost per email).
            prospect = bool(sent["campaign_id"]) and not known_beyond_cold_mail(address)
            billing = not prospect and payment_reminder(to=address, subject=subject, body=body)
            record = sent | {"replying": replying, "step": step, "billing": billing}
            remember_new(kind="email", ref=message_id, data=record)  # recalled as nothing above
            claimed = not prospect and (
                billing
                or proposals.follow_up_received(to=address, now=clock.now(), subject=subject, body=body)
                or offboarding.react(sent, body=body)  # a departing or former client: exit survey, win-back
                or retention.answer_client_email(sent, body=body)
                or client_reads(sent, body=body)
            )
            if not claimed:
                self._plan_reaction(sent, body=body, headers=headers, step=step)
        return SentEmail(message_id=message_id, thread_id=sent["thread_id"], provider=SANDBOX, status="sent")

    def _plan_reaction(self, sent: dict[str, str], *, body: str, headers: Mapping[str, str], step: int) -> None:
        person, now = find_person(sent["to"]), clock.now()
        # Mail about a call booked with them (a reminder, a follow-up after a missed call) is answered
        # as such (integrations/sandbox/attendance.py), never as a cold email.
        answer = attendance.answer_about_meeting(person=person, body=body, replying=not step, now=now)
        if answer is None and not step:
            answer = inbox.answer_to_our_reply(person=person, our_body=body)
        if answer is not None:
            outcome = EmailOutcome("reply" if answer.intent else "none", answer.delay, answer.intent, opened=True)
        else:
            seen = inbox.circumstances(
                person=person,
                mailbox=sent["from_mailbox"],
                subject=sent["subject"],
                body=body,
                headers=headers,
                step=step or 1,
                now=now,
            )
            personal = 1.0 if not step else personalisation(person=person, subject=sent["subject"], body=body)
            outcome = email_outcome(person=person, personal=personal, seen=seen)
        if outcome.opened:
            update_record(kind="email", ref=sent["message_id"], opened_at=(now + outcome.delay).isoformat())
        if SandboxEvent.objects.filter(subject=sent["to"], kind__in=OPTED_OUT_KINDS, due_at__lte=now).exists():
            # Mailing someone who already opted out is how complaints happen.
            outcome = type(outcome)("complaint", dt.timedelta(minutes=30))
        if outcome.kind == "none":
            return
        at = now + outcome.delay
        extra: dict[str, object] = {}
        if outcome.kind == "bounce":
            event_type, kind, extra = "email_bounced", "bounce", {"bounce_type": outcome.bounce_type}
        elif outcome.kind == "complaint":
            event_type, kind = "email_complained", "complaint"
        elif outcome.kind == "unsubscribe_click":
            event_type, kind = "lead_unsubscribed", "unsubscribe_click"
        else:
            assert outcome.intent is not None
            # The wording from who answers what (not our outbox key, which holds our database ids).
            rng = rng_for("reply-text", person.email, sent["subject"], step)
            colleagues = [p for p in people_at(person.company) if p.email != person.email]
            event_type, kind = "reply_received", f"reply_{outcome.intent}"
            extra = {
                "reply_subject": f"Re: {sent['subject']}",
                "reply_text": answer.text
                if answer is not None
                else reply_text(
                    person=person, intent=outcome.intent, referral=colleagues[0] if colleagues else None, rng=rng
                ),
            }
        schedule(
            key=f"instantly:{sent['message_id']}:{kind}",
            provider="instantly",
            kind=kind,
            subject=sent["to"],
            payload=payloads.instantly_event(event_type=event_type, email=sent, at=at, **extra),
            due_at=at,
        )

    def get_message_status(self, message_id: str) -> MessageStatus:
        email = recall(kind="email", ref=message_id)
        if email is None:
            return MessageStatus(message_id=message_id, status="unknown")
        happened = set(
            SandboxEvent.objects.filter(key__startswith=f"instantly:{message_id}:", due_at__lte=clock.now())
            .exclude(status=SandboxEvent.Status.CANCELED)
            .values_list("kind", flat=True)
        )
        if "bounce" in happened:
            return MessageStatus(message_id=message_id, status="bounced")
        if any(k.startswith("reply_") for k in happened):
            return MessageStatus(message_id=message_id, status="replied")
        opened_at = email.get("opened_at")
        if opened_at and dt.datetime.fromisoformat(opened_at) <= clock.now():
            return MessageStatus(message_id=message_id, status="opened")
        return MessageStatus(message_id=message_id, status="delivered")


_DOMAIN = re.compile(r"\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|io|co|net))\b")
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}")
_LINKEDIN = re.compile(r"linkedin\.com/in/[a-z0-9-]+")


def find_person_by_profile(url: str) -> Person | None:
    """Whose public profile ``url`` (``linkedin.com/in/<slug>``, any scheme) is: the world gives its
    people ``https://www.linkedin.com/in/<slug>``."""
    path = url.strip().lower().partition("linkedin.com/")[2]
    record = SandboxRecord.objects.filter(kind="person", profile=f"https://www.linkedin.com/{path}").first()
    return person_from_record(record.data) if record is not None else None


@register_provider("web_research", SANDBOX, keys=())
class SandboxWebResearch(SandboxProvider):
    """What the web says: company pages and news, public profiles, niches and their competitors
    (integrations/sandbox/research.py). Buying signals are only here, never in the lead search."""

    def search(self, *, query: str, max_results: int = 5) -> ResearchAnswer:
        text = query.lower()
        person = self._person(text)
        if person is not None:
            url = person.linkedin_url
            said = " ".join(research.profile(person).sentences(person))
            return ResearchAnswer(query=query, answer=said, citations=(Citation(url=url, title=person.full_name),))
        for domain in _DOMAIN.findall(text):
            company = find_company(domain.removeprefix("www."))
            if company is not None:
                cites = (
                    Citation(url=f"{company.website}/news", title=f"News from {company.name}"),
                    Citation(url=company.website, title=company.name),
                )
                return ResearchAnswer(query=query, answer=research.news(company), citations=cites[:max_results])
        industry = next((i for i in INDUSTRIES if i in text), None)
        if industry is not None and "competitor" in text:
            found = research.competitors(industry)
            said = " ".join(f"{n} ({d}) {pos}; plans start at ${p:,} a month." for n, d, pos, p in found)
            pricing = tuple(Citation(url=f"https://www.{d}/pricing", title=n) for n, d, _, _ in found)
            return ResearchAnswer(query=query, answer=said, citations=pricing[:max_results])
        if industry is not None:
            url = f"https://www.industry-report.example/{industry.replace(' ', '-')}"
            return ResearchAnswer(
                query=query, answer=research.niche_answer(industry), citations=(Citation(url=url, title=industry),)
            )
        return ResearchAnswer(query=query, answer="No specific public information was found.", citations=())

    @staticmethod
    def _person(text: str) -> Person | None:
        email = _EMAIL.search(text)
        if email is not None and recall(kind="person", ref=email.group(0)) is not None:
            return find_person(email.group(0))
        profile_url = _LINKEDIN.search(text)
        return find_person_by_profile(profile_url.group(0)) if profile_url else None

    def scrape(self, *, url: str) -> ScrapedPage:
        match = _DOMAIN.search(url.lower())
        company = find_company(match.group(1).removeprefix("www.")) if match else None
        path = url.lower().split(match.group(1), 1)[1].split("?")[0] if match else ""
        found = research.page(company, path) if company is not None else None
        if found is None:
            return ScrapedPage(url=url, title="", markdown="", status_code=404)
        title, markdown = found
        return ScrapedPage(url=url, title=title, markdown=markdown)


class SandboxMxResolver:
    """MX answers of the simulated market (no real DNS on the embedded default).

    The world's own companies all receive mail. A domain it never generated (imported by hand) is a
    stranger's: most have mail servers, about 1 in 10 does not (typos, parked domains), seeded by
    the domain. Reserved names (RFC 2606/6761) never do.
    """

    NO_MX_SHARE = 0.1

    def mx_hosts(self, domain: str) -> list[str]:
        domain = domain.strip().lower().rstrip(".")
        reserved = any(domain == r or domain.endswith(f".{r}") for r in RESERVED_DOMAINS)
        if reserved or domain.endswith((".test", ".invalid", ".localhost", ".example")):
            return []
        if find_company(domain) is not None or domain in DISPOSABLE_DOMAINS:
            return [f"mx1.{domain}", f"mx2.{domain}"]
        if rng_for("mx", domain).random() < self.NO_MX_SHARE:
            return []
        return [f"mx.{domain}"]


RESERVED_DOMAINS = frozenset({"example.com", "example.org", "example.net"})
