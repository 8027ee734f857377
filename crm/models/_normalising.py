"""Normalise contact fields during model validation (full_clean), before the column length checks."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from django.core.exceptions import ValidationError
from django.db import models


def normalise_fields(
    obj: models.Model, normalisers: Mapping[str, Callable[[str], str]], exclude: Collection[str] | None
) -> dict[str, list[str]]:
    """Normalise contact fields in place before field validation; returns each field's error.

    Runs before the length checks, so "+1 (415) 555-0123" or "Germany" become values that fit their
    columns instead of failing on length with a message that helps nobody.
    """
    errors: dict[str, list[str]] = {}
    for name, normaliser in normalisers.items():
        value = getattr(obj, name)
        if (exclude and name in exclude) or value is None:
            continue
        if not str(value).strip():
            # Blank means "unknown"; a nullable column stores NULL so unique constraints allow many.
            setattr(obj, name, None if obj._meta.get_field(name).null else "")
            continue
        try:
            setattr(obj, name, normaliser(str(value)))
        except ValueError as exc:
            errors[name] = [str(exc)]
    return errors


def clean_fields_then(
    errors: dict[str, list[str]], exclude: Collection[str] | None, clean_fields: Callable[[set[str]], None]
) -> None:
    try:
        clean_fields({*(exclude or ()), *errors})
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **errors}) from None
    if errors:
        raise ValidationError(errors)
