"""CSV import of leads: every row validated and normalised, bad rows reported, good rows stored.

Rows go through ``create_or_update_lead`` one savepoint each, so a bad row never takes good rows
down with it, and importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, transaction

from agents.services.audit import record_change
from crm.services.lead_flow import lead_entered
from crm.services.leads import LeadDataError, create_or_update_lead

__all__ = ["HEADER_ALIASES", "ImportReport", "RowError", "import_leads_csv"]

MAX_ROWS = 50_000

# Column headings people actually use (English, plus German and French exports), folded
# (lower case, letters and digits only) -> lead data key.
HEADER_ALIASES: dict[str, str] = {
    **dict.fromkeys(["email", "emailaddress", "mail", "workemail", "businessemail", "emailadresse"], "email"),
    **dict.fromkeys(["firstname", "first", "givenname", "forename", "vorname", "prenom"], "first_name"),
    **dict.fromkeys(["lastname", "last", "surname", "familyname", "nachname", "nom"], "last_name"),
    **dict.fromkeys(["name", "fullname", "contactname", "contact"], "full_name"),
    **dict.fromkeys(
        ["company", "companyname", "organization", "organisation", "account", "accountname", "firma", "unternehmen"],
        "company",
    ),
    **dict.fromkeys(["domain", "companydomain", "website", "companywebsite", "url", "web"], "domain"),
    **dict.fromkeys(["title", "jobtitle", "position", "role"], "title"),
    **dict.fromkeys(["seniority", "level"], "seniority"),
    **dict.fromkeys(
        ["phone", "phonenumber", "mobile", "mobilephone", "directphone", "tel", "telephone", "telefon"], "phone"
    ),
    **dict.fromkeys(["country", "countrycode", "land", "pays"], "country"),
    **dict.fromkeys(["timezone", "tz", "time_zone"], "time_zone"),
    **dict.fromkeys(["linkedin", "linkedinurl", "linkedinprofile", "personlinkedinurl"], "linkedin_url"),
    **dict.fromkeys(["industry", "sector"], "industry"),
    **dict.fromkeys(["employees", "employeerange", "companysize", "headcount", "size"], "employee_range"),
    **dict.fromkeys(["revenue", "revenueband", "annualrevenue"], "revenue_band"),
    **dict.fromkeys(["id", "sourceid", "sourceref", "externalid", "recordid"], "source_ref"),
}


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        text = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {len(self.errors)} rejected"
        )
        if self.ignored_columns:
            text += f"; ignored columns: {', '.join(self.ignored_columns)}"
        return text


def _fold(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


def _decode(source: IO[bytes] | IO[str] | bytes | str) -> str:
    raw = source.read() if hasattr(source, "read") else source
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on Windows still writes cp1252; every byte decodes, and names come out right.
            return raw.decode("cp1252", errors="replace")
    return raw.removeprefix("\ufeff")


def _rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line number of the row, row) pairs; the dialect (comma, semicolon, tab) is sniffed."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    line = reader.line_num + 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def import_leads_csv(
    *,
    file: IO[bytes] | IO[str] | bytes | str,
    source: str = "csv_import",
    overwrite: bool = False,
    user: AbstractBaseUser | None = None,
) -> ImportReport:
    """Import leads from a CSV file with a header row; returns counts and every rejected line with its reason.

    Rows are matched to stored leads by normalised email (see ``create_or_update_lead``). With
    ``overwrite=False`` (default) stored values win and the file only fills blanks; blanks in the file
    never erase anything either way. The audit trail gets each lead created or updated (with the row's
    line) and the import's summary, as ``user``.
    """
    report = ImportReport()
    _import_file(report, file, source=source, overwrite=overwrite, user=user)
    # A file refused outright is an import that happened too: the summary is always recorded.
    summary = {"note": f"{source}: {report.summary()}", "created": report.created, "updated": report.updated}
    record_change(action="lead.import_csv", target=None, after=summary, user=user)
    return report


def _import_file(
    report: ImportReport,
    file: IO[bytes] | IO[str] | bytes | str,
    *,
    source: str,
    overwrite: bool,
    user: AbstractBaseUser | None,
) -> None:
    text = _decode(file)
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        report.errors.append(RowError(1, "the file is empty or has no header row"))
        return
    headers = list(first[1].keys())
    mapping = {h: HEADER_ALIASES.get(_fold(h)) for h in headers if h is not None}
    report.ignored_columns = [h for h, key in mapping.items() if key is None and h.strip()]
    if not {"email", "linkedin_url", "source_ref"} & set(mapping.values()):
        report.errors.append(RowError(1, "no email column (expected a header such as 'email' or 'Email Address')"))
        return
    _import_rows(report, _chain(first, rows), mapping, source=source, overwrite=overwrite, user=user)


def _chain(
    first: tuple[int, dict[str, str]], rest: Iterator[tuple[int, dict[str, str]]]
) -> Iterable[tuple[int, dict[str, str]]]:
    yield first
    yield from rest


def _import_rows(
    report: ImportReport,
    rows: Iterable[tuple[int, dict[str, str]]],
    mapping: dict[str, str | None],
    *,
    source: str,
    overwrite: bool,
    user: AbstractBaseUser | None,
) -> None:
    for count, (line, row) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            report.errors.append(RowError(line, f"stopped: a file holds at most {MAX_ROWS} rows, split it"))
            return
        if None in row:
            report.errors.append(RowError(line, "more values than columns (an unquoted delimiter?)"))
            continue
        data = {key: (row.get(h) or "").strip() for h, key in mapping.items() if key}
        if not any(data.values()):
            continue  # blank line
        data["source"] = source
        try:
            with transaction.atomic():
                result = create_or_update_lead(data=data, overwrite=overwrite)
                if result.created:
                    lead_entered(lead=result.lead, source=source)
                if result.created or result.updated_fields:
                    changed = {"created": True} if result.created else {"updated": list(result.updated_fields)}
                    after = {"source": source, "line": line, **changed}
                    record_change(action="lead.import", target=result.lead, after=after, user=user)
        except LeadDataError as exc:
            report.errors.append(RowError(line, str(exc)))
            continue
        except DatabaseError as exc:
            report.errors.append(RowError(line, f"not stored: {exc.__class__.__name__}"))
            continue
        if result.created:
            report.created += 1
        elif result.updated_fields:
            report.updated += 1
        else:
            report.unchanged += 1
