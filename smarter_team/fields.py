"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models

from smarter_team.logging import redact


class RedactedTextField(models.TextField):
    """A TextField whose value is stored redacted (smarter_team.logging.redact): error texts quote
    exceptions, and an exception's text may carry a secret or an address.

    Applied when the value is prepared for the database, so ``save()`` and ``update()`` alike
    store it redacted. Deconstructs as a plain TextField: no migration, and none to conflict with.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return redact(value) if isinstance(value, str) and value else value

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs
