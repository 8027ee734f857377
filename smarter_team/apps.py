from typing import Any

from django.apps import AppConfig, apps
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


def _groups_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate fires once per app and each app's permissions are created in its own turn,
    # so the groups are filled only on the last app's signal, when every permission exists.
    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    from smarter_team.permissions import ensure_staff_groups

    ensure_staff_groups()


class SmarterTeamConfig(AppConfig):
    name = "smarter_team"
    verbose_name = "Smarter Team"

    def ready(self) -> None:
        post_migrate.connect(_groups_after_migrate, dispatch_uid="smarter_team_groups")


class ConsoleAdminConfig(AdminConfig):
    """Django's admin with the console's site (dashboard index, one audit trail) as ``admin.site``."""

    default_site = "smarter_team.admin_site.ConsoleSite"
