"""``manage.py sync_schedules``: write the schedules declared in code to django-celery-beat (on deploy)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agents.schedules import sync_schedules


class Command(BaseCommand):
    help = "Create or update the beat entries declared in code, keeping operators' edits and disables."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_schedules()
        for label, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("kept operator edit", report.kept),
            ("disabled (gone from code)", report.disabled),
        ):
            for name in names:
                self.stdout.write(f"{label}: {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"schedules in sync: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.kept)} operator edits kept, {len(report.disabled)} disabled"
            )
        )
