"""Changelists that stay fast at millions of rows: the console's building block for its big tables.

Measured with a million rows (bench/admin), a stock changelist spends almost all its time outside
the page's own SELECT: the date hierarchy's MIN/MAX and DISTINCT DATE_TRUNC over the whole table,
a DISTINCT per free-text list filter, an exact COUNT, and a search whose ``%term%`` match no index
serves, run once per count and once per page. ``LargeTableMixin`` removes each of them:

- ``EstimatedCountPaginator``: counts exactly up to ``EXACT_COUNT_UP_TO`` rows, beyond that asks
  PostgreSQL's planner (the page says "about N" and offers no links to the far end);
- ``DateFilter`` replaces the date hierarchy: fixed ranges (today, past 7 days...) on business time,
  served by the column's index;
- ``values_filter`` (options from the code: the agent registry, the outbox kinds...) and
  ``RecentValuesFilter`` (the values of the latest rows) replace ``AllValuesFieldListFilter``;
- the search ORs its fields per table and unions the tables' matches, so each field's index
  (trigram GIN on PostgreSQL, see ``smarter_team.migration_ops``) serves its part, and related
  fields never force a join over every row;
- only columns an index can sort are sortable, and facet counts are off.

``check()`` refuses a large-table admin that declares a date hierarchy or a free-text list filter
without one of these, so the next ModelAdmin cannot bring the slow path back unnoticed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.options import ShowFacets
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from smarter_team import clock

# Counting up to this many rows costs a few milliseconds whatever the table's size; past it the
# planner's estimate is as useful to a person paging through and costs nothing.
EXACT_COUNT_UP_TO = 1000
# How many of the newest rows RecentValuesFilter reads for its options.
RECENT_ROWS = 2000
# A search reads the ids it matches first when they are at most this many (indexed_search).
SEARCH_IDS_UP_TO = 1000


# --- counting -------------------------------------------------------------------------------------


def planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` returns (EXPLAIN, nothing executed); None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # a driver that does not decode json
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact up to ``EXACT_COUNT_UP_TO`` rows, PostgreSQL's estimate beyond (``estimated`` says which).

    Elsewhere (SQLite, the embedded default for small installs) the count stays exact.
    """

    exact_up_to = EXACT_COUNT_UP_TO
    _estimated = False

    @property
    def estimated(self) -> bool:
        """Whether ``count`` is the planner's estimate (counting first if it has not been)."""
        return bool(self.count) and self._estimated

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return super().count
        # Only the ids: annotations (a per-row subquery, a related count) would be computed for
        # every row counted.
        ids = rows.order_by().values("pk")
        bounded = ids[: self.exact_up_to + 1].count()
        if bounded <= self.exact_up_to:
            return bounded
        estimate = planner_estimate(ids)
        if estimate is None:
            return rows.count()
        self._estimated = True
        return max(bounded, estimate)

    def get_elided_page_range(
        self, number: int | float | str = 1, *, on_each_side: int = 3, on_ends: int = 2
    ) -> Iterator[Any]:
        """With an estimate, no links to the far end: its page numbers would be guesses."""
        if not self.estimated:
            yield from super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends)
            return
        current = self.validate_number(number)
        if current > on_each_side + on_ends + 1:
            yield from range(1, on_ends + 1)
            yield self.ELLIPSIS
            yield from range(current - on_each_side, current + 1)
        else:
            yield from range(1, current + 1)
        following = range(current + 1, min(current + on_each_side, self.num_pages) + 1)
        yield from following
        if following and following[-1] < self.num_pages:
            yield self.ELLIPSIS


# --- filters --------------------------------------------------------------------------------------


class DateFilter(admin.DateFieldListFilter):
    """Fixed date ranges on business time (``clock.now``), each a range scan on the column's index.

    Replaces ``date_hierarchy``, whose MIN/MAX and DISTINCT DATE_TRUNC read the whole table.
    """

    def __init__(self, field: Any, request: HttpRequest, params: Any, model: Any, model_admin: Any, field_path: str):
        super().__init__(field, request, params, model, model_admin, field_path)
        now = timezone.localtime(clock.now())
        today: dt.date | dt.datetime = now.date()
        if isinstance(field, models.DateTimeField):
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        tomorrow = today + dt.timedelta(days=1)
        since, until = self.lookup_kwarg_since, self.lookup_kwarg_until
        links: list[tuple[str, dict[str, Any]]] = [
            ("Any date", {}),
            ("Today", {since: today, until: tomorrow}),
            ("Past 7 days", {since: today - dt.timedelta(days=7), until: tomorrow}),
            ("Past 30 days", {since: today - dt.timedelta(days=30), until: tomorrow}),
            (
                "This year",
                {since: today.replace(month=1, day=1), until: today.replace(year=today.year + 1, month=1, day=1)},
            ),
        ]
        if field.null:
            links += [
                ("No date", {f"{self.field_generic}isnull": True}),
                ("Has date", {f"{self.field_generic}isnull": False}),
            ]
        self.links = tuple(links)


