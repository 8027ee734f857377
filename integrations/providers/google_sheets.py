"""Google Sheets: append rows to and read ranges of the agency's reporting sheets.

API reference: https://developers.google.com/sheets/api/reference/rest
Not a role of its own: report agents call this client directly. Shares the Google OAuth keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pydantic

from integrations.providers._google import GoogleClient

APPEND = "spreadsheets/{id}/values/{range}:append"  # https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/append
VALUES = "spreadsheets/{id}/values/{range}"  # https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/get


class _Updates(pydantic.BaseModel):
    updatedRange: str = ""
    updatedRows: int = 0


class AppendResult(pydantic.BaseModel):
    spreadsheetId: str
    updates: _Updates


class ValueRange(pydantic.BaseModel):
    range: str
    majorDimension: str = "ROWS"
    values: list[list[Any]] = []


class GoogleSheetsClient(GoogleClient):
    name = "google_sheets"
    base_url = "https://sheets.googleapis.com/v4"

    def append_rows(self, *, spreadsheet_id: str, range: str, rows: Sequence[Sequence[Any]]) -> int:
        """Append ``rows`` after the table in ``range`` (e.g. "Leads!A1"); returns rows written.

        Not idempotent at Google: a 5xx is not retried here, the caller's outbox decides.
        """
        result = self.post(
            APPEND.format(id=spreadsheet_id, range=quote(range, safe="!:")),
            operation="append_rows",
            model=AppendResult,
            params={"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
            json={"values": [list(row) for row in rows]},
        )
        return result.updates.updatedRows

    def get_values(self, *, spreadsheet_id: str, range: str) -> list[list[Any]]:
        return self.get(
            VALUES.format(id=spreadsheet_id, range=quote(range, safe="!:")), operation="get_values", model=ValueRange
        ).values

    def ping(self) -> str:
        return "uses the Google OAuth credentials (checked through Drive)"
