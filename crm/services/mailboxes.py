"""Write paths for sending mailboxes: pausing a mailbox protects its domain's reputation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction

from crm.models import Mailbox, MailboxDay

__all__ = ["DaySends", "advance_warmup", "effective_cap", "mailbox_pause", "mailbox_resume", "reserve_send"]


@transaction.atomic
def mailbox_pause(*, mailbox: Mailbox, reason: str) -> bool:
    """Stop sending from a mailbox (the sender skips paused ones); returns whether it changed."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if locked.paused:
        return False
    locked.paused, locked.paused_reason = True, reason[:255]
    locked.save(update_fields=["paused", "paused_reason"])
    mailbox.paused, mailbox.paused_reason = locked.paused, locked.paused_reason
    return True


@transaction.atomic
def mailbox_resume(*, mailbox: Mailbox) -> bool:
    """Allow sending from a paused mailbox again; returns whether it changed."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if not locked.paused:
        return False
    locked.paused, locked.paused_reason = False, ""
    locked.save(update_fields=["paused", "paused_reason"])
    mailbox.paused, mailbox.paused_reason = locked.paused, locked.paused_reason
    return True


# --- daily caps and the warm-up ramp ----------------------------------------------------------

WARMUP_START = 5  # sends on ramp day 1
WARMUP_STEP = 5  # more each ramp day, up to the mailbox's cap


def effective_cap(mailbox: Mailbox) -> int:
    """Today's cap: the mailbox's own, or its warm-up ramp's while it warms up (stage n: 5n)."""
    if mailbox.warmup_stage <= 0:
        return mailbox.daily_cap
    return min(mailbox.daily_cap, WARMUP_START + WARMUP_STEP * (mailbox.warmup_stage - 1))


def _day_row(mailbox_id: int, day: dt.date) -> MailboxDay:
    """The mailbox's counter row for ``day``, locked (created first if missing, race-free)."""
    try:
        with transaction.atomic():
            MailboxDay.objects.get_or_create(mailbox_id=mailbox_id, day=day)
    except IntegrityError:
        pass  # a concurrent worker created it: lock theirs
    return MailboxDay.objects.select_for_update().get(mailbox_id=mailbox_id, day=day)


def reserve_send(*, mailboxes: Iterable[Mailbox], day: dt.date) -> Mailbox | None:
    """Take one send from the mailbox with the most room today (call inside the send's transaction:
    the counter rows stay locked until it commits, so concurrent workers cannot both take the last
    slot). Paused mailboxes are skipped. None: every cap is reached. A sender that sends many in
    one transaction keeps a ``DaySends`` instead: it locks the rows once."""
    return DaySends(mailboxes, day).reserve()


class DaySends:
    """One transaction's sends on ``day`` from a set of mailboxes (a scheduler run's batch).

    The first reservation creates the missing counter rows and locks them all, in mailbox order in
    one statement, so two workers reserving at once queue behind each other instead of
    deadlocking. The locks hold until the transaction ends, so the counts read then stay true for
    it: each later send writes its one row. Locking every row for every send made a send cost as
    much as the mailboxes (250 at 10,000 leads) and a day's sending grow with their square.
    Outside a transaction nothing stays locked, so each reservation locks and reads again."""

    def __init__(self, mailboxes: Iterable[Mailbox], day: dt.date) -> None:
        self.candidates = sorted((m for m in mailboxes if not m.paused), key=lambda m: m.pk)
        self.day = day
        self._rows: dict[int, MailboxDay] | None = None

    def reserve(self) -> Mailbox | None:
        if not self.candidates:
            return None
        if self._rows is None or not connection.in_atomic_block:
            self._rows = _locked_rows(self.candidates, self.day)
        rows = self._rows
        with_room = [m for m in self.candidates if rows[m.pk].sent < effective_cap(m)]
        if not with_room:
            return None
        mailbox = min(with_room, key=lambda m: (rows[m.pk].sent / max(effective_cap(m), 1), m.pk))
        row = rows[mailbox.pk]
        row.sent += 1
        row.save(update_fields=["sent"])
        return mailbox


def _locked_rows(candidates: list[Mailbox], day: dt.date) -> dict[int, MailboxDay]:
    """The candidates' counter rows for ``day``, locked in mailbox order; the missing ones are created
    first. Only the day's first send inserts: a batch of sends (one transaction) with a hundred
    mailboxes no longer offers a hundred rows to insert for each send."""
    locked = MailboxDay.objects.select_for_update().filter(mailbox__in=candidates, day=day).order_by("mailbox_id")
    rows = {row.mailbox_id: row for row in locked}
    if len(rows) < len(candidates):
        missing = [MailboxDay(mailbox=m, day=day) for m in candidates if m.pk not in rows]
        MailboxDay.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {row.mailbox_id: row for row in locked.all()}
    return rows


def advance_warmup(*, mailbox: Mailbox, day: dt.date, ramp_days: int) -> bool:
    """Move a warming mailbox one ramp day on (once per day); past ``ramp_days`` it is warmed up."""
    if mailbox.warmup_stage <= 0:
        return False  # warmed up: no day row to lock (the day's first send creates it)
    row = _day_row(mailbox.pk, day)
    if row.warmup_advanced:
        return False
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    locked.warmup_stage = 0 if locked.warmup_stage >= ramp_days else locked.warmup_stage + 1
    locked.save(update_fields=["warmup_stage"])
    row.warmup_advanced = True
    row.save(update_fields=["warmup_advanced"])
    mailbox.warmup_stage = locked.warmup_stage
    return True
