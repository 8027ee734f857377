"""The meeting agents (AGENTS.md "Meeting", first half): from a prospect's yes to a call that was held
or missed. One module per agent; what they share is in ``common`` and the calendar acts in ``bookings``."""

from sales.agents.meeting import bookings, lifecycle, no_show, reminder, scheduler

__all__ = ["bookings", "lifecycle", "no_show", "reminder", "scheduler"]
