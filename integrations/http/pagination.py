"""Pagination helpers: a provider method fetches one page, these walk them all.

Each stops at ``max_pages`` so a vendor that keeps returning a cursor cannot loop a worker forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

MAX_PAGES = 100


def by_cursor(
    fetch: Callable[[str | None], tuple[Sequence[T], str | None]], *, max_pages: int = MAX_PAGES
) -> Iterator[T]:
    """``fetch(cursor) -> (items, next_cursor)``; the first call gets None; an empty cursor ends."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        items, cursor = fetch(cursor)
        yield from items
        if not cursor or cursor in seen:  # a repeated cursor would loop forever
            return
        seen.add(cursor)


def by_page(
    fetch: Callable[[int], Sequence[T]], *, page_size: int, first_page: int = 1, max_pages: int = MAX_PAGES
) -> Iterator[T]:
    """``fetch(page_number)``; a page shorter than ``page_size`` is the last."""
    for page in range(first_page, first_page + max_pages):
        items = fetch(page)
        yield from items
        if len(items) < page_size:
            return


def by_offset(fetch: Callable[[int], Sequence[T]], *, limit: int, max_pages: int = MAX_PAGES) -> Iterator[T]:
    """``fetch(offset)`` returning up to ``limit`` items; a short page is the last."""
    offset = 0
    for _ in range(max_pages):
        items = fetch(offset)
        yield from items
        if len(items) < limit:
            return
        offset += len(items)
