"""What the web says in the sandbox: company pages, news, people's public profiles, niches, competitors.

SANDBOX.md: "the hidden fit includes a part that only research reveals". A company's buying signals
(``Company.signals``, 0.15 of its fit) never reach the lead search; they are on its own pages
(the careers page says it is hiring, the news page says it raised a round or opened a location)
and in news search answers. A researcher who reads the pages finds them; one who does not, cannot.
Everything is computed from the market's own identities (domain, address, industry name).
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.sandbox.rng import rng_for, stable_hash
from integrations.sandbox.world import Company, Person, normalise

# Where each signal shows on a company's site: a hiring push is on the careers page, the rest is news.
HIRING = "is hiring for operations roles"
OFFERINGS = {
    "dental clinics": "general and cosmetic dentistry, implants and emergency appointments",
    "law firms": "legal advice in business, family and property law",
    "saas": "a subscription software platform for small teams",
    "ecommerce": "an online store shipping consumer products nationwide",
    "real estate agencies": "home sales, lettings and property management",
    "accounting firms": "bookkeeping, tax returns and payroll for small businesses",
    "marketing agencies": "paid ads, SEO and content for local businesses",
    "logistics": "freight forwarding, warehousing and last-mile delivery",
    "manufacturing": "contract manufacturing of machined parts",
    "medical practices": "primary care, check-ups and specialist referrals",
    "construction": "commercial and residential construction projects",
    "insurance brokers": "business and personal insurance policies",
    "recruiting agencies": "permanent and contract recruitment",
    "education": "courses and tutoring for students and professionals",
}
PAGES = ("", "/about", "/careers", "/news")


def offering(company: Company) -> str:
    return OFFERINGS.get(company.industry, f"services for {company.industry} customers")


def page(company: Company, path: str) -> tuple[str, str] | None:
    """(title, markdown) of one page of the company's site, or None (a 404)."""
    path = path.rstrip("/")
    name = company.name
    if path in ("", "/index.html", "/home"):
        return name, (
            f"# {name}\n\n{name} provides {offering(company)} from {company.city or 'its office'}.\n\n"
            f"Book an appointment or ask us a question: call us or use the contact form."
        )
    if path == "/about":
        return f"About {name}", (
            f"# About us\n\n{name} is a {company.industry} business in {company.city}, {company.country}. "
            f"Our team of about {company.employees} people works with {', '.join(company.tech) or 'few tools'}."
        )
    if path == "/careers":
        if HIRING in company.signals:
            return f"Careers at {name}", f"# Careers\n\n{name} {HIRING}. Open positions: Operations Coordinator."
        return f"Careers at {name}", "# Careers\n\nThere are no open positions at the moment."
    if path == "/news":
        news = [s for s in company.signals if s != HIRING]
        lines = "\n".join(f"- {name} {signal}." for signal in news) or "No news yet."
        return f"News from {name}", f"# News\n\n{lines}"
    return None


def news(company: Company) -> str:
    said = " ".join(f"{company.name} {signal}." for signal in company.signals)
    return said or f"No recent news about {company.name} was found."


# --- people -----------------------------------------------------------------------------------

TOPICS = (
    "customer response times",
    "hiring in a tight labour market",
    "switching to a new booking system",
    "growing a second location",
    "automating admin work",
    "patient and client reviews",
)


@dataclass(frozen=True)
class Profile:
    """What a person's public profile says: true facts about them (the sandbox's own)."""

    role: str
    tenure_years: int
    recent_post: str

    def sentences(self, person: Person) -> list[str]:
        return [
            f"{person.full_name} is {person.title} at {person.company.name}.",
            f"{person.full_name} has been at {person.company.name} for {self.tenure_years} years.",
            f"{person.full_name} recently posted about {self.recent_post}.",
        ]


def profile(person: Person) -> Profile:
    rng = rng_for("profile", person.email)
    return Profile(role=person.title, tenure_years=rng.randint(1, 15), recent_post=rng.choice(TOPICS))


# --- niches and competitors -------------------------------------------------------------------


@dataclass(frozen=True)
class NicheFacts:
    businesses: int  # in the agency's reachable markets
    avg_software_budget: int  # USD per year
    agencies_serving: int  # competitors offering AI automation to this niche
    with_public_emails: float  # share of businesses with a reachable decision maker


def niche_facts(industry: str) -> NicheFacts:
    rng = rng_for("niche", normalise(industry))
    return NicheFacts(
        businesses=rng.randrange(2_000, 60_000, 100),
        avg_software_budget=rng.randrange(3_000, 40_000, 500),
        agencies_serving=rng.randint(3, 80),
        with_public_emails=round(rng.uniform(0.2, 0.8), 2),
    )


def niche_answer(industry: str) -> str:
    f = niche_facts(industry)
    return (
        f"There are about {f.businesses:,} {industry} businesses in the target markets. "
        f"They spend on average ${f.avg_software_budget:,} a year on software and outside services. "
        f"About {f.agencies_serving} agencies offer AI automation to {industry}. "
        f"About {round(f.with_public_emails * 100)}% list a reachable owner or manager."
    )


COMPETITOR_NAMES = ("Automata", "BotForge", "FlowWise", "Neural Ops", "AssistIQ", "Clerkly", "Pipeline AI", "Tasker")
POSITIONING = (
    "positions itself as the cheapest chatbot setup",
    "sells done-for-you workflow automation with a monthly retainer",
    "offers AI receptionists for phone and chat",
    "focuses on strategy workshops and training",
)


def competitors(industry: str) -> list[tuple[str, str, str, int]]:
    """(name, domain, positioning, monthly price in USD) of agencies serving the niche."""
    rng = rng_for("competitors", normalise(industry))
    chosen = rng.sample(COMPETITOR_NAMES, k=3)
    return [
        (
            f"{name} for {industry.title()}",
            f"{name.lower().replace(' ', '')}{stable_hash(industry) % 100}.com",
            rng.choice(POSITIONING),
            rng.randrange(300, 5_000, 50),
        )
        for name in chosen
    ]
