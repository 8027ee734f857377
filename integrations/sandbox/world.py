"""The simulated market: companies and the people who work there, computed from the seed.

A lead search for ``(query, location)`` walks an endless, seeded list of companies: most are in
the searched industry, some are noise from other industries; sizes, revenues and buying signals
vary, so some fit the agency's ideal customer and some miss it. ``Company.fit`` (0..1) is the
hidden truth that drives how prospects behave later (replies, meetings, signatures, payments);
the agency only sees the observable facts and has to score them itself.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from integrations.sandbox.rng import rng_for, stable_hash

EmailStatus = Literal["deliverable", "invalid", "risky", "catch_all"]

INDUSTRIES = (
    "dental clinics",
    "law firms",
    "saas",
    "ecommerce",
    "real estate agencies",
    "accounting firms",
    "marketing agencies",
    "logistics",
    "manufacturing",
    "medical practices",
    "construction",
    "insurance brokers",
    "recruiting agencies",
    "education",
)
PREFIXES = (
    "Bright", "Summit", "Blue", "North", "Evergreen", "Pioneer", "Apex", "Harbor", "Silver", "Granite",
    "Maple", "Cedar", "Atlas", "Nova", "Vertex", "Crescent", "Beacon", "Riverside", "Oak", "Keystone",
    "Clear", "True", "Prime", "Golden", "Horizon", "Lakeside", "Iron", "Sterling", "Willow", "Redwood",
)  # fmt: skip
SUFFIXES = ("Group", "Partners", "Co", "Labs", "Collective", "Associates", "Works", "Hub", "Studio", "Solutions")
TLDS = (".com", ".com", ".com", ".io", ".co", ".net")
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Priya", "Mark", "Sandra", "Wei", "Ashley",
    "Omar", "Emily", "Luca", "Sofia", "Hiro", "Amara", "Noah", "Chloe", "Mateo", "Fatima",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Perez", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King",
    "Nguyen", "Patel", "Kim", "Chen", "Rossi", "Muller", "Okafor", "Silva", "Haddad", "Novak",
)  # fmt: skip
# (title, seniority, decision maker)
TITLES = (
    ("CEO", "c_level", True),
    ("Founder", "c_level", True),
    ("Owner", "c_level", True),
    ("COO", "c_level", True),
    ("VP of Operations", "vp", True),
    ("Head of Growth", "head", True),
    ("Marketing Director", "director", False),
    ("Operations Manager", "manager", False),
    ("Office Manager", "manager", False),
    ("Sales Coordinator", "staff", False),
)
CITIES = (
    ("New York", "United States", "America/New_York", "+1212"),
    ("Austin", "United States", "America/Chicago", "+1512"),
    ("Denver", "United States", "America/Denver", "+1303"),
    ("San Francisco", "United States", "America/Los_Angeles", "+1415"),
    ("Toronto", "Canada", "America/Toronto", "+1416"),
    ("London", "United Kingdom", "Europe/London", "+4420"),
    ("Berlin", "Germany", "Europe/Berlin", "+4930"),
    ("Sydney", "Australia", "Australia/Sydney", "+612"),
)
SIGNALS = (
    "is hiring for operations roles",
    "recently raised a funding round",
    "opened a new location",
    "launched a new service line",
    "is migrating to a new CRM",
    "doubled its team in the last year",
)
# How much of a company's hidden fit each observable part carries. The industry and a workable size
# are what a list can filter on: they define the addressable market but do not rank within it. A
# trigger event on the company's pages (hiring, funding, a new location: SIGNALS) is what research
# finds, and in outbound selling it roughly doubles the odds of a deal (accounts with an active
# trigger won 37% against 19% for cold outreach, Champify 2025, as cited in komo.ai's glossary of
# trigger events). So in this market an in-industry company of a workable size without a trigger
# fits only when the rest of its story (the noise) is favourable (two in three), and one with
# a trigger fits even outside the size band; industry alone no longer tells nearly all of it apart,
# and research has something to add (SANDBOX.md: "the hidden fit includes a part that only
# research reveals"). Before, the weights were 0.45/0.3/0.15/0.1 and 97% of in-industry companies
# fitted, so no research could improve on the industry match by more than a few points.
FIT_INDUSTRY, FIT_SIZE, FIT_SIGNALS, FIT_NOISE = 0.4, 0.15, 0.3, 0.15
TECH = ("HubSpot", "Salesforce", "Shopify", "WordPress", "Zapier", "QuickBooks", "Slack", "Notion", "Pipedrive")
EMAIL_PATTERNS = ("{f}.{l}", "{f}{l}", "{fi}{l}", "{f}")
# A business of a few people often runs on a free mailbox and no site of its own, and a directory
# then lists that mailbox's provider as the company's website (a scraped list's "website:
# gmail.com"). Half of those under MICRO_EMPLOYEES is a judgement, not a cited figure; it makes
# about one lead in twenty in a search (most companies are bigger). Drawn from its own stream, so
# no other draw of the world moves.
WEBMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com")
MICRO_EMPLOYEES = 10
WEBMAIL_LISTED = 0.5


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    employees: int
    annual_revenue: int  # USD
    city: str
    country: str
    timezone: str
    phone_prefix: str
    tech: tuple[str, ...]
    signals: tuple[str, ...]
    catch_all: bool
    fit: float  # hidden: how well the company matches what the agency sells
    searched_industry: str = ""

    @property
    def website(self) -> str:
        return f"https://www.{self.domain}"

    @property
    def fits(self) -> bool:
        return self.fit >= 0.6

    @property
    def budget(self) -> int:
        """Hidden: the most the company will pay for a first project, in USD.

        It grows with headcount (capped: a 2,000-person firm does not buy a bigger pilot from a
        small agency) and with fit (a company that needs what we sell sets more aside), with a
        seeded spread either way. The range, about $2k to $40k, is the usual span of a first
        automation project at a small AI agency; it is a judgement, not a cited figure.
        """
        rng = rng_for("budget", self.domain)
        size = min(max(self.employees, 5), 400)
        base = 2_000 + 60 * size
        return int(round(base * (0.5 + self.fit) * rng.uniform(0.7, 1.4), -2))


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    title: str
    seniority: str
    decision_maker: bool
    email: str
    email_status: EmailStatus
    phone: str
    linkedin_url: str
    company: Company

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def to_record(self) -> dict[str, Any]:
        return asdict(self)  # tuples become JSON lists; person_from_record turns them back


def person_from_record(data: dict[str, Any]) -> Person:
    company = dict(data["company"])
    company["tech"], company["signals"] = tuple(company["tech"]), tuple(company["signals"])
    return Person(**{**data, "company": Company(**company)})


# A number the numbering plan allows: under the North American plan seven digits after the area code,
# the first not 0 or 1; eight in London (20), Berlin (30) and Sydney (2), each first digit one its
# city's numbers start with. A number that breaks its plan is refused by the CSV import.
PHONE_PLAN = {"+4420": (8, "378"), "+4930": (8, "23456789"), "+612": (8, "89")}
NANP_PLAN = (7, "23456789")


def _phone(prefix: str, drawn: int) -> str:
    """A valid number for ``prefix`` from one seven-digit draw: what the plan needs beyond the draw is
    derived from it, not drawn, so every later draw of the world (and the fates tests pin) stays."""
    length, firsts = PHONE_PLAN.get(prefix, NANP_PLAN)
    digits = firsts[drawn % len(firsts)] + str(drawn)[1:]
    while len(digits) < length:
        digits += str(sum(map(int, digits)) % 10)
    return f"{prefix}{digits}"


def _city(location: str, rng_choice: Any) -> tuple[str, str, str, str]:
    wanted = normalise(location)
    matches = [c for c in CITIES if wanted and (normalise(c[0]) in wanted or normalise(c[1]) in wanted)]
    return rng_choice(matches or CITIES)


def company_at(*, query: str, location: str, index: int) -> Company:
    """The ``index``-th company a search for ``query`` in ``location`` finds."""
    searched = normalise(query) or "businesses"
    rng = rng_for("company", searched, normalise(location), index)
    on_target = rng.random() < 0.75
    industry = searched if on_target else rng.choice([i for i in INDUSTRIES if i != searched])
    core = industry.split()[0].capitalize() if industry.split() else "Business"
    name = f"{rng.choice(PREFIXES)} {core} {rng.choice(SUFFIXES)}"
    city, country, timezone, phone_prefix = _city(location, rng.choice)
    # A few names repeat across a big search: a real market has namesakes, and the domain keeps
    # them apart the way a registrar would (a suffix).
    domain = f"{_slug(name)}{stable_hash(searched, index) % 97 if rng.random() < 0.2 else ''}{rng.choice(TLDS)}"
    employees = max(1, int(rng.lognormvariate(3.4, 1.1)))
    revenue = int(employees * rng.uniform(60_000, 180_000))
    signals = tuple(rng.sample(SIGNALS, k=rng.choice((0, 0, 1, 1, 2))))
    size_ok = 10 <= employees <= 500
    fit = FIT_INDUSTRY * on_target + FIT_SIZE * size_ok + FIT_SIGNALS * bool(signals) + FIT_NOISE * rng.random()
    return Company(
        name=name,
        domain=domain,
        industry=industry,
        employees=employees,
        annual_revenue=revenue,
        city=city,
        country=country,
        timezone=timezone,
        phone_prefix=phone_prefix,
        tech=tuple(sorted(rng.sample(TECH, k=rng.randint(1, 4)))),
        signals=signals,
        catch_all=rng.random() < 0.15,
        fit=round(fit, 3),
        searched_industry=searched,
    )


def listed_domain(company: Company) -> str:
    """The domain a business directory lists for ``company``: its own, or for some of the smallest
    the webmail provider their mailbox is at (the company itself keeps its domain)."""
    if company.employees >= MICRO_EMPLOYEES:
        return company.domain
    rng = rng_for("directory-webmail", company.domain)
    return rng.choice(WEBMAIL_DOMAINS) if rng.random() < WEBMAIL_LISTED else company.domain


def email_for(*, first_name: str, last_name: str, domain: str) -> str:
    """The address a person has at a domain: each company uses one pattern."""
    pattern = rng_for("email-pattern", domain).choice(EMAIL_PATTERNS)
    first, last = _slug(first_name), _slug(last_name)
    return pattern.format(f=first, l=last, fi=first[:1]) + "@" + domain


def people_at(company: Company) -> list[Person]:
    rng = rng_for("people", company.domain, company.name)
    count = 1 if company.employees < 10 else rng.choice((1, 2, 2, 3))
    people = []
    titles = list(TITLES)
    for position in range(count):
        # The first contact found is usually the boss; later ones anyone.
        title, seniority, decides = titles[rng.randrange(4)] if position == 0 else rng.choice(titles[4:])
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = email_for(first_name=first, last_name=last, domain=company.domain)
        if company.catch_all:
            status: EmailStatus = "catch_all"
        else:
            status = rng.choices(("deliverable", "invalid", "risky"), weights=(80, 10, 10))[0]
        people.append(
            Person(
                first_name=first,
                last_name=last,
                title=title,
                seniority=seniority,
                decision_maker=decides,
                email=email,
                email_status=status,
                phone=_phone(company.phone_prefix, rng.randrange(10**6, 10**7)),
                linkedin_url=f"https://www.linkedin.com/in/{_slug(first)}-{_slug(last)}-{rng.randrange(100, 999)}",
                company=company,
            )
        )
    return people


def search_people(*, query: str, location: str, start: int, count: int) -> list[Person]:
    """``count`` people from the companies a search finds, beginning at company ``start``."""
    found: list[Person] = []
    index = start
    while len(found) < count:
        found.extend(people_at(company_at(query=query, location=location, index=index)))
        index += 1
    return found[:count]


def stranger(email: str) -> Person:
    """Someone the world did not generate (imported by hand): a plausible, average prospect."""
    local, _, domain = email.lower().partition("@")
    rng = rng_for("stranger", email.lower())
    company = Company(
        name=domain.split(".")[0].capitalize() or "Unknown",
        domain=domain,
        industry="unknown",
        employees=rng.randint(5, 300),
        annual_revenue=rng.randint(500_000, 20_000_000),
        city="",
        country="",
        timezone="UTC",
        phone_prefix="",
        tech=(),
        signals=(),
        catch_all=rng.random() < 0.1,
        fit=round(rng.uniform(0.3, 0.7), 3),
    )
    status: EmailStatus = rng.choices(("deliverable", "invalid", "risky"), weights=(75, 15, 10))[0]
    first = local.split(".")[0].capitalize()
    return Person(
        first_name=first,
        last_name=local.split(".")[-1].capitalize() if "." in local else "",
        title="",
        seniority="",
        decision_maker=False,
        email=email.lower(),
        email_status="catch_all" if company.catch_all else status,
        phone="",
        linkedin_url="",
        company=company,
    )
