"""CSV import of leads: every row validated and normalised, bad rows reported, good rows stored.

Rows go through ``create_or_update_lead`` one savepoint each, so a bad row never takes good rows
down with it, and importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import codecs
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
IDENTITY = frozenset({"email", "linkedin_url", "source_ref"})  # what a row is matched to a stored lead by

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
            shown = self.ignored_columns[:SHOWN_COLUMNS]
            more = len(self.ignored_columns) - len(shown)
            text += f"; ignored columns: {', '.join(shown)}" + (f" and {more} more" if more else "")
        return text


SHOWN_COLUMNS = 20  # a file with thousands of columns still gets a summary a person can read


def _shown(header: str) -> str:
    """A heading as the report and the audit trail show it: control characters (a binary file's
    NULs, which PostgreSQL's JSON refuses) as their escapes, and never longer than a heading is."""
    printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in header)
    return printable if len(printable) <= 60 else printable[:59] + "…"


def _fold(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


def _decode(source: IO[bytes] | IO[str] | bytes | str) -> str:
    raw = source.read() if hasattr(source, "read") else source
    if isinstance(raw, bytes):
        # Excel's "Unicode text" export and some CRMs write UTF-16 with a byte-order mark; read as
        # UTF-8 it is a NUL between every letter and not one address survives. UTF-32's marks first:
        # its little-endian one begins with UTF-16's.
        for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32")):
            if raw.startswith(bom):
                return raw.decode(codec, errors="replace")
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return raw.decode("utf-16", errors="replace")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on Windows still writes cp1252; every byte decodes, and names come out right.
            return raw.decode("cp1252", errors="replace")
    return raw.removeprefix("\ufeff")


def _reader(text: str) -> csv.DictReader[str]:
    """A reader over the file; the dialect (comma, semicolon, tab) is sniffed."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)


# After this many rows the csv module could not read, the file is not a CSV the import can trust.
MAX_UNREADABLE = 20


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(first line number of the row, row) pairs, or (line, why) for a row the csv module refused
    (a field over its size limit, a stray quote): that row is reported and the next ones still read."""
    line = reader.line_num + 1
    unreadable = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            unreadable += 1
            if unreadable > MAX_UNREADABLE:
                yield line, f"stopped: more than {MAX_UNREADABLE} rows are not readable as CSV"
                return
            yield line, f"not readable as CSV: {exc}"
        else:
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
    reader = _reader(_decode(file))
    try:
        headers = [h for h in (reader.fieldnames or []) if h is not None]
    except csv.Error as exc:
        report.errors.append(RowError(1, f"the header row is not readable as CSV: {exc}"))
        return
    rows = _rows(reader)
    first = next(rows, None)
    if first is None:
        report.errors.append(RowError(1, "the file is empty or has no header row"))
        return
    mapping = {h: HEADER_ALIASES.get(_fold(h)) for h in headers}
    report.ignored_columns = [_shown(h) for h, key in mapping.items() if key is None and h.strip()]
    if not IDENTITY & set(mapping.values()):
        report.errors.append(RowError(1, "no email column (expected a header such as 'email' or 'Email Address')"))
        return
    # Two columns for what identifies the person ("Email" and "Work Email", or a heading repeated):
    # which one is the lead's is a guess, and a wrong guess writes to someone else. Refused whole.
    # Two for anything else ("Phone" and "Mobile"): the first one filled in a row is taken.
    given: dict[str, list[str]] = {}
    for header in headers:
        if (key := HEADER_ALIASES.get(_fold(header))) in IDENTITY:
            given.setdefault(key, []).append(header)
    twice = {key: columns for key, columns in given.items() if len(columns) > 1}
    if twice:
        said = "; ".join(f"{key} from {', '.join(repr(c) for c in columns)}" for key, columns in twice.items())
        report.errors.append(RowError(1, f"more than one column gives the same field ({said}): keep one of each"))
        return
    _import_rows(report, _chain(first, rows), mapping, source=source, overwrite=overwrite, user=user)


def _chain(
    first: tuple[int, dict[str, str] | str], rest: Iterator[tuple[int, dict[str, str] | str]]
) -> Iterable[tuple[int, dict[str, str] | str]]:
    yield first
    yield from rest


def _import_rows(
    report: ImportReport,
    rows: Iterable[tuple[int, dict[str, str] | str]],
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
        if isinstance(row, str):
            report.errors.append(RowError(line, row))
            continue
        if None in row:
            report.errors.append(RowError(line, "more values than columns (an unquoted delimiter?)"))
            continue
        data: dict[str, str] = {}
        for header, key in mapping.items():
            if key and not data.get(key):
                data[key] = (row.get(header) or "").strip()
        if any("\x00" in value for value in data.values()):
            # No name or address holds a NUL; PostgreSQL refuses to store one. A binary file, or
            # UTF-16 saved without its byte-order mark.
            report.errors.append(RowError(line, "a value holds a NUL character: is this a text CSV file?"))
            continue
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
