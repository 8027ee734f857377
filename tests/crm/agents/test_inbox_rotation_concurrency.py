"""Mailbox caps under concurrent senders, against the real PostgreSQL (committed transactions)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import transaction

from crm.models import MailboxDay
from crm.services.mailboxes import DaySends, reserve_send
from tests.concurrency import at_once
from tests.factories.crm import MailboxFactory

THREADS = 6
PER_THREAD = 5


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_never_pass_a_mailbox_cap() -> None:
    # Two mailboxes with 12 sends between them (one warming: 5 today), no counter rows yet.
    a = MailboxFactory.create(daily_cap=7)
    b = MailboxFactory.create(daily_cap=40, warmup_stage=1)
    day = dt.date(2026, 3, 2)
    taken: list[int | None] = []
    lock = threading.Lock()

    def sender() -> None:
        for _ in range(PER_THREAD):
            with transaction.atomic():
                picked = reserve_send(mailboxes=[a, b], day=day)
            with lock:
                taken.append(picked.pk if picked else None)

    assert at_once(sender, threads=THREADS) == []
    assert taken.count(a.pk) == 7 and taken.count(b.pk) == 5 and taken.count(None) == THREADS * PER_THREAD - 12
    counts = dict(MailboxDay.objects.filter(day=day).values_list("mailbox_id", "sent"))
    assert counts == {a.pk: 7, b.pk: 5}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_of_sends_never_pass_a_cap_nor_deadlock() -> None:
    # As the scheduler sends: each worker's transaction reserves several sends (DaySends locks the
    # counters once, at its first reservation, and holds them to the commit).
    boxes = [MailboxFactory.create(daily_cap=cap) for cap in (3, 4, 5)]
    day = dt.date(2026, 3, 2)
    taken: list[int | None] = []
    lock = threading.Lock()

    def sender() -> None:
        for _ in range(2):
            with transaction.atomic():
                senders = DaySends(boxes, day)
                picked = [senders.reserve() for _ in range(PER_THREAD)]
            with lock:
                taken.extend(p.pk if p else None for p in picked)

    assert at_once(sender, threads=THREADS) == []
    caps = {boxes[0].pk: 3, boxes[1].pk: 4, boxes[2].pk: 5}
    assert {pk: taken.count(pk) for pk in caps} == caps
    assert taken.count(None) == THREADS * 2 * PER_THREAD - 12
    assert dict(MailboxDay.objects.filter(day=day).values_list("mailbox_id", "sent")) == caps
