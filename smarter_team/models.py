"""Building blocks shared by every app's models: timestamps, status machines, money."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models

from smarter_team import clock


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=clock.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Bookkeeping only (no business logic): the project clock, not auto_now, so frozen and
        # accelerated time apply to timestamps too.
        self.updated_at = clock.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "updated_at"}
        super().save(*args, **kwargs)


class InvalidTransition(ValidationError):
    """A status change the model's state machine does not allow."""


class StatusMachine:
    """The allowed transitions of one status field: the one place they are checked.

    ``transitions`` maps a status to the statuses it may move to. A status missing from the
    mapping is terminal. Moving to the current status is always allowed (idempotent writes).
    """

    def __init__(self, transitions: Mapping[str, Iterable[str]], field: str = "status") -> None:
        self.field = field
        self.transitions = {str(k): frozenset(str(v) for v in vs) for k, vs in transitions.items()}

    def allowed(self, current: str, new: str) -> bool:
        return current == new or new in self.transitions.get(current, frozenset())

    def check(self, obj: models.Model, new: str) -> None:
        current = getattr(obj, self.field)
        if not self.allowed(current, new):
            allowed = ", ".join(sorted(self.transitions.get(current, frozenset()))) or "none (terminal)"
            raise InvalidTransition(
                f"{type(obj).__name__} {self.field} cannot go from {str(current)!r} to {str(new)!r}; "
                f"allowed: {allowed}",
                code="invalid_transition",
            )

    def apply(self, obj: models.Model, new: str, *, save: bool = True, also: Iterable[str] = ()) -> bool:
        """Check and set the new status; returns whether it changed.

        ``also`` names other fields the caller set alongside; they are saved even when the status
        stays the same (a second reschedule still writes its new time).
        """
        self.check(obj, new)
        also = list(also)
        changed = getattr(obj, self.field) != new
        if changed:
            setattr(obj, self.field, new)
        if save and (changed or also):
            obj.save(update_fields=[self.field, *also] if changed else also)
        return changed


class StatefulModel(TimeStampedModel):
    """A model with a ``status`` field governed by ``STATUS_MACHINE``."""

    STATUS_MACHINE: ClassVar[StatusMachine]

    class Meta:
        abstract = True

    def transition_to(self, new: str, *, save: bool = True, also: Iterable[str] = ()) -> bool:
        return self.STATUS_MACHINE.apply(self, new, save=save, also=also)


def choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """A database constraint that ``field`` holds one of ``choices`` (not only Python-side)."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


def money_field(**kwargs: Any) -> models.DecimalField:
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(**kwargs)


def currency_field(**kwargs: Any) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("default", "USD")
    kwargs.setdefault("help_text", "ISO 4217 code, upper case")
    return models.CharField(**kwargs)


def currency_check(name: str, field: str = "currency") -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(**{f"{field}__regex": r"^[A-Z]{3}$"}), name=name)
