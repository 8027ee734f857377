"""The operations console's admin site: the index is the agency's dashboard, every admin is audited.

Installed as Django's default site (``ConsoleAdminConfig.default_site``), so ``admin.site`` and
``@admin.register`` keep working everywhere, the admins of other apps (users, groups, beat's
schedules) included.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from smarter_team.audit_trail import AuditTrailMixin, recent_entries


def audited(admin_class: type[admin.ModelAdmin[Any]]) -> type[admin.ModelAdmin[Any]]:
    """``admin_class`` writing to the audit trail: itself when it already does (every BaseAdmin), else a
    subclass of the same name (an app's own admin, such as auth's UserAdmin)."""
    if issubclass(admin_class, AuditTrailMixin):
        return admin_class
    attrs = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
    return type(admin_class.__name__, (AuditTrailMixin, admin_class), attrs)


class ConsoleSite(admin.AdminSite):
    # Its titles are set in smarter_team/urls.py.

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        super().register(model_or_iterable, audited(admin_class or admin.ModelAdmin), **options)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from smarter_team import dashboard

        window = dashboard.Window.parse(request.GET.get("window"))
        context = {
            "dashboard": dashboard.gather(window=window),
            "recent_actions": recent_entries(user=request.user),
            **(extra_context or {}),
        }
        return super().index(request, context)
