"""The failures an end-to-end run on the sandbox market has on purpose, for the tests to tell apart.

Some of the smallest businesses are listed with a webmail domain as their website; the email finder
refuses to search it (the market's Findymail, a 422), so those runs fail for good and their leads stop
without an address. Anything else failed, or left running, is a fault.
"""

from __future__ import annotations

from django.db.models import QuerySet

from agents.models import AgentRun
from crm.models import Lead
from integrations.sandbox.world import WEBMAIL_DOMAINS


def refused_webmail_searches() -> QuerySet[AgentRun]:
    refused = AgentRun.objects.filter(agent_name="email_finder", status=AgentRun.Status.FAILED)
    assert all("webmail provider" in run.error for run in refused), list(refused.values_list("error", flat=True))
    return refused


def unexpected_runs() -> QuerySet[AgentRun]:
    """Runs failed or left running, but for the refused webmail searches."""
    stuck = AgentRun.objects.filter(status__in=[AgentRun.Status.FAILED, AgentRun.Status.RUNNING])
    return stuck.exclude(pk__in=refused_webmail_searches())


def webmail_leads(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """The leads listed with a webmail domain: each refused once, none given an address."""
    webmail = leads.filter(company__domain__in=WEBMAIL_DOMAINS)
    assert webmail.count() == refused_webmail_searches().count()
    assert not webmail.filter(email__isnull=False).exists()
    return webmail