class _ListedValuesFilter(admin.AllValuesFieldListFilter):
    """An exact-match filter whose options come from ``options()`` instead of a DISTINCT over the table."""

    def __init__(self, field: Any, request: HttpRequest, params: Any, model: Any, model_admin: Any, field_path: str):
        super().__init__(field, request, params, model, model_admin, field_path)  # builds a lazy query, never run
        listed: list[Any] = list(self.options(model, field_path))
        for chosen in self.lookup_val or []:  # the chosen value always shows, even if no longer listed
            if chosen not in {str(value) for value in listed}:  # the URL's values are text
                listed.append(chosen)
        self.lookup_choices = cast(Any, listed)  # Django's own is a lazy queryset of the same values

    def options(self, model: type[models.Model], field_path: str) -> Iterable[str]:
        raise NotImplementedError


def values_filter(options: Callable[[], Iterable[str]]) -> type[admin.AllValuesFieldListFilter]:
    """A list filter offering ``options()`` (a registry's names, a fixed set), read when the page renders.

    ``list_filter = (("agent_name", values_filter(agent_names)),)``.
    """

    class ValuesFilter(_ListedValuesFilter):
        def options(self, model: type[models.Model], field_path: str) -> Iterable[str]:
            return sorted(set(options()))

    return ValuesFilter


class RecentValuesFilter(_ListedValuesFilter):
    """For free-text columns no registry lists (a lead's source, an audit action): the values among
    the newest ``RECENT_ROWS`` rows, read through the primary key's index. A value seen only in
    older rows is not offered (a search or the URL still filters by it)."""

    def options(self, model: type[models.Model], field_path: str) -> Iterable[str]:
        newest = model._default_manager.order_by("-pk").values_list(field_path, flat=True)[:RECENT_ROWS]
        return sorted({value for value in newest if value is not None}, key=str)


# --- search -----------------------------------------------------------------------------------------


def _lookup_and_relation(model: type[models.Model], name: str) -> tuple[str, str]:
    """A search field as Django's admin reads it (``^`` istartswith, ``=`` iexact, ``@`` search, an
    explicit lookup, else icontains), with the relation path it goes through ("" for the model's own)."""
    prefixes = {"^": "istartswith", "=": "iexact", "@": "search"}
    lookup = prefixes.get(name[:1], "")
    path = name[1:] if lookup else name
    opts, hops, parts = model._meta, list[str](), path.split("__")
    for i, part in enumerate(parts):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return path, "__".join(hops)  # the rest is an explicit lookup (``key__exact``)
        if field.is_relation and i < len(parts) - 1:
            hops.append(part)
            opts = field.path_infos[-1].to_opts  # type: ignore[union-attr]
    return f"{path}__{lookup or 'icontains'}", "__".join(hops)


def search_words(search_term: str) -> list[str]:
    """The words of a search as the admin splits them (quoted phrases stay whole)."""
    words = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit:
            words.append(bit)
    return words


def indexed_search(queryset: QuerySet[Any], search_fields: Sequence[str], search_term: str) -> QuerySet[Any]:
    """Every word must match one of the fields; per word, one OR per table, the tables' ids united.

    ``lead.email LIKE x OR company.name LIKE x`` over a join can use no index and reads every lead;
    ``id IN (leads whose email matches UNION leads of companies whose name matches)`` lets each
    side use its own index, and a multi-valued relation needs no DISTINCT over the result.

    The matching ids are then read first, up to ``SEARCH_IDS_UP_TO``: the planner cannot know that
    a term matches three rows, and with the page's ORDER BY ... LIMIT it would rather walk the
    whole table in order hoping to meet fifty of them. With the ids in hand the count and the page
    read just those rows. A term matching more rows than that is common enough for that walk.
    """
    model = queryset.model
    by_relation: dict[str, list[str]] = {}
    for name in search_fields:
        lookup, relation = _lookup_and_relation(model, name)
        by_relation.setdefault(relation, []).append(lookup)
    words: list[tuple[Q, QuerySet[Any]]] = []  # per word: its condition, and the query of its ids
    for word in search_words(search_term):
        matches = [
            model._default_manager.filter(_any_of(lookups, word)).values_list("pk", flat=True)
            for lookups in by_relation.values()
        ]
        if len(matches) == 1 and "" in by_relation:
            words.append((_any_of(by_relation[""], word), matches[0]))
        else:
            ids = matches[0].union(*matches[1:]) if len(matches) > 1 else matches[0]
            words.append((Q(pk__in=ids), ids))
    for i, (_, ids_query) in enumerate(words):
        ids = list(ids_query[: SEARCH_IDS_UP_TO + 1])
        if len(ids) <= SEARCH_IDS_UP_TO:  # all of this word's rows: the other words filter just these
            return queryset.filter(Q(pk__in=ids), *(condition for j, (condition, _) in enumerate(words) if j != i))
    return queryset.filter(*(condition for condition, _ in words))


