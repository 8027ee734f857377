from typing import Any

from django.core.management.base import BaseCommand

from smarter_team.permissions import ensure_staff_groups


class Command(BaseCommand):
    help = "Create the operator, manager and admin staff groups with their permissions (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in ensure_staff_groups().items():
            self.stdout.write(f"{name}: {count} permissions")
