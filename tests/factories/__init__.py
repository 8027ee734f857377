"""One factory per model, in one module per app. ``factory_for(model)`` finds a model's factory."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from factory.django import DjangoModelFactory


def _all_factories() -> dict[type, type[DjangoModelFactory[Any]]]:
    found: dict[type, type[DjangoModelFactory[Any]]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DjangoModelFactory) and value is not DjangoModelFactory:
                model = value._meta.model
                if model is not None:
                    found.setdefault(model, value)
    return found


def factory_for(model: type) -> type[DjangoModelFactory[Any]]:
    factories = _all_factories()
    if model not in factories:
        raise LookupError(f"no factory for {model.__name__}: add one to tests/factories/")
    return factories[model]