def _any_of(lookups: list[str], word: str) -> Q:
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{lookup: word})
    return condition


# --- the mixin --------------------------------------------------------------------------------------


def index_sortable(model: type[models.Model]) -> set[str]:
    """Fields a changelist can sort by with an index: unique ones, and dates and numbers that lead an index.

    A low-cardinality column (a status) that leads an index still sorts its largest group in full.
    """
    leading: set[str] = set()
    for index in model._meta.indexes:
        if index.fields:
            leading.add(index.fields[0].lstrip("-"))
    names = {
        constraint.fields[0]
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and len(constraint.fields) == 1 and not constraint.condition
    }
    for field in model._meta.concrete_fields:
        if (
            field.primary_key
            or field.unique
            or (
                (getattr(field, "db_index", False) or field.name in leading)
                and isinstance(
                    field, models.DateField | models.DateTimeField | models.IntegerField | models.DecimalField
                )
            )
        ):
            names.add(field.name)
    return names


class LargeTableMixin(admin.ModelAdmin):
    """For the ModelAdmin of a table that grows without bound (runs, messages, leads, logs...).

    Put it first: ``class AgentRunAdmin(LargeTableMixin, BaseAdmin)``. See the module docstring.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    date_hierarchy = None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        fields = self.get_search_fields(request)
        if not fields or not search_term.strip():
            return queryset, False
        return indexed_search(queryset, fields, search_term), False

    def get_sortable_by(self, request: HttpRequest) -> Any:
        sortable = index_sortable(self.model)
        return [name for name in self.get_list_display(request) if self._sort_field(name) in sortable]

    def _sort_field(self, name: Any) -> str:
        if isinstance(name, str) and hasattr(self, name):
            name = getattr(getattr(self, name), "admin_order_field", None) or ""
        return str(name).lstrip("-") if isinstance(name, str) else ""

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *large_table_checks(self)]


def large_table_checks(model_admin: Any) -> list[checks.CheckMessage]:
    """What would bring back a full-table pass on every page load."""
    found: list[checks.CheckMessage] = []
    label = f"{type(model_admin).__name__} ({model_admin.model._meta.label})"
    if model_admin.date_hierarchy:
        found.append(
            checks.Error(
                f"{label}: date_hierarchy reads the whole table (MIN/MAX, DISTINCT) on every page load; "
                f"list_filter ('{model_admin.date_hierarchy}', DateFilter) instead",
                obj=type(model_admin),
                id="smarter_team.E101",
            )
        )
    for entry in model_admin.list_filter:
        if not isinstance(entry, str):
            continue
        try:
            field = model_admin.model._meta.get_field(entry)
        except FieldDoesNotExist:
            continue
        if field.is_relation:
            related = admin.site._registry.get(field.related_model)
            if not isinstance(related, LargeTableMixin):
                continue  # a small related table (campaigns, content types): its rows are the options
            hint = "a search on the related field"
        elif field.choices or isinstance(field, models.BooleanField | models.DateField):
            continue  # fixed choices, two values, or date ranges: no DISTINCT over this table
        else:
            hint = f"('{entry}', values_filter(...)) or ('{entry}', RecentValuesFilter)"
        found.append(
            checks.Error(
                f"{label}: list filter {entry!r} would read every row for its options; use {hint}",
                obj=type(model_admin),
                id="smarter_team.E102",
            )
        )
    return found


def related_count(model: type[models.Model], field: str) -> Coalesce:
    """``Count`` of related rows as a per-row subquery: computed for the 50 rows shown, where an
    aggregate annotation joins and groups every row of both tables before the page is cut."""
    rows = model._default_manager.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


def truncated(text: str | None, length: int = 60) -> str:
    """A long text cut for a changelist cell; the whole of it in the title (shown on hover)."""
    text = (text or "").strip()
    if len(text) <= length:
        return text or "-"
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1].rstrip())
