"""`manage.py verify_email ADDRESS... [--file PATH] [--offline]`: check a list before importing it.

Each address goes through the email_verification agent's own path (crm.services.email_checks) and
prints its verdict with the reason. ``--offline``: syntax and the throw-away/role lists only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.services.email_checks import check_address, get_resolver


class Command(BaseCommand):
    help = "Print each address's verdict (valid, risky, catch_all, invalid, disposable, role, unknown) and why."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addresses", nargs="*")
        parser.add_argument("--file", help="a file with one address per line (# comments allowed)")
        parser.add_argument("--offline", action="store_true", help="syntax and lists only: no MX, no provider")

    def handle(self, *args: Any, **options: Any) -> None:
        addresses = list(options["addresses"])
        if options["file"]:
            try:
                lines = Path(options["file"]).read_text(encoding="utf-8-sig").splitlines()
            except OSError as exc:
                raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from exc
            addresses += [line.split("#", 1)[0].strip() for line in lines]
        addresses = [a for a in addresses if a]
        if not addresses:
            raise CommandError("give addresses or --file PATH")
        offline = options["offline"]
        resolver = None if offline else get_resolver()
        verify = None
        if not offline:
            from integrations.roles import get_role

            verify = get_role("email_verifier").verify
        for address in addresses:
            check = check_address(address, offline=offline, resolver=resolver, verify=verify)
            self.stdout.write(f"{check.email}\t{check.status}\t{check.reason}")
