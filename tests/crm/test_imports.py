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


def test_the_first_data_row_is_line_two() -> None:
    report = import_leads_csv(file="email\nnot-an-email\n")
    assert [e.line for e in report.errors] == [2]


def test_utf16_files_with_a_byte_order_mark_are_read() -> None:
    # Excel's "Unicode text" export: read as UTF-8 it is a NUL between every letter.
    text = "Email\tFirst Name\nzoe@acme.example\tZoë\n"
    for codec in ("utf-16", "utf-32"):
        Lead.objects.all().delete()
        report = import_leads_csv(file=text.encode(codec))
        assert report.created == 1 and not report.errors, codec
        assert Lead.objects.get().first_name == "Zoë"


def test_a_row_the_csv_reader_refuses_is_reported_and_the_next_rows_still_read() -> None:
    text = "email,first name\na@acme.example,Al\nb@acme.example," + "B" * 200_000 + "\nc@acme.example,Cy\n"

    report = import_leads_csv(file=text)

    assert report.created == 2 and set(Lead.objects.values_list("email", flat=True)) == {
        "a@acme.example",
        "c@acme.example",
    }
    assert [e.line for e in report.errors] == [3] and "not readable as CSV" in report.errors[0].reason


def test_a_value_with_a_nul_is_refused_with_the_reason() -> None:
    report = import_leads_csv(file=b"email,first name\nn@acme.example,N\x00ul\nok@acme.example,Ok\n")

    assert report.created == 1 and "NUL" in report.errors[0].reason and report.errors[0].line == 2


def test_a_binary_file_is_refused_clearly_and_the_import_still_recorded() -> None:
    from agents.models import AuditLog

    report = import_leads_csv(file=bytes(range(256)) * 10)

    assert report.stored == 0 and "email column" in report.errors[0].reason
    assert all(c.isprintable() for column in report.ignored_columns for c in column)
    assert AuditLog.objects.filter(action="lead.import_csv").count() == 1


def test_two_columns_for_the_address_refuse_the_file_two_for_a_phone_take_the_first_filled() -> None:
    both = import_leads_csv(file="Email,Work Email,First Name\na@acme.example,b@acme.example,Al\n")
    assert both.stored == 0 and "more than one column gives the same field (email from 'Email', 'Work Email')" in str(
        both.errors[0]
    )

    phones = import_leads_csv(file="Email,Phone,Mobile\na@acme.example,,+49 30 1234567\n")
    assert phones.created == 1 and Lead.objects.get(email="a@acme.example").phone == "+49301234567"


def test_thousands_of_unknown_columns_make_a_short_summary() -> None:
    header = ",".join(["email", *(f"extra {i}" for i in range(3000))])
    report = import_leads_csv(file=f"{header}\na@acme.example\n")
    assert len(report.ignored_columns) == 3000 and "and 2980 more" in report.summary()
    assert len(report.summary()) < 1000
