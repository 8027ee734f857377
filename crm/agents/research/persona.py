"""persona_research: the buyers in a niche (titles, pains, triggers, objections), from the ICP, the
agency's offer and the niche's sourced research; then lead_list_builder finds them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.models import Niche, Persona
from crm.services import findings
from crm.services.agency import profile

OWNER_TITLES = ["Owner", "Founder", "CEO", "Managing Partner", "Managing Director"]
OPS_TITLES = ["COO", "VP of Operations", "Head of Operations", "Operations Manager", "Practice Manager"]
# What makes a service business look for help now, in the words research finds on company pages.
TRIGGERS = [
    "is hiring for operations roles",
    "opened a new location",
    "is migrating to a new CRM",
    "recently raised a funding round",
    "launched a new service line",
]
OBJECTIONS = [
    "We already work with an agency",
    "Too expensive for a company our size",
    "AI might upset our customers",
    "No time to implement anything new",
]


class NicheRef(BaseModel):
    niche_id: int


class PersonaFacts(Facts):
    niche: Niche
    icp_titles: list[str] = Field(default_factory=list)
    icp_pains: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    research: list[str] = Field(default_factory=list)


class PersonaDraft(BaseModel):
    name: str = Field(min_length=2, max_length=128)
    title_patterns: list[str] = Field(min_length=1, max_length=12)
    pains: list[str] = Field(default_factory=list, max_length=10)
    triggers: list[str] = Field(default_factory=list, max_length=10)
    objections: list[str] = Field(default_factory=list, max_length=10)


class Personas(BaseModel):
    personas: list[PersonaDraft] = Field(min_length=1, max_length=4)


class PersonasOut(BaseModel):
    niche_id: int
    personas: list[int] = Field(default_factory=list)


@register
class PersonaResearch(LLMAgent[NicheRef, PersonasOut, Personas]):
    name = "persona_research"
    category = "research"
    trigger = "handoff"
    Input, Facts, Output, Decision = NicheRef, PersonaFacts, PersonasOut, Personas
    next = ("lead_list_builder",)
    system_prompt = (
        "You describe the buyers of an AI services agency's offer in one niche: one to four personas, each "
        "with the job titles to search for, their pains, the events that make them buy now (triggers) and their "
        "usual objections. Use the niche research given; keep each item short."
    )

    def load(self, ctx: RunContext, data: NicheRef) -> PersonaFacts:
        niche = Niche.objects.select_related("icp").get(pk=data.niche_id)
        said = [f.claim for r in niche.reports.order_by("-pk")[:3] for f in findings.load(r.findings)]
        agency = profile()
        return PersonaFacts(
            niche=niche,
            icp_titles=list(niche.icp.titles) if niche.icp else [],
            icp_pains=list(niche.icp.pains) if niche.icp else [],
            services=[str(s) for s in agency.services or []],
            research=said,
        )

    def prompt(self, ctx: RunContext, facts: PersonaFacts) -> str:
        return (
            f"Niche: {facts.niche.name}\nICP titles: {facts.icp_titles}\nICP pains: {facts.icp_pains}\n"
            f"Our services: {facts.services}\nResearch:\n" + "\n".join(f"- {r}" for r in facts.research)
        )

    def heuristic(self, ctx: RunContext, facts: PersonaFacts) -> Personas:
        niche = facts.niche.name
        senior = [t for t in facts.icp_titles if t.lower() in {x.lower() for x in OWNER_TITLES}]
        ops = [t for t in facts.icp_titles if t not in senior]
        pains = facts.icp_pains or [
            f"slow replies to {niche} customer enquiries",
            "staff time lost to repetitive admin",
        ]
        return Personas(
            personas=[
                PersonaDraft(
                    name=f"{niche.title()} owner",
                    title_patterns=list(dict.fromkeys(senior + OWNER_TITLES)),
                    pains=[*pains, "growth limited by the owner's own hours"],
                    triggers=TRIGGERS,
                    objections=OBJECTIONS,
                ),
                PersonaDraft(
                    name=f"{niche.title()} operations lead",
                    title_patterns=list(dict.fromkeys(ops + OPS_TITLES)),
                    pains=[*pains, "manual scheduling and follow-ups"],
                    triggers=TRIGGERS[:3],
                    objections=[*OBJECTIONS[2:], "Needs sign-off from the owner"],
                ),
            ]
        )

    def decide(self, ctx: RunContext, facts: PersonaFacts) -> Personas:
        return ctx.brain.decide_checked(facts, check=_incomplete)

    def act(self, ctx: RunContext, facts: PersonaFacts, decision: Personas) -> PersonasOut:
        out = PersonasOut(niche_id=facts.niche.pk)
        for draft in decision.personas:
            values = draft.model_dump(exclude={"name"})
            persona, created = Persona.objects.get_or_create(niche=facts.niche, name=draft.name[:128], defaults=values)
            if not created:
                ctx.update(ctx.lock(persona), action="persona.researched", **values)
            out.personas.append(persona.pk)
        ctx.handoff("lead_list_builder", {"niche_id": facts.niche.pk})
        return out


def _incomplete(decision: Personas) -> str | None:
    names = [p.name.strip().lower() for p in decision.personas]
    if len(set(names)) != len(names):
        return "two personas with one name"
    if any(not any(t.strip() for t in p.title_patterns) for p in decision.personas):
        return "a persona without titles to search for"
    return None
