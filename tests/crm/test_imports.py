"""CSV import: good rows stored, bad rows reported by line, re-imports idempotent, nothing blanked."""

from __future__ import annotations

import io

import pytest

from crm.models import Company, Lead
from crm.services.imports import import_leads_csv

pytestmark = pytest.mark.django_db

CSV = """Email,First Name,Last Name,Company,Website,Job Title,Phone,Country
jane@acme.example,Jane,Doe,ACME,https://www.acme.example,COO,030 1234567,Germany
not-an-email,Bad,Row,,,,,
john@acme.example,John,Roe,ACME,acme.example,CTO,+1 200 555 0123,US
"ana@globex.example","Ana","Lima","Globex, Inc.",globex.example,"Head of ""Ops"" EU",,Brazil
"""


def test_good_rows_are_stored_and_bad_rows_reported_with_line_and_reason() -> None:
    report = import_leads_csv(file=CSV)

    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [e.line for e in report.errors] == [3, 4]
    assert "email" in report.errors[0].reason and "not-an-email" in report.errors[0].reason
    assert "phone" in report.errors[1].reason
    jane = Lead.objects.get(email="jane@acme.example")
    assert (jane.phone, jane.country, jane.title, jane.source) == ("+49301234567", "DE", "COO", "csv_import")
    assert jane.company is not None and jane.company.domain == "acme.example"
    ana = Lead.objects.get(email="ana@globex.example")
    assert ana.title == 'Head of "Ops" EU' and ana.company is not None and ana.company.name == "Globex, Inc."


def test_reimporting_the_same_file_changes_nothing() -> None:
    import_leads_csv(file=CSV)
    before = list(Lead.objects.order_by("pk").values())

    again = import_leads_csv(file=CSV.encode("utf-8"))

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert list(Lead.objects.order_by("pk").values()) == before
    assert Company.objects.count() == 2


def test_blank_cells_never_erase_stored_values() -> None:
    import_leads_csv(file=CSV)

    report = import_leads_csv(file="email,title,phone,country\nJANE@acme.example,,,\n", overwrite=True)

    jane = Lead.objects.get(email="jane@acme.example")
    assert report.unchanged == 1
    assert (jane.title, jane.phone, jane.country, jane.first_name) == ("COO", "+49301234567", "DE", "Jane")


def test_without_overwrite_stored_values_win_and_blanks_are_filled() -> None:
    import_leads_csv(file="email,title\njane@acme.example,COO\n")

    report = import_leads_csv(file="email,title,seniority\njane@acme.example,Intern,C-level\n")

    jane = Lead.objects.get(email="jane@acme.example")
    assert report.updated == 1
    assert (jane.title, jane.seniority) == ("COO", "C-level")


def test_semicolon_files_with_a_bom_from_excel_are_read() -> None:
    data = "\ufeffE-Mail;Vorname;Nachname\r\nanna@firma.example;Anna;Schmidt\r\n".encode()

    report = import_leads_csv(file=io.BytesIO(data))

    assert report.created == 1
    assert Lead.objects.get().first_name == "Anna"


def test_cp1252_files_are_decoded() -> None:
    data = "email,name\nrene@firma.example,René Müller\n".encode("cp1252")

    import_leads_csv(file=data)

    assert Lead.objects.get().last_name == "Müller"


def test_a_full_name_column_is_split() -> None:
    import_leads_csv(file="email,full name\njane@acme.example,Doe, Jane\n")
    assert Lead.objects.count() == 0  # unquoted comma: more values than columns, reported not guessed

    report = import_leads_csv(file='email,full name\njane@acme.example,"Doe, Jane"\n')
    jane = Lead.objects.get()
    assert report.created == 1 and (jane.first_name, jane.last_name) == ("Jane", "Doe")


def test_line_numbers_count_physical_lines_of_multi_line_cells() -> None:
    text = 'email,title\na@acme.example,"Head of\nOperations"\nbroken,CTO\n'

    report = import_leads_csv(file=text)

    assert report.created == 1
    assert [e.line for e in report.errors] == [4]


def test_a_file_without_an_email_column_is_refused_as_a_whole() -> None:
    report = import_leads_csv(file="first name,last name\nJane,Doe\n")

    assert report.stored == 0 and report.errors[0].line == 1 and "email column" in report.errors[0].reason


def test_an_empty_file_is_reported() -> None:
    report = import_leads_csv(file="")
    assert report.errors and report.errors[0].line == 1


def test_unknown_columns_are_reported_and_blank_lines_skipped() -> None:
    report = import_leads_csv(file="email,favourite colour\njane@acme.example,blue\n,\n")

    assert report.created == 1 and not report.errors
    assert report.ignored_columns == ["favourite colour"]
    assert "ignored columns: favourite colour" in report.summary()
