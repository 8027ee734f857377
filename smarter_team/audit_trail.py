"""One audit trail: what staff do in the console lands in AuditLog, beside what agents and services wrote.

Django keeps its own table of admin edits (LogEntry) for "Recent actions" and each record's
History page. Services, agents and admin actions write AuditLog, so those pages stayed empty after an
import, a suppression or a replay, while a hand edit was recorded where no report reads. Here the
admin's log hooks write AuditLog (with the fields' values before and after) instead of LogEntry, and
the History page and the index's "Recent actions" read AuditLog: one trail, whoever acted.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.fields.files import FieldFile
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

# Values of fields with these words in their names never reach the trail (a password hash, a token).
SECRET_WORDS = ("password", "secret", "token", "api_key", "signature")
REDACTED = "[redacted]"
HISTORY_PAGE = 100
HISTORY_TEMPLATE = "admin/audit_history.html"
# A field's value is shown this long at most in the trail (a body, a transcript): the row keeps the rest.
SHOWN_CHARS = 300


def plain(value: Any) -> Any:
    """``value`` as JSON: a row is its primary key, times and amounts are strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [plain(v) for v in value]
    return str(value)


def is_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def _shown(name: str, value: Any) -> Any:
    return REDACTED if is_secret(name) and value not in (None, "") else plain(value)


def field_values(obj: models.Model) -> dict[str, Any]:
    """The row's own columns (what a deletion takes away), secrets redacted."""
    return {f.name: _shown(f.name, f.value_from_object(obj)) for f in obj._meta.concrete_fields}


def columns(obj: models.Model) -> dict[str, Any]:
    """The row's columns as loaded (deferred and binary ones left out: reading them costs a query each,
    and a body is not what an action changes); ``updated_at`` too, which every save moves."""
    deferred = obj.get_deferred_fields()
    return {
        f.attname: f.value_from_object(obj)
        for f in obj._meta.concrete_fields
        if f.attname not in deferred and f.name != "updated_at" and not isinstance(f, models.BinaryField)
    }


