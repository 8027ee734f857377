"""The agency's decisions that bench/lifecycle switches off, one at a time (the ablation) or all
together (the naive policy of issue #20: no scoring, no personalisation, no send windows, no
reminders, no follow-ups; everyone gets the same copy).

A decision is switched off the way an agency without it would work, not by breaking the chain:

- an agent that only adds something (a reminder, a briefing, a report) is switched off by name
  (``bench.arms``: its beat disabled, any run started for it canceled);
- a decision the chain cannot do without is replaced by the choice a team without it makes:
  without scoring every verified lead is contacted; without personalisation the first email has
  no researched line; without send windows an email goes when the scheduler gets to it; without
  follow-ups a sequence is its first email. These are patches of the agent's decision, live only
  while the arm runs, in the arm's own process.

What stays in every arm: verification (an undeliverable address is no lead for anyone), the
compliance gates (suppression, caps, footer), the meeting, proposal and client agents' own work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class Decision:
    name: str
    what: str
    off: tuple[str, ...] = ()  # agents switched off by name
    patches: tuple[Callable[[], contextlib.AbstractContextManager[Any]], ...] = field(default=())
    # What the decision's agents act on, or first write (a model label): while none exists, and they
    # have left no trace, the arm without it is still the full agency, and may start from the full
    # arm's state (bench/lifecycle/forks.py). An agent that says when its next item falls due
    # (next_work_at: a reminder's hour) must name what it acts on: its hints shape the clock's steps
    # before it writes anything. None: the decision acts from the first day (or by a patch).
    acts_on: str | None = None
    # The agents whose decision a patch replaces: until the first of their runs, the patch has
    # changed nothing (a patch must be gated so, or by ``acts_on``, for its arm to be forked).
    decides: tuple[str, ...] = ()

    @property
    def gated(self) -> bool:
        """Whether the full arm can tell when this decision first makes a difference: its agents
        switched off leave a trace, and each patch waits for ``acts_on`` or ``decides``."""
        return not self.patches or bool(self.acts_on or self.decides)


def _qualify_everyone() -> contextlib.AbstractContextManager[Any]:
    from crm.agents.lead_scoring import LeadScoring, Score
    from crm.services.scoring import QUALIFY_AT

    def decide(self: Any, ctx: Any, facts: Any) -> Score:
        card = facts.card
        if card.hard_stop:  # an unreachable address or an excluded company: no one writes to it
            return Score(score=card.score, qualified=False, reasons=card.reasons)
        return Score(
            score=max(card.score, QUALIFY_AT),
            qualified=True,
            reasons=["no scoring: every reachable lead is contacted"],
        )

    return mock.patch.object(LeadScoring, "decide", decide)


def _copy(*, personal: bool, follow_ups: bool) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """The copywriter's own sequence, without the researched first line and/or without the follow-ups."""

    def patch() -> contextlib.AbstractContextManager[Any]:
        from crm.agents.campaign.copywriting import Copywriting, Sequence, heuristic_sequence

        def decide(self: Any, ctx: Any, facts: Any) -> Sequence:
            steps = heuristic_sequence(facts.agency, facts.pains).steps
            if not personal:
                steps = [s.model_copy(update={"body": s.body.replace("{{ first_line }}\n\n", "")}) for s in steps]
            return Sequence(steps=steps if follow_ups else steps[:1])

        return mock.patch.object(Copywriting, "decide", decide)

    return patch


@contextlib.contextmanager
def _any_time() -> Iterator[None]:
    def now_is_fine(*args: Any, **kwargs: Any) -> bool:
        return True

    def as_soon_as(enrollment: Any, after: dt.datetime, *, step: int | None = None) -> dt.datetime:
        return after

    with (
        mock.patch("crm.agents.campaign.sequence_scheduler.in_window", now_is_fine),
        mock.patch("crm.agents.campaign.sequence_scheduler.slot_for", as_soon_as),
        mock.patch("crm.agents.campaign.send_time.slot_for", as_soon_as),
    ):
        yield


DECISIONS = {
    d.name: d
    for d in (
        Decision("scoring", "every reachable lead contacted", patches=(_qualify_everyone,), decides=("lead_scoring",)),
        Decision(
            "personalisation",
            "no researched first line",
            off=("personalization",),
            patches=(_copy(personal=False, follow_ups=True),),
            decides=("copywriting",),
        ),
        # Its patches read an enrollment's window and slot: nothing to change before the first one.
        Decision(
            "send windows",
            "sent whenever the scheduler ticks",
            off=("send_time_optimization",),
            patches=(_any_time,),
            acts_on="crm.Enrollment",
        ),
        Decision(
            "email follow-ups",
            "a sequence of one email",
            patches=(_copy(personal=True, follow_ups=False),),
            decides=("copywriting",),
        ),
        Decision("a/b testing", "one copy for everyone", off=("ab_testing", "campaign_optimizer")),
        Decision("reminders", "no meeting reminders", off=("meeting_reminder",), acts_on="sales.Meeting"),
        Decision("meeting prep", "no briefing before a call", off=("meeting_prep",), acts_on="sales.Meeting"),
        Decision("no-show recovery", "a missed call stays missed", off=("no_show_recovery",), acts_on="sales.Meeting"),
        Decision(
            "proposal follow-ups", "a proposal is sent once", off=("proposal_follow_up",), acts_on="sales.Proposal"
        ),
        # Their first act is their own row (a report; an assessment, which a handoff asks for): a client
        # alone gives neither work before a report falls due or a client's health drops.
        Decision("client reporting", "no weekly reports", off=("client_reporting",), acts_on="delivery.ClientReport"),
        Decision(
            "churn saves",
            "no save play for a client at risk",
            off=("churn_risk",),
            acts_on="delivery.ChurnRiskAssessment",
        ),
    )
}
# The naive policy: everything the issue names, at once. Its copy is one email without the researched
# line (one patch of the copy, where the ablation has one for each).
NAIVE = ("scoring", "send windows", "a/b testing", "reminders", "proposal follow-ups")
NAIVE_COPY = Decision(
    "naive copy",
    "one email, the same for everyone",
    off=("personalization",),
    patches=(_copy(personal=False, follow_ups=False),),
    decides=("copywriting",),
)


def arm_decisions(arm: str) -> list[Decision]:
    """``full``: every decision on; ``naive``: the naive policy; ``-<decision>``: one switched off."""
    if arm == "full":
        return []
    if arm == "naive":
        return [*(DECISIONS[n] for n in NAIVE), NAIVE_COPY]
    if arm.startswith("-") and arm[1:] in DECISIONS:
        return [DECISIONS[arm[1:]]]
    raise SystemExit(f"unknown arm {arm!r}: full, naive or -<decision> ({', '.join(DECISIONS)})")


@contextlib.contextmanager
def applied(decisions: list[Decision]) -> Iterator[tuple[str, ...]]:
    """The patches live for the block; yields the agents switched off by name."""
    with contextlib.ExitStack() as stack:
        for decision in decisions:
            for patch in decision.patches:
                stack.enter_context(patch())
        yield tuple(sorted({name for d in decisions for name in d.off}))
