"""Operations console for the crm: research, leads, campaigns, conversations and the suppression list.

Statuses are read-only: they move through actions that call the services (state machines and side
effects live there). Changelists annotate counts and join what ``__str__`` needs, so a page costs
the same number of queries with 20 rows as with 2. One module per area; importing registers them.
"""

from crm.admin import agency, conversations, leads, outreach, research

__all__ = ["agency", "conversations", "leads", "outreach", "research"]
