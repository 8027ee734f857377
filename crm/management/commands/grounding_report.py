"""`manage.py grounding_report [--campaign ID]`: the share of sent first lines that cite a fact.

Counted by crm.services.grounding_stats from the messages that left (campaign_analytics keeps the
same figures in each day's CampaignStats totals).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crm.models import Campaign
from crm.services.grounding_stats import FirstLines, first_lines_by_campaign


class Command(BaseCommand):
    help = "Print the share of sent cold-email first lines that cite a stored, sourced finding."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", type=int, default=None, help="one campaign's id")

    def handle(self, *args: Any, **options: Any) -> None:
        tallies = first_lines_by_campaign(campaign_id=options["campaign"])
        names = dict(Campaign.objects.filter(pk__in=tallies).values_list("pk", "name"))
        for pk in sorted(tallies):
            self.stdout.write(f"campaign #{pk} {names.get(pk, '')}: {tallies[pk].describe()}")
        self.stdout.write(f"all: {sum(tallies.values(), FirstLines()).describe()}")