def changed_columns(obj: models.Model, before: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """What a service changed in ``obj``'s row since ``before`` (``columns`` of it), read back from the
    database, as JSON before/after dicts (secrets redacted); None when the row is gone."""
    now = type(obj)._base_manager.filter(pk=obj.pk).values(*before).first()
    if now is None:
        return None
    names = [n for n in before if now[n] != before[n]]
    return {n: _shown(n, before[n]) for n in names}, {n: _shown(n, now[n]) for n in names}


def form_diff(form: ModelForm, *, add: bool) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Before and after of the model fields a form changed (all of them on an add)."""
    columns = {f.name for f in form.instance._meta.fields} | {f.name for f in form.instance._meta.many_to_many}
    names = [n for n in form.changed_data if n in columns]
    after = {n: _shown(n, form.cleaned_data.get(n)) for n in names}
    before = None if add else {n: _shown(n, form.initial.get(n)) for n in names}
    return before, after


def _message_text(message: Any) -> str:
    # Django's own wording of a change message ("Changed name and email.", "Added lead “x”.").
    raw = message if isinstance(message, str) else json.dumps(message)
    return LogEntry(change_message=raw).get_change_message()


def _related_changes(message: Any) -> list[str]:
    """What inlines added, changed or deleted, in Django's words (the row's own fields are diffed):
    the items of a change message that name a related object."""
    if not isinstance(message, list):
        return []
    related = [
        item
        for item in message
        if isinstance(item, dict) and any(isinstance(v, dict) and "name" in v for v in item.values())
    ]
    return [_message_text([item]) for item in related]


class AuditTrailMixin:
    """For any ModelAdmin: its adds, changes and deletions are AuditLog rows; its History reads them."""

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> Any:
        message = super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]
        # log_addition/log_change get the saved row and Django's summary only; the values are here.
        # (A form of no model, such as a password change, is left to its summary.)
        if isinstance(form, ModelForm):
            request._audit_pending = (form.instance, *form_diff(form, add=add))  # type: ignore[attr-defined]
        return message

    def _audit(self, request: HttpRequest, obj: models.Model, verb: str, message: Any) -> Any:
        from agents.services.audit import record_change

        pending = getattr(request, "_audit_pending", None)
        if pending is not None and pending[0] is obj:
            before, after = pending[1], dict(pending[2])
            request._audit_pending = None  # type: ignore[attr-defined]
        else:  # a log call of Django's own views (a password change): its words, never the values
            before, after = None, {"note": _message_text(message)} if message else {}
        related = _related_changes(message)
        if related:
            after["related"] = related
        user = request.user if request.user.is_authenticated else None
        return record_change(action=f"{obj._meta.model_name}.{verb}", target=obj, before=before, after=after, user=user)

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        return self._audit(request, obj, "add", message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        return self._audit(request, obj, "change", message)

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> Any:
        # Called before the rows go: what they held is kept in the trail.
        from agents.services.audit import audit_entry, record_entries

        user = request.user if request.user.is_authenticated else None
        return record_entries(
            audit_entry(action=f"{obj._meta.model_name}.delete", target=obj, before=field_values(obj), user=user)
            for obj in queryset
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        from django.contrib.contenttypes.models import ContentType

        from agents.models import AuditLog

        admin: Any = self
        obj = admin.get_object(request, unquote(object_id))
        if obj is None:
            return admin._get_obj_does_not_exist_redirect(request, admin.opts, object_id)
        if not admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = trail_of(AuditLog.objects.all(), obj)
        paginator = admin.get_paginator(request, entries, HISTORY_PAGE)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        context = {
            **admin.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "action_list": page,
            "entries": [Entry.of(e, link_target=False) for e in page],
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.count > HISTORY_PAGE,
            "module_name": str(admin.opts.verbose_name_plural).capitalize(),
            "object": obj,
            "target_type_id": ContentType.objects.get_for_model(obj).pk,
            "opts": admin.opts,
            "preserved_filters": admin.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = admin.admin_site.name
        response: HttpResponse = TemplateResponse(request, HISTORY_TEMPLATE, context)
        return response


def trail_of(entries: models.QuerySet[Any], obj: models.Model) -> models.QuerySet[Any]:
    """A row's entries, newest first (the (target_type, target_id) index)."""
    from django.contrib.contenttypes.models import ContentType

    return (
        entries.filter(target_type=ContentType.objects.get_for_model(obj), target_id=str(obj.pk))
        .select_related("run")
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    """An AuditLog row as the console shows it: who, what, on which row (linked), and the values."""

    pk: int
    at: dt.datetime
    actor: str
    actor_type: str
    action: str
    target_label: str
    target_url: str
    run_id: int | None
    changes: tuple[Change, ...]
    notes: tuple[str, ...]
    repeat: int = 1  # in "Recent actions": this many entries of the same action in a row

    @classmethod
    def of(cls, entry: Any, *, link_target: bool = True) -> Entry:
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        notes = [str(after.get("note", ""))] if after.get("note") else []
        notes += [str(n) for n in after.get("related", []) if n]
        names = [n for n in dict.fromkeys([*before, *after]) if n not in ("note", "related")]
        changes = tuple(Change(n, _short(before.get(n, "")), _short(after.get(n, ""))) for n in names)
        label, url = _target(entry) if link_target else ("", "")
        return cls(
            pk=entry.pk,
            at=entry.at,
            actor=entry.actor,
            actor_type=entry.actor_type,
            action=entry.action,
            target_label=label,
            target_url=url,
            run_id=entry.run_id,
            changes=changes,
            notes=tuple(notes),
        )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _target(entry: Any) -> tuple[str, str]:
    kind = entry.target_type
    if kind is None:
        return "", ""
    label = f"{kind.name} #{entry.target_id}" if entry.target_id else str(kind.name)
    if not entry.target_id or entry.action.endswith(".delete"):
        return label, ""
    try:
        return label, reverse(f"admin:{kind.app_label}_{kind.model}_change", args=[entry.target_id])
    except NoReverseMatch:  # a model the console does not show
        return label, ""


def recent_entries(*, user: Any, limit: int = 10) -> list[Entry]:
    """The index's "Recent actions": the user's own latest entries, a run of the same action (the
    leads of one import, the rows of one bulk action) folded into its latest entry with a count.
    One query, on a bounded number of rows."""
    from agents.models import AuditLog

    rows = AuditLog.objects.filter(user=user).select_related("target_type").order_by("-at", "-pk")[: limit * 10]
    folded: list[Entry] = []
    for row in rows:
        if folded and folded[-1].action == row.action:
            folded[-1] = replace(folded[-1], repeat=folded[-1].repeat + 1)
        elif len(folded) == limit:
            break
        else:
            folded.append(Entry.of(row))
    return folded
