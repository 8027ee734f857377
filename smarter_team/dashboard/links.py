"""A figure's changelist: the admin URL whose querystring selects exactly the rows the figure counts.

Each figure is computed from the same lookups it links with (``rows``/``changelist``), so what the
dashboard shows and what a click lists cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.db import models
from django.urls import reverse

Lookups = Mapping[str, Any]


def _param(value: Any) -> str:
    """A lookup value as the admin's changelist reads it back from the querystring."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)  # an __in lookup: the admin splits on commas
    return str(value)


def changelist(model: type[models.Model] | str, lookups: Lookups | None = None) -> str:
    cls = apps.get_model(model) if isinstance(model, str) else model
    url = reverse(f"admin:{cls._meta.app_label}_{cls._meta.model_name}_changelist")
    return f"{url}?{urlencode({k: _param(v) for k, v in lookups.items()})}" if lookups else url


def rows(model: type[models.Model] | str, lookups: Lookups) -> models.QuerySet[Any]:
    cls = apps.get_model(model) if isinstance(model, str) else model
    return cls._default_manager.filter(**lookups)


@dataclass(frozen=True)
class Figure:
    """A count and the changelist listing the rows it counts. ``key`` is the element's stable id."""

    key: str
    label: str
    count: int
    url: str


def count_figure(key: str, label: str, model: type[models.Model] | str, lookups: Lookups) -> Figure:
    return Figure(key, label, rows(model, lookups).count(), changelist(model, lookups))


def between(field: str, start: dt.datetime | None, end: dt.datetime | None = None) -> dict[str, Any]:
    """``start <= field < end`` as lookups (either bound may be open)."""
    found: dict[str, Any] = {}
    if start is not None:
        found[f"{field}__gte"] = start
    if end is not None:
        found[f"{field}__lt"] = end
    return found
